/**
 * JSON schemas of the API's routes: Fastify validates requests and serialises responses
 * with them, and @fastify/swagger turns them into the OpenAPI document at /api/docs.
 * The API's TypeScript types are derived from them (wire.ts): no imports here, so that the
 * web page can use those types.
 */

const errorSchema = {
  type: 'object',
  description: 'Every failure: a stable code (docs/errors.md) and a readable message.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'E_IMAGE_FORMAT' },
        message: { type: 'string' },
        hint: { type: 'string' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

export const reviewStateSchema = {
  type: 'string',
  enum: ['suggested', 'accepted', 'rejected', 'edited', 'added'],
  description:
    "the dentist's review: suggested (model output), accepted, rejected, edited (tooth or type changed), added (drawn)",
} as const;

const toothNumberSchema = { type: 'integer', minimum: 11, maximum: 48 } as const;

export const findingSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: "f1, f2, … in the model's order; drawn ones a1, a2, …" },
    review: reviewStateSchema,
    type: { type: 'string', description: 'what it is, e.g. caries (the class unless edited)' },
    tooth: {
      ...toothNumberSchema,
      nullable: true,
      description:
        'FDI number of the tooth the finding lies on (a lesion: the tooth it overlaps most), else null',
    },
    note: { type: 'string' },
    original: {
      type: 'object',
      description: "the model's type and tooth, once edited",
      properties: { type: { type: 'string' }, tooth: { ...toothNumberSchema, nullable: true } },
      required: ['type', 'tooth'],
    },
    surface: {
      type: 'string',
      // null listed too: a nullable enum must name it for the validator (and OpenAPI 3.0).
      enum: ['mesial', 'distal', 'occlusal', null],
      nullable: true,
      description:
        'lesion findings: where on its tooth (from its position within the tooth), or null when not decidable',
    },
    score: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description:
        "lesion findings: the model's confidence, the mean probability inside the region",
    },
    model: {
      type: 'string',
      description: 'the name of the model (of `models`) that found it; absent before model sets',
    },
    class: { type: 'string' },
    classIndex: { type: 'integer' },
    areaPx: { type: 'integer', description: 'area in original-image pixels' },
    areaPct: { type: 'number', description: 'area as % of the image (0–100)' },
    bbox: { type: 'array', items: { type: 'number' }, description: '[x, y, width, height]' },
    centroid: { type: 'array', items: { type: 'number' }, description: '[x, y]' },
    polygon: {
      type: 'array',
      items: { type: 'array', items: { type: 'number' } },
      description: 'outline as [x, y] points',
    },
  },
  required: [
    'id',
    'review',
    'type',
    'tooth',
    'class',
    'classIndex',
    'areaPx',
    'areaPct',
    'bbox',
    'centroid',
    'polygon',
  ],
} as const;

export const toothSchema = {
  type: 'object',
  description: "one numbered tooth, as in `dentseg predict`'s X.json",
  properties: {
    fdi: { type: 'integer', minimum: 11, maximum: 48, description: 'FDI number' },
    name: { type: 'string', example: 'lower left first molar' },
    areaPx: { type: 'integer', description: 'area in original-image pixels' },
    bbox: {
      type: 'array',
      items: { type: 'number' },
      description: "[x, y, width, height] over all of the tooth's pixels",
    },
    centroid: { type: 'array', items: { type: 'number' }, description: '[x, y]' },
    polygon: {
      type: 'array',
      items: { type: 'array', items: { type: 'number' } },
      description: "outline of the tooth's largest region as [x, y] points",
    },
    score: { type: 'number', minimum: 0, maximum: 1, description: 'confidence of the number' },
    review: reviewStateSchema,
    original: {
      type: 'object',
      description: "the model's number, once renumbered",
      properties: { fdi: toothNumberSchema },
      required: ['fdi'],
    },
  },
  required: ['fdi', 'name', 'areaPx', 'bbox', 'centroid', 'polygon', 'score', 'review'],
} as const;

export const linksSchema = {
  type: 'object',
  properties: {
    self: { type: 'string' },
    original: { type: 'string' },
    mask: { type: 'string' },
    overlay: { type: 'string' },
    probability: { type: 'string' },
    chart: {
      type: 'string',
      description: 'the numbered chart (PNG); only when the model numbers teeth',
    },
    maskCorrected: {
      type: 'string',
      description: "the dentist's corrected mask (PNG); only once one was stored",
    },
    audit: { type: 'string', description: 'the append-only audit of changes' },
    masks: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        "each model's mask by model name (the teeth model's is `mask`); absent before model sets",
    },
  },
  required: ['self', 'original', 'mask', 'overlay', 'probability', 'audit'],
} as const;

