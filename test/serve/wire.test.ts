// The API's TypeScript types come from its JSON schemas (src/serve/wire.ts). The type
// assertions here are checked by `tsc` (the project's type-check includes test/): the
// mapper on small schemas of each kind, and spot checks of the derived API types.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Finding } from '../../src/imaging/findings.js';
import { reviewStateSchema } from '../../src/serve/schemas.js';
import { REVIEW_STATES } from '../../src/serve/types.js';
import type { AnalysisRecord } from '../../src/serve/types.js';
import type {
  AnalysisJson,
  AuditEntry,
  FindingJson,
  FromSchema,
  JobStatusJson,
  ReviewState,
  ToothJson,
} from '../../src/serve/wire.js';

describe('FromSchema', () => {
  it('maps scalars, enums, const and nullable', () => {
    expectTypeOf<FromSchema<{ type: 'string' }>>().toEqualTypeOf<string>();
    expectTypeOf<FromSchema<{ type: 'integer'; minimum: 1 }>>().toEqualTypeOf<number>();
    expectTypeOf<FromSchema<{ type: 'number' }>>().toEqualTypeOf<number>();
    expectTypeOf<FromSchema<{ type: 'boolean' }>>().toEqualTypeOf<boolean>();
    expectTypeOf<FromSchema<{ type: 'null' }>>().toEqualTypeOf<null>();
    expectTypeOf<FromSchema<{ type: 'string'; enum: readonly ['a', 'b'] }>>().toEqualTypeOf<
      'a' | 'b'
    >();
    expectTypeOf<FromSchema<{ const: 3 }>>().toEqualTypeOf<3>();
    expectTypeOf<FromSchema<{ type: 'string'; nullable: true }>>().toEqualTypeOf<string | null>();
    expectTypeOf<FromSchema<{ description: 'anything' }>>().toEqualTypeOf<unknown>();
  });

  it('maps objects (required vs optional), arrays, maps and unions', () => {
    type Obj = FromSchema<{
      type: 'object';
      properties: { a: { type: 'string' }; b: { type: 'integer'; nullable: true } };
      required: readonly ['a'];
    }>;
    expectTypeOf<Obj>().toEqualTypeOf<{ readonly a: string; readonly b?: number | null }>();
    expectTypeOf<
      FromSchema<{ type: 'array'; items: { type: 'array'; items: { type: 'number' } } }>
    >().toEqualTypeOf<readonly (readonly number[])[]>();
    expectTypeOf<
      FromSchema<{ type: 'object'; additionalProperties: { type: 'number' } }>
    >().toEqualTypeOf<{ readonly [k: string]: number }>();
    expectTypeOf<
      FromSchema<{ anyOf: readonly [{ type: 'string' }, { type: 'boolean' }] }>
    >().toEqualTypeOf<string | boolean>();
  });
});

describe('the API types derived from the schemas', () => {
  it('keep the pipeline geometry and the schemas’ review fields', () => {
    expectTypeOf<ReviewState>().toEqualTypeOf<
      'suggested' | 'accepted' | 'rejected' | 'edited' | 'added'
    >();
    expectTypeOf<FindingJson['bbox']>().toEqualTypeOf<Finding['bbox']>();
    expectTypeOf<FindingJson['tooth']>().toEqualTypeOf<number | null>();
    expectTypeOf<FindingJson['original']>().toEqualTypeOf<
      { readonly type: string; readonly tooth: number | null } | undefined
    >();
    expectTypeOf<ToothJson['review']>().toEqualTypeOf<ReviewState>();
    expectTypeOf<AnalysisJson['user']>().toEqualTypeOf<string | null>();
    expectTypeOf<AnalysisJson['reviewed']>().toEqualTypeOf<{
      readonly by: string | null;
      readonly at: string;
      readonly note: string;
    } | null>();
    expectTypeOf<AnalysisRecord['findings']>().toEqualTypeOf<readonly FindingJson[]>();
    expectTypeOf<AuditEntry['before']>().toEqualTypeOf<unknown>();
    expectTypeOf<JobStatusJson['status']>().toEqualTypeOf<'queued' | 'running' | 'failed'>();
  });

  it('lists the review states in the schema', () => {
    expect(REVIEW_STATES).toEqual(reviewStateSchema.enum);
    expect(REVIEW_STATES).toEqual(['suggested', 'accepted', 'rejected', 'edited', 'added']);
  });
});
