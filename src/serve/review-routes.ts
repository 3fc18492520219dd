/**
 * The review routes: accept/reject/edit findings, draw new ones, renumber teeth or mark them
 * missing, store a corrected mask, mark the analysis reviewed, and read the audit. Each
 * change runs through `Store.update` (one transaction) with the caller as the audit's user;
 * a user changes only their own analyses (admins any), answered 404 otherwise, like GET.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import sharp, { type OutputInfo } from 'sharp';
import { DentsegError } from '../errors.js';
import { maskPng } from '../infer/index.js';
import type { Auth, RequestWithUser } from './auth.js';
import { notFound } from './http-errors.js';
import {
  addFinding,
  correctMask,
  markReviewed,
  patchTooth,
  reviewFinding,
  type Actor,
  type FindingDraft,
  type FindingPatch,
  type ToothPatch,
} from './review.js';
import * as schemas from './schemas.js';
import type { RecordChange, Store } from './store-api.js';
import {
  API_PREFIX,
  lesionMaskFile,
  linksFor,
  type AnalysisFileName,
  type AnalysisRecord,
  type ToothJson,
} from './types.js';
import { readUpload, requireMultipart } from './upload.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The model whose mask is corrected: binary (0/255) or its classes (class indices). */
export interface MaskModel {
  readonly task: 'binary' | 'multiclass';
  readonly classes: readonly string[];
}

/** Where a model's mask of an analysis is kept, and its correction. */
interface MaskFiles extends MaskModel {
  readonly file: AnalysisFileName;
  readonly corrected: AnalysisFileName;
}

/**
 * The mask files of model `name` in `record`: the teeth model's `mask.png` (its task and
 * classes), or a lesion model's `<type>.png` (binary); undefined when the analysis has no
 * such model.
 */
function maskFilesOf(record: AnalysisRecord, name: string): MaskFiles | undefined {
  if (name === record.model.name) {
    return {
      task: record.model.task,
      classes: record.classes,
      file: 'mask.png',
      corrected: 'mask.corrected.png',
    };
  }
  const lesion = record.models?.find((m) => m.name === name && m.role === 'lesion');
  if (!lesion?.type) return undefined;
  return {
    task: 'binary',
    classes: ['background', lesion.type],
    file: lesionMaskFile(lesion.type),
    corrected: lesionMaskFile(lesion.type, true),
  };
}

/**
 * A corrected mask as the store keeps it: a one-channel PNG of the X-ray's size, 0/255 for
 * a binary model (0/1 accepted too), class indices for a multi-class one; plus its pixels.
 */
export async function checkCorrectedMask(
  record: AnalysisRecord,
  png: Buffer,
  of: MaskModel = { task: record.model.task, classes: record.classes },
): Promise<{ png: Buffer; pixels: Uint8Array }> {
  if (png.length < PNG_MAGIC.length || !png.subarray(0, PNG_MAGIC.length).equals(PNG_MAGIC)) {
    throw new DentsegError('E_IMAGE_FORMAT', 'a corrected mask must be a PNG', {
      hint: 'send it as the multipart field "file" (curl -F file=@mask.png -X PUT …)',
    });
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new DentsegError('E_IMAGE_DECODE', 'the corrected mask PNG cannot be decoded', {
      cause,
    });
  }
  const { width, height } = record.image;
  if (raw.info.width !== width || raw.info.height !== height) {
    throw new DentsegError(
      'E_MASK_MISMATCH',
      `the corrected mask is ${raw.info.width}×${raw.info.height}; the X-ray is ${width}×${height}`,
      { hint: 'send a mask of the X-ray’s size (the size of its mask.png)' },
    );
  }
  const binary = of.task === 'binary';
  const limit = binary ? 256 : of.classes.length;
  const pixels = new Uint8Array(raw.data.length);
  for (let i = 0; i < raw.data.length; i++) {
    const v = raw.data[i] as number;
    if (binary ? v !== 0 && v !== 1 && v !== 255 : v >= limit) {
      throw new DentsegError(
        'E_MASK_VALUES',
        binary
          ? `a binary model's mask holds 0 and 255 only; found ${v}`
          : `the model has ${limit} classes (0–${limit - 1}); the mask holds ${v}`,
        { hint: 'save the mask without anti-aliasing or colour' },
      );
    }
    pixels[i] = binary ? (v ? 1 : 0) : v;
  }
  return { png: await maskPng(pixels, width, height, binary), pixels };
}

/** Pixels whose class differs between two stored mask PNGs (0/255 or class index). */
async function changedPixels(a: Buffer, b: Uint8Array, binary: boolean): Promise<number> {
  const old = await sharp(a).extractChannel(0).raw().toBuffer();
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const v = old[i] ?? 0;
    if ((binary ? (v ? 1 : 0) : v) !== b[i]) n += 1;
  }
  return n;
}

