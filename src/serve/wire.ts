/**
 * The API's JSON types, derived from the route schemas (schemas.ts) so that they are
 * written once: change a schema and the server, the store and the web page follow, or fail
 * to compile. Types only and no Node: the web page imports them too.
 *
 * The schemas say "array of numbers" for boxes and outlines; the fields the pipeline
 * computes (area, box, centre, outline, score) take their exact types from the pipeline's
 * own types instead, and a compile-time check keeps those within what the schemas say.
 */
import type { Finding } from '../imaging/findings.js';
import type { InputQuality, QualityIssue } from '../imaging/quality-words.js';
import type { ToothReport } from '../numbering/teeth.js';
import type {
  analysisSchema,
  auditEntrySchema,
  findingSchema,
  healthSchema,
  jobStatusSchema,
  linksSchema,
  modelCardSchema,
  qualitySchema,
  reviewedSchema,
  reviewStateSchema,
  summarySchema,
  toothSchema,
} from './schemas.js';

/** Flattens an intersection so that editors show one object type. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The TypeScript type of a JSON value that `S` (an `as const` schema) accepts, for the
 * subset of JSON Schema / OpenAPI 3.0 the routes use: `type` (object, array, string,
 * number, integer, boolean, null), `properties` + `required` (the rest optional),
 * `additionalProperties`, `items`, `enum`, `const`, `anyOf`/`oneOf`, and `nullable: true`
 * (adds `| null`). Objects and arrays come out readonly. A schema without a type (e.g. only
 * a description) is `unknown`.
 */
export type FromSchema<S> = S extends { readonly nullable: true }
  ? FromNonNullable<S> | null
  : FromNonNullable<S>;

type FromNonNullable<S> = S extends { readonly anyOf: readonly unknown[] }
  ? FromSchema<S['anyOf'][number]>
  : S extends { readonly oneOf: readonly unknown[] }
    ? FromSchema<S['oneOf'][number]>
    : S extends { readonly const: infer C }
      ? C
      : S extends { readonly enum: readonly (infer E)[] }
        ? E
        : S extends { readonly type: 'object' }
          ? FromObject<S>
          : S extends { readonly type: 'array'; readonly items: infer I }
            ? readonly FromSchema<I>[]
            : S extends { readonly type: 'string' }
              ? string
              : S extends { readonly type: 'number' | 'integer' }
                ? number
                : S extends { readonly type: 'boolean' }
                  ? boolean
                  : S extends { readonly type: 'null' }
                    ? null
                    : unknown;

type RequiredKeys<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type FromObject<S> = Simplify<
  (S extends { readonly properties: infer P }
    ? { readonly [K in keyof P & RequiredKeys<S>]: FromSchema<P[K]> } & {
        readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: FromSchema<P[K]>;
      }
    : unknown) &
    (S extends { readonly additionalProperties: infer A }
      ? A extends false
        ? unknown
        : Readonly<Record<string, A extends true ? unknown : FromSchema<A>>>
      : unknown)
>;

/** Fails to compile unless `T` is `true`: a type-level assertion. */
export type Assert<T extends true> = T;
/** Whether `A` and `B` are the same type. */
export type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * Where a finding or tooth stands in the dentist's review: `suggested` (the model's output,
 * untouched), `accepted`, `rejected`, `edited` (tooth or type changed; the model's values
 * kept in `original`) or `added` (drawn by the dentist). Kept apart from the analysis'
 * processing `status`.
 */
export type ReviewState = FromSchema<typeof reviewStateSchema>;

type FindingSchemaJson = FromSchema<typeof findingSchema>;

/**
 * One connected region found in the mask (the pipeline's `Finding`), or one drawn by the
 * dentist (`review: 'added'`), with its id and review fields.
 */
export type FindingJson = Simplify<FindingReview & Readonly<Finding>>;

/** The fields a finding has on the server beyond what the pipeline computes. */
export type FindingReview = Omit<FindingSchemaJson, keyof Finding>;

/** One numbered tooth (`dentseg predict`'s `X.json` entry) with its review fields. */
export type ToothJson = Simplify<
  Omit<FromSchema<typeof toothSchema>, keyof ToothReport> & Readonly<ToothReport>
>;

/** Who marked an analysis reviewed, when, and their note. */
export type ReviewedJson = NonNullable<FromSchema<typeof reviewedSchema>>;

/** Audit actions, one per kind of change. */
export type AuditAction = AuditEntry['action'];

/** One append-only audit entry: who changed what, when, from what to what. */
export type AuditEntry = FromSchema<typeof auditEntrySchema>;

/** Links sent with every analysis (`chart`: models that number teeth; `maskCorrected`: once stored). */
export type AnalysisLinks = FromSchema<typeof linksSchema>;

/** The input check: panoramic or not, a score 0…1, the issues in words, and `withheld`. */
export type QualityJson = FromSchema<typeof qualitySchema>;

type AnalysisSchemaJson = FromSchema<typeof analysisSchema>;

/**
 * An analysis as GET/POST answer it (201/200): the findings and teeth with the pipeline's
 * exact geometry types.
 */
export type AnalysisJson = Simplify<
  Omit<AnalysisSchemaJson, 'findings' | 'teeth'> & {
    readonly findings: readonly FindingJson[];
    readonly teeth: readonly ToothJson[];
  }
>;

/** An item of GET /api/v1/analyses. */
export type AnalysisSummaryJson = FromSchema<typeof summarySchema>;

/** An analysis on the queue (202, or GET while a worker has it): queued, running or failed. */
export type JobStatusJson = FromSchema<typeof jobStatusSchema>;

/** GET /api/v1/model: the model card. */
export type ModelCardJson = FromSchema<typeof modelCardSchema>;

/** GET /api/v1/health: status and version; with access also the models, engine and queue. */
export type HealthJson = FromSchema<typeof healthSchema>;

// Compile-time checks: the schemas describe every field the pipeline computes, with a type
// the pipeline's values fit, and the vocabulary the quality check uses.
type _WireChecks = [
  Assert<Finding extends Pick<FindingSchemaJson, keyof Finding> ? true : false>,
  Assert<
    ToothReport extends Pick<FromSchema<typeof toothSchema>, keyof ToothReport> ? true : false
  >,
  Assert<Same<QualityJson['issues'][number], QualityIssue>>,
  Assert<InputQuality extends Omit<QualityJson, 'withheld'> ? true : false>,
];