const imageSchema = {
  type: 'object',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    format: { type: 'string', enum: ['jpeg', 'png', 'tiff', 'bmp', 'dicom'] },
    pixelSpacingMm: {
      type: 'array',
      items: { type: 'number', exclusiveMinimum: 0 },
      minItems: 2,
      maxItems: 2,
      description:
        "[row, column] distance between pixel centres in mm, from a DICOM's PixelSpacing (else ImagerPixelSpacing); absent when the upload gives none (areas are then in pixels only)",
    },
  },
  required: ['width', 'height', 'format'],
} as const;

const modelRefSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    engine: { type: 'string' },
    task: { type: 'string', enum: ['binary', 'multiclass'] },
  },
  required: ['name', 'version', 'engine', 'task'],
} as const;

/** One model of the set that analysed an X-ray, and where its mask is kept. */
export const setModelSchema = {
  type: 'object',
  properties: {
    ...modelRefSchema.properties,
    role: {
      type: 'string',
      enum: ['teeth', 'outline', 'lesion'],
      description:
        'teeth: the binary or numbering teeth model (its mask is mask.png); outline: a binary teeth model drawing which pixels are tooth for the numbering model (the teeth of mask.png); lesion: its regions are findings',
    },
    type: {
      type: 'string',
      description: 'what a lesion model finds (e.g. caries); absent for the teeth model',
    },
    mask: {
      type: 'string',
      description:
        "the file of the model's mask under the analysis (mask.png for the teeth model, <type>.png for a lesion model, 0/255)",
    },
    toothGate: {
      type: 'object',
      properties: {
        applied: { type: 'boolean' },
        marginPx: {
          type: 'integer',
          description: 'applied: how far from a tooth a region may lie, px',
        },
        dropped: {
          type: 'integer',
          description: 'applied: regions dropped (gone from findings and mask)',
        },
        reason: {
          type: 'string',
          description: 'not applied: why (e.g. no teeth model in the set)',
        },
      },
      required: ['applied'],
      description:
        'lesion models whose dentseg.json asks for postprocess.toothGate: regions off the teeth dropped, or why not',
    },
    enhanced: {
      type: 'string',
      description:
        'models that enhance their input (preprocess.enhance or --enhance): the steps applied to this X-ray (none, deblur:5, denoise:0.098, …)',
    },
  },
  required: [...modelRefSchema.required, 'role', 'mask'],
} as const;

const userSchema = {
  type: 'string',
  nullable: true,
  description:
    "who created it: a user of the server's tokens (`admin` for --token); null on a server without tokens",
} as const;

export const reviewedSchema = {
  type: 'object',
  nullable: true,
  description: 'set once the dentist marked the analysis reviewed, else null',
  properties: {
    by: { type: 'string', nullable: true, description: 'the reviewing user' },
    at: { type: 'string', format: 'date-time' },
    note: { type: 'string' },
  },
  required: ['by', 'at', 'note'],
} as const;

const correctionsSchema = {
  type: 'object',
  properties: {
    masks: {
      type: 'array',
      items: { type: 'string' },
      description: 'models whose mask the dentist corrected (mask.corrected.png)',
    },
  },
  required: ['masks'],
} as const;

export const qualitySchema = {
  type: 'object',
  description:
    'the input check: whether it looks like a panoramic dental X-ray (when not, findings, teeth and missing are withheld, i.e. empty, unless the server runs with --force) and what is wrong with it; absent on analyses stored before the check existed',
  properties: {
    panoramic: { type: 'boolean' },
    score: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'probability of a panoramic X-ray',
    },
    issues: {
      type: 'array',
      items: {
        type: 'string',
        // QUALITY_ISSUES of src/imaging/panoramic.ts (a test keeps the two equal).
        enum: [
          'blank',
          'not a panoramic X-ray',
          'inverted?',
          'low contrast',
          'noisy',
          'blurred',
          'blurred by motion',
        ],
      },
      description: 'what is wrong, in words a dentist reads; empty for a good panoramic',
    },
    withheld: { type: 'boolean', description: 'findings, teeth and missing were withheld' },
  },
  required: ['panoramic', 'score', 'issues'],
} as const;

