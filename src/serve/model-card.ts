/**
 * The model card served at GET /api/v1/model: the model folder's dentseg.json facts plus
 * its MODEL_CARD.md, with the licence pulled out so clients need not parse Markdown.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { lesionTypeOf, setRoles, type LoadedModel, type ModelRole } from '../infer/index.js';

/** One model of the set, as GET /api/v1/model lists it under `models`. */
export interface SetModelCardJson {
  readonly name: string;
  readonly version: string;
  readonly task: string;
  readonly classes: readonly string[];
  readonly engine: string;
  readonly role: ModelRole;
  /** Lesion models: the finding type (e.g. caries). */
  readonly type?: string;
  readonly licence: string;
}

/** What GET /api/v1/model returns. */
export interface ModelCardJson {
  readonly name: string;
  readonly version: string;
  readonly task: string;
  readonly classes: readonly string[];
  readonly engine: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly architecture: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly training: Readonly<Record<string, unknown>>;
  /** The licence as the card states it, or a sentence saying it does not. */
  readonly licence: string;
  /** MODEL_CARD.md as Markdown; empty when the folder has none. */
  readonly card: string;
  /** The set every upload runs, the teeth model first (absent from {@link modelCard}). */
  readonly models?: readonly SetModelCardJson[];
}

/**
 * The licence text of a model card: the first paragraph under a "Licence"/"License"
 * heading, or a "Licence: …" line; undefined when the card states none.
 */
export function licenceFromCard(card: string): string | undefined {
  const lines = card.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    const inline = /^[-*\s]*\**licen[cs]e\**\s*[:：]\s*\**\s*(.+)$/i.exec(line);
    if (inline?.[1]) return inline[1].replace(/\*+/g, '').trim();
    if (/^#+\s*licen[cs]e/i.test(line)) {
      const para: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const next = (lines[j] as string).trim();
        if (next.startsWith('#')) break;
        if (next === '' && para.length > 0) break;
        if (next !== '') para.push(next);
      }
      if (para.length > 0) return para.join(' ');
    }
  }
  return undefined;
}

/** Build the card for a loaded model (reads MODEL_CARD.md from its folder when present). */
export async function modelCard(model: LoadedModel): Promise<ModelCardJson> {
  let card = '';
  try {
    card = await readFile(path.join(model.dir, 'MODEL_CARD.md'), 'utf8');
  } catch {
    card = '';
  }
  const meta = model.meta;
  const extra = meta as unknown as { licence?: unknown; license?: unknown };
  const metaLicence =
    typeof extra.licence === 'string'
      ? extra.licence
      : typeof extra.license === 'string'
        ? extra.license
        : undefined;
  return {
    name: meta.name,
    version: meta.version,
    task: meta.task,
    classes: [...meta.classes],
    engine: model.engine.name,
    input: { ...meta.input },
    architecture: { ...meta.architecture },
    metrics: { ...(meta.metrics ?? {}) },
    training: { ...(meta.training ?? {}) },
    licence:
      metaLicence ??
      licenceFromCard(card) ??
      'not stated in the model folder (no MODEL_CARD.md licence)',
    card,
  };
}

/**
 * The card of a model set: `main`'s card (the teeth model: its fields as before sets) plus
 * `models`, every model of the set with its role, the teeth model first.
 */
export async function setCard(
  main: LoadedModel,
  models: readonly LoadedModel[],
): Promise<ModelCardJson> {
  const ordered = [main, ...models.filter((m) => m !== main)];
  const roles = setRoles(ordered.map((m) => m.meta));
  const cards = await Promise.all(ordered.map((m) => modelCard(m)));
  return {
    ...(cards[0] as ModelCardJson),
    models: cards.map((c, i) => {
      const meta = (ordered[i] as LoadedModel).meta;
      const type = lesionTypeOf(meta);
      return {
        name: c.name,
        version: c.version,
        task: c.task,
        classes: c.classes,
        engine: c.engine,
        role: roles[i]!,
        ...(type !== undefined ? { type } : {}),
        licence: c.licence,
      };
    }),
  };
}
