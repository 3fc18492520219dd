/**
 * JSON schemas of the API's routes: Fastify validates requests and serialises responses
 * with them, and @fastify/swagger turns them into the OpenAPI document at /api/docs.
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

const findingSchema = {
  type: 'object',
  properties: {
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
  required: ['class', 'classIndex', 'areaPx', 'areaPct', 'bbox', 'centroid', 'polygon'],
} as const;

const toothSchema = {
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
  },
  required: ['fdi', 'name', 'areaPx', 'bbox', 'centroid', 'polygon', 'score'],
} as const;

const linksSchema = {
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
  },
  required: ['self', 'original', 'mask', 'overlay', 'probability'],
} as const;

const imageSchema = {
  type: 'object',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    format: { type: 'string', enum: ['jpeg', 'png', 'tiff', 'bmp', 'dicom'] },
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

const userSchema = {
  type: 'string',
  nullable: true,
  description:
    "who created it: a user of the server's tokens (`admin` for --token); null on a server without tokens",
} as const;

const qualitySchema = {
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
        enum: ['blank', 'not a panoramic X-ray', 'inverted?', 'low contrast', 'noisy', 'blurred'],
      },
      description: 'what is wrong, in words a dentist reads; empty for a good panoramic',
    },
    withheld: { type: 'boolean', description: 'findings, teeth and missing were withheld' },
  },
  required: ['panoramic', 'score', 'issues'],
} as const;

const analysisSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    created: { type: 'string', format: 'date-time' },
    filename: { type: 'string' },
    user: userSchema,
    image: imageSchema,
    model: modelRefSchema,
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
    'links',
  ],
} as const;

const summarySchema = {
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
    links: linksSchema,
  },
  required: ['id', 'created', 'user', 'image', 'model', 'findingsCount', 'areaPct', 'links'],
} as const;

const errors = (...codes: number[]): Record<number, typeof errorSchema> =>
  Object.fromEntries(codes.map((c) => [c, errorSchema]));

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

const security = [{ bearer: [] as string[] }];

export const healthRoute = {
  summary: 'Server status, queue and model in use',
  description:
    'Open to all. On a server with tokens, a request without a valid token gets only `status` and `version`; `analyses` counts what the caller may see.',
  tags: ['service'],
  response: {
    200: {
      type: 'object',
      required: ['status', 'version'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        version: { type: 'string' },
        model: { type: 'string' },
        engine: { type: 'string' },
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
    },
  },
} as const;

export const modelRoute = {
  summary: 'The model card: name, version, task, metrics, licence',
  tags: ['service'],
  security,
  response: {
    200: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        version: { type: 'string' },
        task: { type: 'string' },
        classes: { type: 'array', items: { type: 'string' } },
        engine: { type: 'string' },
        input: { type: 'object', additionalProperties: true },
        architecture: { type: 'object', additionalProperties: true },
        metrics: { type: 'object', additionalProperties: true },
        training: { type: 'object', additionalProperties: true },
        licence: { type: 'string' },
        card: { type: 'string', description: 'MODEL_CARD.md (Markdown), empty when absent' },
      },
    },
    ...errors(401),
  },
} as const;

/** An analysis still on the queue (or failed there): `dentseg serve --queue`. */
const jobStatusSchema = {
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

export const fileRoute = {
  summary:
    'An image of the analysis: original X-ray, mask (0/255, or class index), overlay, probability (0–255), or the numbered chart (models that number teeth; 404 otherwise)',
  tags: ['analyses'],
  security,
  params: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      file: {
        type: 'string',
        enum: ['original.png', 'mask.png', 'overlay.png', 'probability.png', 'chart.png'],
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