export const analysisSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    created: { type: 'string', format: 'date-time' },
    filename: { type: 'string' },
    user: userSchema,
    image: imageSchema,
    model: {
      ...modelRefSchema,
      description:
        'the teeth model (the first of `models`): `classes`, `teeth`, `missing` and mask.png are its',
    },
    models: {
      type: 'array',
      items: setModelSchema,
      description:
        'every model that analysed the X-ray, the teeth model first; absent on analyses stored before model sets',
    },
    classes: { type: 'array', items: { type: 'string' } },
    threshold: { type: 'number' },
    findings: { type: 'array', items: findingSchema },
    teeth: {
      type: 'array',
      items: toothSchema,
      description:
        'the teeth found, ascending by FDI number; always present, empty when the model does not number teeth',
    },
    missing: {
      type: 'array',
      items: { type: 'integer', minimum: 11, maximum: 48 },
      description:
        'FDI numbers (11–48) not found, ascending: with `teeth`, every number once; always present, empty when the model does not number teeth',
    },
    quality: qualitySchema,
    elapsedMs: { type: 'number' },
    timings: { type: 'object', additionalProperties: { type: 'number' } },
    reviewed: reviewedSchema,
    corrections: correctionsSchema,
    links: linksSchema,
    status: { type: 'string', enum: ['done'], description: 'processing state: done' },
  },
  required: [
    'id',
    'created',
    'user',
    'image',
    'model',
    'classes',
    'threshold',
    'findings',
    'teeth',
    'missing',
    'reviewed',
    'corrections',
    'links',
  ],
} as const;

export const summarySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    created: { type: 'string', format: 'date-time' },
    filename: { type: 'string' },
    user: userSchema,
    image: imageSchema,
    model: modelRefSchema,
    findingsCount: { type: 'integer' },
    areaPct: { type: 'number', description: 'total found area, % of the image' },
    reviewed: reviewedSchema,
    links: linksSchema,
  },
  required: ['id', 'created', 'user', 'image', 'model', 'findingsCount', 'areaPct', 'links'],
} as const;

export const errors = (...codes: number[]): Record<number, typeof errorSchema> =>
  Object.fromEntries(codes.map((c) => [c, errorSchema]));

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

export const security = [{ bearer: [] as string[] }];

/** GET /api/v1/health's answer. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'version'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    version: { type: 'string' },
    model: {
      type: 'string',
      description: 'the teeth model (the first of `models`) as `name@version`',
      example: 'teeth-fdi@0.1.0',
    },
    models: {
      type: 'array',
      items: { type: 'string' },
      description:
        'every model of the set as `name@version`, the teeth model first (one entry for a single model)',
      example: ['teeth-fdi@0.1.0', 'caries@0.1.0'],
    },
    engine: { type: 'string', description: "the teeth model's engine" },
    backend: { type: 'string' },
    queue: {
      type: 'object',
      properties: {
        running: { type: 'integer' },
        waiting: { type: 'integer' },
        limit: { type: 'integer' },
      },
    },
    analyses: { type: 'integer' },
    uptimeS: { type: 'number' },
  },
} as const;

export const healthRoute = {
  summary: 'Server status, queue and the models in use',
  description:
    'Open to all. On a server with tokens, a request without a valid token gets only `status` and `version`; `analyses` counts what the caller may see.',
  tags: ['service'],
  response: { 200: healthSchema },
} as const;

/** What the model card and each model of its set name alike. */
const cardIdentityProperties = {
  name: { type: 'string' },
  version: { type: 'string' },
  task: { type: 'string' },
  classes: { type: 'array', items: { type: 'string' } },
  engine: { type: 'string' },
} as const;

/** GET /api/v1/model: the model card. */
export const modelCardSchema = {
  type: 'object',
  properties: {
    ...cardIdentityProperties,
    input: { type: 'object', additionalProperties: true },
    architecture: { type: 'object', additionalProperties: true },
    metrics: { type: 'object', additionalProperties: true },
    training: { type: 'object', additionalProperties: true },
    licence: { type: 'string' },
    card: { type: 'string', description: 'MODEL_CARD.md (Markdown), empty when absent' },
    models: {
      type: 'array',
      description:
        'the model set every upload runs, the teeth model first (whose card the fields above are)',
      items: {
        type: 'object',
        properties: {
          ...cardIdentityProperties,
          role: setModelSchema.properties.role,
          type: setModelSchema.properties.type,
          licence: { type: 'string' },
        },
        required: ['name', 'version', 'task', 'classes', 'engine', 'role', 'licence'],
      },
    },
  },
} as const;

