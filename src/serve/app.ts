/**
 * The HTTP API and web page as a Fastify instance, built apart from `listen` so tests can
 * drive it with `app.inject()`. Routes, auth, limits, queue and storage are wired here; the
 * work itself lives in analyse.ts (inference) and store.ts (persistence).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { DentsegError } from '../errors.js';
import { checkModelSet, setRoles, type LoadedModel } from '../infer/index.js';
import { VERSION } from '../version.js';
import { analyseUpload, chartFromStored, overlayFromStored } from './analyse.js';
import { combineUsers, installAuth, loggerOptions, type UserToken } from './auth.js';
import { notFound, toHttpFailure } from './http-errors.js';
import { setCard, type ModelCardJson } from './model-card.js';
import { trackRouteMethods } from './methods.js';
import { InferenceQueue } from './queue.js';
import { registerReportRoutes } from './report-routes.js';
import { registerReviewRoutes } from './review-routes.js';
import { registerSecurity } from './security.js';
import * as schemas from './schemas.js';
import { readUpload, requireMultipart } from './upload.js';
import { AnalysisStore } from './store.js';
import type { Store } from './store-api.js';
import type { HealthJson } from './wire.js';
import { enqueueUpload, jobView, sharedQueueHealth } from './enqueue.js';
import type { JobQueue } from './jobs.js';
import {
  API_PREFIX,
  isAnalysisFileName,
  linksFor,
  numbersTeeth,
  type AnalysisFileName,
  type AnalysisRecord,
} from './types.js';

/** Options of {@link buildApp}; everything but the model(s) and `dataDir` has a default. */
export interface AppOptions {
  /** One loaded model (from `loadModel`): a set of one. The app does not dispose it. */
  readonly model?: LoadedModel | undefined;
  /**
   * The model set every upload runs (from `loadModelSet`; at most one teeth model, lesion
   * models after it), instead of `model`. The app does not dispose them.
   */
  readonly models?: readonly LoadedModel[] | undefined;
  /** Folder for the SQLite database and analysis images (created if missing). */
  readonly dataDir: string;
  /**
   * The store to use instead of SQLite in `dataDir` (e.g. PostgreSQL); the caller closes it.
   */
  readonly store?: Store | undefined;
  /**
   * A shared job queue (BullMQ): uploads are answered 202 and analysed by workers. Without
   * it, analyses run in this process and uploads are answered 201.
   */
  readonly jobs?: JobQueue | undefined;
  /**
   * When set, every /api/v1 route but health needs `Authorization: Bearer <token>`; the
   * token is one admin user named `admin`.
   */
  readonly token?: string | undefined;
  /** Users and token digests (from `readTokensFile`); with any, /api/v1 needs a user's token. */
  readonly users?: readonly UserToken[] | undefined;
  /** Largest upload in bytes (default 50 MB); larger → 413. */
  readonly maxUploadBytes?: number | undefined;
  /** Largest image in pixels, width × height (default 40 M); larger → 413. */
  readonly maxPixels?: number | undefined;
  /** Analyses running or waiting at once (default 32); one more → 503. */
  readonly queueLimit?: number | undefined;
  /**
   * Probability threshold for stored masks and findings, 0–1 (default: each model's
   * `postprocess.threshold`, else 0.5).
   */
  readonly threshold?: number | undefined;
  /**
   * Keep findings and teeth of uploads the input check says are not panoramic X-rays
   * (default false: withheld, the record's `quality` says why).
   */
  readonly force?: boolean | undefined;
  /** Time allowed to receive a request, ms (default 60 000). */
  readonly requestTimeoutMs?: number | undefined;
  /** Time allowed for one analysis including its wait in the queue, ms (default 300 000). */
  readonly analysisTimeoutMs?: number | undefined;
  /** Folder of the built web page; false for API only. Default: the package's web-dist/. */
  readonly webDir?: string | false | undefined;
  /**
   * Keep a DICOM upload's patient, study and reference tags in its record, so that the
   * DICOM exports file with the original study (default false: no patient data is stored).
   */
  readonly keepDicomTags?: boolean | undefined;
  /** Fastify logging, tokens redacted (default off; the CLI turns it on; a stream for tests). */
  readonly logger?: boolean | { readonly stream: NodeJS.WritableStream } | undefined;
}

