/**
 * The dentist's review as pure changes to a stored analysis: each takes the current record
 * and returns the new one with its audit entries (what `Store.update` writes atomically).
 * The model's output is never overwritten: edited findings and renumbered teeth keep the
 * model's values in `original`, and every change is an audit entry with its before/after.
 */
import { DentsegError } from '../errors.js';
import { isPermanentFdi, toothName } from '../numbering/index.js';
import type { RecordChange } from './store-api.js';
import type {
  AnalysisRecord,
  AuditAction,
  AuditEntry,
  FindingJson,
  ReviewedJson,
  ToothJson,
} from './types.js';

/** Who makes a change, and when (ISO 8601). */
export interface Actor {
  readonly user: string | null;
  readonly at: string;
}

/** PATCH …/findings/{findingId}: the verdict and, optionally, a corrected tooth, type or note. */
export interface FindingPatch {
  readonly review: 'accepted' | 'rejected';
  /** FDI number 11–48, or null for "on no tooth". */
  readonly tooth?: number | null;
  readonly type?: string;
  /** Replaces the finding's note; empty removes it. */
  readonly note?: string;
}

/** POST …/findings: a finding the dentist drew. */
export interface FindingDraft {
  /** Polygon of at least 3 [x, y] points in original-image pixels, inside the image. */
  readonly outline: readonly (readonly [number, number])[];
  readonly type: string;
  readonly tooth: number | null;
}

/** PATCH …/teeth/{fdi}: a new number and/or presence. */
export interface ToothPatch {
  readonly fdi?: number;
  readonly present?: boolean;
}

function entry(actor: Actor, action: AuditAction, before: unknown, after: unknown): AuditEntry {
  return { at: actor.at, user: actor.user, action, before, after };
}

function invalid(message: string, hint?: string): DentsegError {
  return new DentsegError('E_REVIEW_INVALID', message, hint === undefined ? {} : { hint });
}

function checkTooth(tooth: number | null | undefined): void {
  if (tooth === undefined || tooth === null) return;
  if (!isPermanentFdi(tooth)) {
    throw invalid(
      `tooth must be a permanent FDI number (11–18, 21–28, 31–38, 41–48); received ${tooth}`,
    );
  }
}

/** Accept or reject a finding, optionally correcting its tooth, type or note. */
export function reviewFinding(
  record: AnalysisRecord,
  findingId: string,
  patch: FindingPatch,
  actor: Actor,
): RecordChange {
  const before = record.findings.find((f) => f.id === findingId);
  if (!before) {
    throw new DentsegError(
      'E_NOT_FOUND',
      `finding ${findingId} of analysis ${record.id} not found`,
    );
  }
  checkTooth(patch.tooth);
  const type = patch.type ?? before.type;
  const tooth = patch.tooth === undefined ? before.tooth : patch.tooth;
  const changed = type !== before.type || tooth !== before.tooth;
  // The model's values, kept from the first edit on; drawn findings have none to keep.
  const original =
    before.original ??
    (changed && before.review !== 'added' ? { type: before.type, tooth: before.tooth } : undefined);
  const edited = original !== undefined && (type !== original.type || tooth !== original.tooth);
  const review =
    patch.review === 'rejected'
      ? 'rejected'
      : before.review === 'added'
        ? 'added'
        : edited
          ? 'edited'
          : 'accepted';
  const { note: oldNote, original: _o, ...rest } = before;
  const note = patch.note === undefined ? oldNote : patch.note;
  const after: FindingJson = {
    ...rest,
    review,
    type,
    tooth,
    ...(note ? { note } : {}),
    ...(original ? { original } : {}),
  };
  return {
    record: { ...record, findings: record.findings.map((f) => (f.id === findingId ? after : f)) },
    audit: [entry(actor, changed ? 'finding.edit' : 'finding.review', before, after)],
  };
}

/** Twice the signed area of a polygon (shoelace). */
function signedArea2(points: readonly (readonly [number, number])[]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i] as readonly [number, number];
    const [x1, y1] = points[(i + 1) % points.length] as readonly [number, number];
    a += x0 * y1 - x1 * y0;
  }
  return a;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Add a finding the dentist drew (`a1`, `a2`, …; review `added`). */
export function addFinding(
  record: AnalysisRecord,
  draft: FindingDraft,
  actor: Actor,
): RecordChange {
  const { width, height } = record.image;
  const pts = draft.outline;
  if (pts.length < 3) throw invalid(`outline needs at least 3 points; received ${pts.length}`);
  pts.forEach(([x, y], i) => {
    if (!(
      Number.isFinite(x) &&
      Number.isFinite(y) &&
      x >= 0 &&
      y >= 0 &&
      x <= width &&
      y <= height
    )) {
      throw invalid(
        `outline point ${i} [${x}, ${y}] lies outside the ${width}×${height} image`,
        'give [x, y] points in the X-ray’s pixels, 0 ≤ x ≤ width, 0 ≤ y ≤ height',
      );
    }
  });
  checkTooth(draft.tooth);
  const a2 = signedArea2(pts);
  if (a2 === 0) throw invalid('the outline encloses no area');
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < pts.length; i++) {
    const [x0, y0] = pts[i] as readonly [number, number];
    const [x1, y1] = pts[(i + 1) % pts.length] as readonly [number, number];
    const cross = x0 * y1 - x1 * y0;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const minX = Math.floor(Math.min(...xs));
  const minY = Math.floor(Math.min(...ys));
  const areaPx = Math.round(Math.abs(a2) / 2);
  const n =
    1 +
    Math.max(0, ...record.findings.map((f) => (/^a\d+$/.test(f.id) ? Number(f.id.slice(1)) : 0)));
  const binary = record.model.task === 'binary';
  const classIndex = binary
    ? draft.type === record.classes[0]
      ? 1
      : 0
    : Math.max(0, record.classes.indexOf(draft.type));
  const finding: FindingJson = {
    id: `a${n}`,
    review: 'added',
    type: draft.type,
    tooth: draft.tooth,
    class: draft.type,
    classIndex,
    areaPx,
    areaPct: round((100 * areaPx) / (width * height), 3),
    bbox: [minX, minY, Math.ceil(Math.max(...xs)) - minX, Math.ceil(Math.max(...ys)) - minY],
    centroid: [round(cx / (3 * a2), 1), round(cy / (3 * a2), 1)],
    polygon: pts.map(([x, y]) => [x, y] as [number, number]),
  };
  return {
    record: { ...record, findings: [...record.findings, finding] },
    audit: [entry(actor, 'finding.add', null, finding)],
  };
}