export const modelRoute = {
  summary: 'The model card: name, version, task, metrics, licence',
  tags: ['service'],
  security,
  response: {
    200: modelCardSchema,
    ...errors(401),
  },
} as const;

/** An analysis still on the queue (or failed there): `dentseg serve --queue`. */
export const jobStatusSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['queued', 'running', 'failed'] },
    created: { type: 'string', format: 'date-time' },
    filename: { type: 'string' },
    user: userSchema,
    error: {
      type: 'object',
      nullable: true,
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
    links: { type: 'object', properties: { self: { type: 'string' } }, required: ['self'] },
  },
  required: ['id', 'status', 'links'],
} as const;

export const createRoute = {
  summary: 'Analyse an X-ray (multipart field `file`: JPEG, PNG, TIFF, BMP or DICOM)',
  tags: ['analyses'],
  consumes: ['multipart/form-data'],
  security,
  response: {
    201: analysisSchema,
    202: jobStatusSchema,
    ...errors(400, 401, 403, 413, 415, 503),
  },
} as const;

/**
 * The multipart body of POST /api/v1/analyses, for the OpenAPI document only: the body is
 * streamed by @fastify/multipart, so Fastify must not validate it (see app.ts).
 */
export const createBodyDoc = {
  type: 'object',
  properties: { file: { type: 'string', format: 'binary', description: 'the X-ray file' } },
  required: ['file'],
} as const;

export const listRoute = {
  summary: "Past analyses, newest first (a user's own; every analysis for an admin)",
  tags: ['analyses'],
  security,
  querystring: {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      offset: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        items: { type: 'array', items: summarySchema },
        total: { type: 'integer' },
        limit: { type: 'integer' },
        offset: { type: 'integer' },
      },
      required: ['items', 'total', 'limit', 'offset'],
    },
    ...errors(400, 401),
  },
} as const;

export const getRoute = {
  summary: 'One analysis with its findings, or its processing status while on the queue',
  tags: ['analyses'],
  security,
  params: idParams,
  response: {
    200: { anyOf: [analysisSchema, jobStatusSchema] },
    ...errors(400, 401, 404, 503),
  },
} as const;

/** The files every analysis may have (the teeth model's mask is mask.png). */
export const FIXED_FILES = [
  'original.png',
  'mask.png',
  'overlay.png',
  'probability.png',
  'chart.png',
  'mask.corrected.png',
] as const;

/**
 * A lesion model's mask file, `<type>.png`, or its correction: a finding type is
 * lower-case letters, digits and dashes, so that the name is safe as a path.
 */
export const LESION_FILE_PATTERN = '^[a-z][a-z0-9-]{0,31}(\\.corrected)?\\.png$';

export const fileRoute = {
  summary:
    "An image of the analysis: original X-ray, mask (the teeth model's: 0/255, or class index), overlay, probability (0–255), the numbered chart (models that number teeth; 404 otherwise), or a lesion model's mask (e.g. caries.png, 0/255)",
  tags: ['analyses'],
  security,
  params: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      file: {
        anyOf: [
          { type: 'string', enum: FIXED_FILES },
          {
            type: 'string',
            pattern: LESION_FILE_PATTERN,
            description:
              "a lesion model's mask, `<type>.png` (0/255; see the analysis' `models`), or its correction `<type>.corrected.png`",
          },
        ],
      },
    },
    required: ['id', 'file'],
  },
  produces: ['image/png'],
  response: {
    200: { description: 'PNG image', type: 'string', format: 'binary' },
    ...errors(400, 401, 404),
  },
} as const;

export const deleteRoute = {
  summary: 'Delete an analysis and its images',
  tags: ['analyses'],
  security,
  params: idParams,
  response: { 204: { description: 'deleted', type: 'null' }, ...errors(400, 401, 403, 404) },
} as const;

// --- Review: the dentist's verdicts and corrections (review-routes.ts). Unknown body
// fields are refused (400), so that a misspelt key never silently changes nothing.

const findingParams = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    // Any text: an id that names no finding is a 404, as an unknown analysis is.
    findingId: { type: 'string', maxLength: 64, description: 'f1, f2, … or a1, a2, …' },
  },
  required: ['id', 'findingId'],
} as const;

const reviewedAnalysis = { 200: analysisSchema, ...errors(400, 401, 403, 404, 503) } as const;