/** The package's web-dist/ folder (same relative place from src/serve and dist/serve). */
export const DEFAULT_WEB_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../web-dist',
);

function withLinks(
  record: AnalysisRecord,
): AnalysisRecord & { links: ReturnType<typeof linksFor> } {
  return { ...record, links: linksFor(record.id, record) };
}

function summary(record: AnalysisRecord): Record<string, unknown> {
  return {
    id: record.id,
    created: record.created,
    filename: record.filename,
    user: record.user,
    image: record.image,
    model: record.model,
    findingsCount: record.findings.length,
    areaPct: Math.round(record.findings.reduce((s, f) => s + f.areaPct, 0) * 100) / 100,
    // The history tells reviewed analyses from unreviewed ones.
    reviewed: record.reviewed,
    links: linksFor(record.id, record),
  };
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new DentsegError('E_USAGE', `${name} must be a positive number; received ${value}`);
  }
  return value;
}

/**
 * Build the app (not listening). Opens the store in `dataDir` (cleaning crash leftovers);
 * closing the app closes the store.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const maxUploadBytes = positive('maxUploadBytes', options.maxUploadBytes ?? 50 * 1024 * 1024);
  const maxPixels = positive('maxPixels', options.maxPixels ?? 40_000_000);
  const threshold = options.threshold;
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new DentsegError('E_USAGE', `threshold must be within 0–1; received ${threshold}`);
  }
  const analysisTimeoutMs = positive('analysisTimeoutMs', options.analysisTimeoutMs ?? 300_000);
  const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs ?? 60_000);
  const users = combineUsers(options.token, options.users);
  const queue = new InferenceQueue({ concurrency: 1, limit: options.queueLimit ?? 32 });
  const models = options.models ?? (options.model ? [options.model] : []);
  if (models.length === 0) {
    throw new DentsegError('E_USAGE', 'buildApp needs a model (model) or a model set (models)');
  }
  checkModelSet(models.map((m) => m.meta));
  // The teeth model answers for the set where one model is named: health, the model card's
  // own fields, private mode's ONNX download, the analysis' `model` and mask.png.
  const roles = setRoles(models.map((m) => m.meta));
  const model = models[roles.indexOf('teeth')] ?? (models[0] as LoadedModel);
  const store: Store = options.store ?? AnalysisStore.open(options.dataDir);
  const ownStore = options.store === undefined;
  const started = Date.now();
  let card: ModelCardJson | undefined;

  const app = Fastify({
    logger: loggerOptions(options.logger),
    // Receiving a request is bounded; an idle socket (a client waiting for its analysis) may
    // stay open for the analysis time limit plus that.
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs + analysisTimeoutMs,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  app.addHook('onClose', async () => {
    if (ownStore) await store.close();
  });
  const routeMethods = trackRouteMethods(app, '/api/');

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'dentseg API',
        version: VERSION,
        description:
          'Segment panoramic dental X-rays. Errors are `{ "error": { "code", "message" } }` with codes from docs/errors.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    // Describe the upload's multipart body in the document without validating it.
    transform: ({ schema, url, route }) => ({
      schema:
        url === `${API_PREFIX}/analyses` && route.method === 'POST'
          ? { ...schema, body: schemas.createBodyDoc }
          : url === `${API_PREFIX}/analyses/:id/masks/:model` && route.method === 'PUT'
            ? { ...schema, body: schemas.putMaskBodyDoc }
            : schema,
      url,
    }),
  });
  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 1, fields: 10, parts: 20, fieldSize: 1024 },
  });

  app.setErrorHandler((err, request, reply) => {
    const failure = toHttpFailure(err);
    if (failure.log) request.log.error({ err }, 'request failed');
    void reply.code(failure.status).type('application/json').send(failure.body);
  });
  app.setNotFoundHandler((request, reply) => {
    // A route that has the method but no such file (the page's `/*`) is a plain 404.
    const allow = routeMethods.allowed(request.url);
    if (allow && !allow.includes(request.method)) {
      void reply.header('Allow', allow.join(', '));
      throw new DentsegError(
        'E_METHOD_NOT_ALLOWED',
        `${request.method} is not allowed on ${request.url.split('?')[0]}; it answers ${allow.join(', ')}`,
      );
    }
    void reply.code(404).send({
      error: {
        code: 'E_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
      },
    });
  });

  // Cross-site refusal and response headers (CSP, framing, COOP/COEP), before auth.
  registerSecurity(app);

  // Decided on the matched route (see auth.ts), so it must be installed before the routes.
  const auth = installAuth(app, users);

  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());

  // The overlay and the chart are rendered on their first request (not while the uploader
  // waits), once each.
  const rendering = new Map<string, Promise<Buffer | undefined>>();
  const renderedOf = (
    id: string,
    file: 'overlay.png' | 'chart.png',
  ): Promise<Buffer | undefined> => {
    const key = `${id}/${file}`;
    let job = rendering.get(key);
    if (!job) {
      job = (async () => {
        const record = await store.get(id);
        const [original, mask] = await Promise.all([
          store.readFile(id, 'original.png'),
          store.readFile(id, 'mask.png'),
        ]);
        if (!record || !original || !mask) return undefined;
        const png =
          file === 'overlay.png'
            ? await overlayFromStored(record, original, mask)
            : await chartFromStored(record, original, mask);
        await store.addFile(id, file, png);
        return png;
      })().finally(() => rendering.delete(key));
      rendering.set(key, job);
    }
    return job;
  };

  app.get(
    `${API_PREFIX}/health`,
    { schema: schemas.healthRoute, config: { auth: 'optional' } },
    async (request): Promise<HealthJson> =>
      // Without a valid token on a server with tokens: alive, and nothing more.
      auth.anonymous(request)
        ? { status: 'ok', version: VERSION }
        : {
            status: 'ok',
            version: VERSION,
            // `model` stays the teeth model alone (clients read it); `models` is the set.
            model: `${model.meta.name}@${model.meta.version}`,
            models: [model, ...models.filter((m) => m !== model)].map(
              (m) => `${m.meta.name}@${m.meta.version}`,
            ),
            engine: model.engine.name,
            // What computes: onnxruntime-node, or the TensorFlow.js backend of the tfjs engine.
            backend: model.backend ?? 'none',
            queue: options.jobs
              ? await sharedQueueHealth(options.jobs, queue.limit)
              : { running: queue.running, waiting: queue.waiting, limit: queue.limit },
            analyses: await store.count(auth.owner(request)),
            uptimeS: Math.round((Date.now() - started) / 1000),
          },
  );

  app.get(`${API_PREFIX}/model`, { schema: schemas.modelRoute }, async () => {
    card ??= await setCard(model, models);
    return card;
  });

  // --- Private mode (src/web/app/private-mode.ts, owned by the ONNX engineer): the page
  // downloads the model as ONNX and segments in the browser, so the X-ray never leaves it.
  app.get(
    `${API_PREFIX}/model/onnx`,
    {
      schema: {
        summary:
          'The model as ONNX (opset 17, dentseg.json in its metadata) for in-browser inference',
        tags: ['service'],
        security: [{ bearer: [] as string[] }],
        produces: ['application/octet-stream'],
        response: {
          200: { description: 'ONNX model', type: 'string', format: 'binary' },
          304: { description: 'Not modified (ETag)', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      // Imported here: the exporter (TensorFlow.js) only loads when a client asks for it.
      const { onnxBytesForFolder } = await import('../onnx/folder.js');
      const onnx = await onnxBytesForFolder(model.dir);
      void reply.header('ETag', onnx.etag).header('Cache-Control', 'private, no-cache');
      if (request.headers['if-none-match'] === onnx.etag) {
        reply.statusCode = 304; // (typed replies only allow the first response code)
        return reply.send();
      }
      return reply
        .type('application/octet-stream')
        .send(Buffer.from(onnx.bytes.buffer, onnx.bytes.byteOffset, onnx.bytes.byteLength));
    },
  );
  // --- end private mode

  const upload = { schema: schemas.createRoute, onRequest: requireMultipart };
  app.post(`${API_PREFIX}/analyses`, upload, async (request, reply) => {
    const { buf, filename } = await readUpload(request);
    if (options.jobs) {
      const state = await enqueueUpload(store, options.jobs, buf, filename, {
        maxPixels,
        user: auth.creator(request),
      });
      void reply.code(202).header('Location', linksFor(state.id).self);
      return jobView(state);
    }
    let abandoned = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        reject(
          new DentsegError('E_TIMEOUT', `the analysis took longer than ${analysisTimeoutMs} ms`),
        );
      }, analysisTimeoutMs);
    });
    const job = queue.run(async () => {
      if (abandoned) return undefined;
      const out = await analyseUpload(models, buf, filename, {
        maxPixels,
        ...(threshold !== undefined ? { threshold } : {}),
        user: auth.creator(request),
        keepDicomTags: options.keepDicomTags === true,
        ...(options.force === true ? { force: true } : {}),
      });
      if (abandoned) return undefined;
      await store.save(out.record, out.files);
      return out.record;
    });
    job.catch(() => undefined); // a rejection after a timeout is already answered
    try {
      const record = await Promise.race([job, timeout]);
      if (!record) throw new DentsegError('E_TIMEOUT', 'the analysis was abandoned');
      void reply.code(201).header('Location', linksFor(record.id).self);
      return withLinks(record);
    } finally {
      clearTimeout(timer);
    }
  });

  app.get<{ Querystring: { limit: number; offset: number } }>(
    `${API_PREFIX}/analyses`,
    { schema: schemas.listRoute },
    async (request) => {
      const { limit, offset } = request.query;
      const { items, total } = await store.list(limit, offset, auth.owner(request));
      return { items: items.map(summary), total, limit, offset };
    },
  );

  app.get<{ Params: { id: string } }>(
    `${API_PREFIX}/analyses/:id`,
    { schema: schemas.getRoute },
    async (request) => {
      const record = await store.get(request.params.id, auth.owner(request));
      if (record) return { ...withLinks(record), status: 'done' };
      // Still on the queue (or failed there): its processing state.
      const state = await store.status(request.params.id, auth.owner(request));
      if (!state || state.status === 'done') throw notFound(`analysis ${request.params.id}`);
      return jobView(state);
    },
  );

  app.get<{ Params: { id: string; file: AnalysisFileName } }>(
    `${API_PREFIX}/analyses/:id/:file`,
    { schema: schemas.fileRoute },
    async (request, reply: FastifyReply) => {
      const { id, file } = request.params;
      const owner = auth.owner(request);
      // The schema lets only safe names through; this also tells the compiler so.
      if (!isAnalysisFileName(file)) throw notFound(`${file} of analysis ${id}`);
      if (file === 'chart.png') {
        const record = await store.get(id, owner);
        if (!record) throw notFound(`analysis ${id}`);
        if (!numbersTeeth(record)) {
          throw notFound(`chart.png of analysis ${id} (its model does not number teeth)`);
        }
      }
      let data = await store.readFile(id, file, owner);
      if (data === null && (file === 'overlay.png' || file === 'chart.png')) {
        data = await renderedOf(id, file);
      }
      if (!data) throw notFound(`analysis ${id}`);
      return (
        reply
          .type('image/png')
          // The model's images never change; a corrected mask may be corrected again.
          .header(
            'Cache-Control',
            file.endsWith('.corrected.png')
              ? 'private, no-cache'
              : 'private, max-age=31536000, immutable',
          )
          .send(data)
      );
    },
  );

  registerReportRoutes(app, { store, auth, rendered: renderedOf });

  app.delete<{ Params: { id: string } }>(
    `${API_PREFIX}/analyses/:id`,
    { schema: schemas.deleteRoute },
    async (request, reply) => {
      if (!(await store.delete(request.params.id, auth.owner(request), auth.creator(request)))) {
        throw notFound(`analysis ${request.params.id}`);
      }
      return reply.code(204).send();
    },
  );

  registerReviewRoutes(app, store, auth);

  const webDir = options.webDir === undefined ? DEFAULT_WEB_DIR : options.webDir;
  if (webDir !== false && existsSync(path.join(webDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', index: 'index.html' });
  } else if (webDir !== false) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/html')
        .send(
          '<!doctype html><title>dentseg</title><p>The web page is not built. Run <code>npm run build</code> (or <code>npm ci</code>), then restart <code>dentseg serve</code>. The API is at <a href="/api/docs">/api/docs</a>.</p>',
        ),
    );
  }
  return app;
}

/** The store and queue behind an app, for tests and the benchmark. */
export type { AnalysisStore, InferenceQueue, Store };