/** `tooth` with number `fdi` (name updated, the model's number kept in `original`). */
function renumbered(tooth: ToothJson, fdi: number): ToothJson {
  const { original: _o, ...rest } = tooth;
  const original = tooth.original ?? { fdi: tooth.fdi };
  const back = original.fdi === fdi; // renumbered back to the model's number
  return {
    ...rest,
    fdi,
    name: toothName(fdi),
    review: back ? 'suggested' : 'edited',
    ...(back ? {} : { original }),
  };
}

const ascending = (a: number, b: number): number => a - b;
const byFdi = (a: ToothJson, b: ToothJson): number => a.fdi - b.fdi;

/**
 * Renumber a tooth (onto a number another tooth has: the two swap, each audited) and/or
 * mark it missing or present. `restore` is the tooth as it was when it was marked missing
 * (from the audit); without one, a tooth marked present that the model did not find is
 * added without an outline.
 */
export function patchTooth(
  record: AnalysisRecord,
  fdi: number,
  patch: ToothPatch,
  actor: Actor,
  restore?: ToothJson,
): RecordChange {
  let teeth = [...record.teeth];
  let missing = [...record.missing];
  const audit: AuditEntry[] = [];
  const found = teeth.find((t) => t.fdi === fdi);
  if (!found && !missing.includes(fdi)) {
    throw new DentsegError('E_NOT_FOUND', `tooth ${fdi} of analysis ${record.id} not found`, {
      hint: 'the analysis numbers teeth only when its model does; see its teeth and missing',
    });
  }
  checkTooth(patch.fdi);
  let current = fdi;
  if (patch.fdi !== undefined && patch.fdi !== fdi) {
    if (!found) throw invalid(`tooth ${fdi} is marked missing; mark it present before renumbering`);
    const target = patch.fdi;
    const other = teeth.find((t) => t.fdi === target);
    const moved = renumbered(found, target);
    audit.push(entry(actor, 'tooth.renumber', found, moved));
    teeth = teeth.map((t) => (t === found ? moved : t));
    if (other) {
      // The number is taken: the two teeth swap.
      const swapped = renumbered(other, fdi);
      audit.push(entry(actor, 'tooth.renumber', other, swapped));
      teeth = teeth.map((t) => (t === other ? swapped : t));
    } else {
      missing = [...missing.filter((m) => m !== target), fdi].sort(ascending);
    }
    current = target;
  }
  if (patch.present === false) {
    const tooth = teeth.find((t) => t.fdi === current);
    if (tooth) {
      teeth = teeth.filter((t) => t !== tooth);
      missing = [...missing, current].sort(ascending);
      audit.push(entry(actor, 'tooth.present', tooth, { fdi: current, present: false }));
    }
  } else if (patch.present === true && !teeth.some((t) => t.fdi === current)) {
    const back: ToothJson =
      restore && restore.fdi === current
        ? restore
        : {
            fdi: current,
            name: toothName(current),
            areaPx: 0,
            bbox: [0, 0, 0, 0],
            centroid: [0, 0],
            polygon: [],
            score: 0,
            review: 'added',
          };
    teeth.push(back);
    missing = missing.filter((m) => m !== current);
    audit.push(entry(actor, 'tooth.present', { fdi: current, present: false }, back));
  }
  return {
    record: { ...record, teeth: teeth.sort(byFdi), missing },
    audit,
  };
}

/** Mark the whole analysis reviewed (again: the latest review wins, both audited). */
export function markReviewed(record: AnalysisRecord, note: string, actor: Actor): RecordChange {
  const reviewed: ReviewedJson = { by: actor.user, at: actor.at, note };
  return {
    record: { ...record, reviewed },
    audit: [entry(actor, 'analysis.review', record.reviewed, reviewed)],
  };
}

/** What the audit keeps of a mask: which model's, and a digest of its PNG. */
export interface MaskRef {
  readonly model: string;
  /** `mask.png` (the model's) or `mask.corrected.png`. */
  readonly file: string;
  /** SHA-256 of the PNG, hex. */
  readonly sha256: string;
}

/** Record a corrected mask of `model` (the file itself is written beside the model's). */
export function correctMask(
  record: AnalysisRecord,
  before: MaskRef,
  after: MaskRef & { readonly changedPx: number },
  actor: Actor,
): RecordChange {
  const masks = record.corrections.masks.includes(after.model)
    ? record.corrections.masks
    : [...record.corrections.masks, after.model];
  return {
    record: { ...record, corrections: { ...record.corrections, masks } },
    audit: [entry(actor, 'mask.correct', before, after)],
  };
}