/** Register the review routes on `app` (after auth is installed). */
export function registerReviewRoutes(app: FastifyInstance, store: Store, auth: Auth): void {
  const base = `${API_PREFIX}/analyses/:id`;
  const actor = (request: RequestWithUser): Actor => ({
    user: auth.creator(request),
    at: new Date().toISOString(),
  });
  const withLinks = (record: AnalysisRecord): Record<string, unknown> => ({
    ...record,
    links: linksFor(record.id, record),
    status: 'done',
  });
  /** Apply `change` to analysis `id` as the caller may see it; 404 when they may not. */
  const apply = async (
    id: string,
    request: RequestWithUser,
    change: (record: AnalysisRecord) => RecordChange,
  ): Promise<Record<string, unknown>> => {
    const record = await store.update(id, change, auth.owner(request));
    if (!record) throw notFound(`analysis ${id}`);
    return withLinks(record);
  };

  app.patch<{ Params: { id: string; findingId: string }; Body: FindingPatch }>(
    `${base}/findings/:findingId`,
    { schema: schemas.patchFindingRoute },
    async (request) => {
      const { id, findingId } = request.params;
      const who = actor(request);
      return apply(id, request, (r) => reviewFinding(r, findingId, request.body, who));
    },
  );

  app.post<{ Params: { id: string }; Body: FindingDraft }>(
    `${base}/findings`,
    { schema: schemas.addFindingRoute },
    async (request, reply) => {
      const who = actor(request);
      const out = await apply(request.params.id, request, (r) => addFinding(r, request.body, who));
      return reply.code(201).send(out);
    },
  );

  app.patch<{ Params: { id: string; fdi: number }; Body: ToothPatch }>(
    `${base}/teeth/:fdi`,
    { schema: schemas.patchToothRoute },
    async (request) => {
      const { id, fdi } = request.params;
      const who = actor(request);
      // A tooth marked present again comes back as it was when it was marked missing.
      let restore: ToothJson | undefined;
      if (request.body.present === true && request.body.fdi === undefined) {
        const entries = await store.audit(id);
        for (const e of entries) {
          const after = e.after as { fdi?: unknown; present?: unknown } | null;
          if (e.action === 'tooth.present' && after?.fdi === fdi && after.present === false) {
            restore = e.before as ToothJson;
          }
        }
      }
      return apply(id, request, (r) => patchTooth(r, fdi, request.body, who, restore));
    },
  );

  app.put<{ Params: { id: string; model: string } }>(
    `${base}/masks/:model`,
    { schema: schemas.putMaskRoute, onRequest: requireMultipart },
    async (request) => {
      const { id, model } = request.params;
      const owner = auth.owner(request);
      const record = await store.get(id, owner);
      if (!record) throw notFound(`analysis ${id}`);
      const target = maskFilesOf(record, model);
      if (!target) {
        const names = (record.models ?? [record.model]).map((m) => m.name).join(', ');
        throw notFound(`model ${model} of analysis ${id} (its models: ${names})`);
      }
      const { buf } = await readUpload(request);
      const mask = await checkCorrectedMask(record, buf, target);
      const previousName = record.corrections.masks.includes(model)
        ? target.corrected
        : target.file;
      const previous = await store.readFile(id, previousName, owner);
      if (!previous) throw notFound(`analysis ${id}`);
      const changedPx = await changedPixels(previous, mask.pixels, target.task === 'binary');
      if (!(await store.addFile(id, target.corrected, mask.png))) {
        throw notFound(`analysis ${id}`);
      }
      const who = actor(request);
      return apply(id, request, (r) =>
        correctMask(
          r,
          { model, file: previousName, sha256: sha256(previous) },
          { model, file: target.corrected, sha256: sha256(mask.png), changedPx },
          who,
        ),
      );
    },
  );

  app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
    `${base}/review`,
    {
      schema: schemas.reviewRoute,
      // The body is optional: no body is no note.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const who = actor(request);
      const note = request.body?.note ?? '';
      return apply(request.params.id, request, (r) => markReviewed(r, note, who));
    },
  );

  app.get<{ Params: { id: string } }>(
    `${base}/audit`,
    { schema: schemas.auditRoute },
    async (request) => {
      const { id } = request.params;
      const owner = auth.owner(request);
      const entries = await store.audit(id);
      if (await store.get(id, owner)) return entries;
      // A deleted analysis' audit stays readable to those who may read every analysis: its
      // owner is no longer recorded anywhere but in the entries themselves.
      if (owner === undefined && entries.length > 0) return entries;
      throw notFound(`analysis ${id}`);
    },
  );
}