export const patchFindingRoute = {
  summary: 'Accept or reject a finding; a changed tooth or type makes it `edited`',
  description:
    "The model's type and tooth stay in `original`; the change is audited (`finding.review`, or `finding.edit` when tooth or type changed). Answers the whole analysis.",
  tags: ['review'],
  security,
  params: findingParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      review: { type: 'string', enum: ['accepted', 'rejected'] },
      tooth: { ...toothNumberSchema, nullable: true, description: 'FDI number, or null' },
      type: { type: 'string', minLength: 1, maxLength: 64 },
      note: { type: 'string', maxLength: 2000, description: 'replaces the note; empty removes it' },
    },
    required: ['review'],
  },
  response: reviewedAnalysis,
} as const;

export const addFindingRoute = {
  summary: 'Add a finding the dentist drew (review `added`, id `a1`, `a2`, …)',
  tags: ['review'],
  security,
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      outline: {
        type: 'array',
        minItems: 3,
        maxItems: 10000,
        items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
        description: 'polygon as [x, y] points in X-ray pixels, inside the image',
      },
      type: { type: 'string', minLength: 1, maxLength: 64 },
      tooth: { ...toothNumberSchema, nullable: true, description: 'FDI number, or null' },
    },
    required: ['outline', 'type', 'tooth'],
  },
  response: { 201: analysisSchema, ...errors(400, 401, 403, 404, 503) },
} as const;

export const patchToothRoute = {
  summary: 'Renumber a tooth (onto a used number: the two swap) or mark it missing/present',
  description:
    "A renumbered tooth keeps the model's number in `original`; a tooth marked missing moves to `missing` (the audit keeps it) and back when marked present. Each tooth changed is one audit entry.",
  tags: ['review'],
  security,
  params: {
    type: 'object',
    properties: { id: { type: 'string', format: 'uuid' }, fdi: toothNumberSchema },
    required: ['id', 'fdi'],
  },
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { fdi: toothNumberSchema, present: { type: 'boolean' } },
  },
  response: reviewedAnalysis,
} as const;

export const putMaskRoute = {
  summary: "Store a corrected mask of one of the analysis' models (multipart field `file`: PNG)",
  description:
    "The PNG must have the X-ray's size (else 422 E_MASK_MISMATCH) and hold 0/255 for a binary model or class indices for a multi-class one (else 422 E_MASK_VALUES); not a PNG: 415 E_IMAGE_FORMAT. The teeth model's is kept as `mask.corrected.png` beside its untouched `mask.png`, a lesion model's (0/255) as `<type>.corrected.png` beside `<type>.png`; a later correction replaces it (the audit keeps each one's SHA-256).",
  tags: ['review'],
  consumes: ['multipart/form-data'],
  security,
  params: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      model: {
        type: 'string',
        description: "the name of one of the analysis' models (`model.name`, or one of `models`)",
      },
    },
    required: ['id', 'model'],
  },
  response: { 200: analysisSchema, ...errors(400, 401, 403, 404, 413, 415, 422, 503) },
} as const;

/** The multipart body of PUT …/masks/{model}, for the OpenAPI document only. */
export const putMaskBodyDoc = {
  type: 'object',
  properties: { file: { type: 'string', format: 'binary', description: 'the corrected mask PNG' } },
  required: ['file'],
} as const;

export const reviewRoute = {
  summary: 'Mark the whole analysis reviewed (`reviewed: { by, at, note }`)',
  tags: ['review'],
  security,
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { note: { type: 'string', maxLength: 10000 } },
  },
  response: reviewedAnalysis,
} as const;

export const auditEntrySchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    user: { type: 'string', nullable: true },
    action: {
      type: 'string',
      enum: [
        'finding.review',
        'finding.edit',
        'finding.add',
        'tooth.renumber',
        'tooth.present',
        'mask.correct',
        'analysis.review',
        'analysis.delete',
      ],
    },
    before: { description: 'the changed object before (null for additions)' },
    after: { description: 'the changed object after (null for deletions)' },
  },
  required: ['at', 'user', 'action', 'before', 'after'],
} as const;

export const auditRoute = {
  summary: 'The append-only audit of an analysis: every change with user and time, oldest first',
  description:
    'Kept after the analysis is deleted (ending with `analysis.delete`): then only an admin (or anyone on a server without tokens) still reads it; other users get 404.',
  tags: ['review'],
  security,
  params: idParams,
  response: { 200: { type: 'array', items: auditEntrySchema }, ...errors(400, 401, 404, 503) },
} as const;
