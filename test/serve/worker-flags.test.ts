// `dentseg worker` takes the analysis flags `serve` and `predict` have, from the same
// definitions: `--enhance` is validated before anything opens, and on a real queue a worker
// started with `--force` keeps the findings of a non-panoramic upload that one without
// withholds. The model it analyses with carries the `--enhance` it was given.
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENHANCE_OPTION, FORCE_OPTION } from '../../src/cli/imaging-options.js';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { RedisJobQueue } from '../../src/serve/jobs.js';
import { PgStore } from '../../src/serve/store-pg.js';
import { runCliSync, spawnWorker, type SpawnedWorker } from '../helpers/paths.js';
import { PostgresService, RedisService, servicesMissing } from '../helpers/services.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { multipart, tempDir } from './helpers.js';
import { until } from './queue-helpers.js';

const flat = (text: string): string => text.replace(/\s+/g, ' ');

describe('dentseg worker: --enhance and --force', () => {
  it('are the flags serve and predict have (one definition), listed in --help', () => {
    for (const command of ['worker', 'serve', 'predict']) {
      const help = flat(runCliSync([command, '--help'], { timeoutMs: 60_000 }).stdout);
      expect(help, command).toContain(flat(`${ENHANCE_OPTION[0]} ${ENHANCE_OPTION[1]}`));
      expect(help, command).toContain(flat(`${FORCE_OPTION[0]} ${FORCE_OPTION[1]}`));
    }
  });

  it('a bad --enhance is refused with exit 64 before the queue is reached', () => {
    const res = runCliSync(['worker', '--queue', 'redis://127.0.0.1:1', '--enhance', 'sparkle'], {
      timeoutMs: 60_000,
    });
    expect(res.status).toBe(64);
    expect(res.stderr).toMatch(/--enhance: "sparkle"/);
  });
});

const missing = servicesMissing();
if (missing) console.warn(`worker flag tests on a queue skipped: ${missing}`);

describe.skipIf(missing !== undefined)('dentseg worker flags on a real queue', () => {
  let redis: RedisService;
  let postgres: PostgresService;
  let modelDir: string;
  let model: LoadedModel;
  let dataDir: string;
  let store: PgStore;
  let jobs: RedisJobQueue;
  let app: FastifyInstance;
  const spawned: ChildProcess[] = [];

  /** A `dentseg worker` from the sources on this queue, once it is ready. */
  async function worker(extra: readonly string[]): Promise<SpawnedWorker> {
    const w = spawnWorker([
      ...['--queue', redis.url, '--db', postgres.url, '--data-dir', dataDir],
      ...['--model', modelDir, '--threshold', '0', ...extra],
    ]);
    spawned.push(w.proc);
    await w.ready;
    return w;
  }

  async function stop(proc: ChildProcess): Promise<void> {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }

  /** Analyse a flat grey upload (the check calls it blank) and return the stored analysis. */
  async function analyseBlank(name: string): Promise<Record<string, unknown>> {
    const png = await sharp(Buffer.alloc(300 * 150, 90), {
      raw: { width: 300, height: 150, channels: 1 },
    })
      .png()
      .toBuffer();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(png, name),
    });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ id: string }>().id;
    return until(app, `/api/v1/analyses/${id}`, (x) => x.status === 'done', 60_000);
  }

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisService.start(), PostgresService.start()]);
    await initEngine();
    modelDir = tempDir('dentseg-tiny-');
    await writeTinyModel(modelDir, { seed: 5 });
    model = await loadModel(modelDir);
    dataDir = tempDir();
    store = await PgStore.open(postgres.url, dataDir);
    jobs = new RedisJobQueue(redis.url);
    app = await buildApp({ model, dataDir, store, jobs, webDir: false });
  });
  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null) p.kill('SIGKILL');
    await app?.close();
    await jobs?.close();
    await store?.close();
    model?.dispose();
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  it('--force keeps the findings a plain worker withholds; --enhance reaches the model', async () => {
    const plain = await worker([]);
    expect(plain.log()).toMatch(/enhance=none concurrency/);
    const withheld = await analyseBlank('plain.png');
    expect(withheld.quality).toMatchObject({ panoramic: false, withheld: true });
    expect(withheld.findings).toEqual([]);
    await stop(plain.proc);

    const forced = await worker(['--force', '--enhance', 'auto']);
    expect(forced.log()).toMatch(/enhance=auto force concurrency/);
    const kept = await analyseBlank('forced.png');
    expect(kept.quality).toMatchObject({ panoramic: false, withheld: false });
    // Threshold 0 marks every pixel: one region.
    expect((kept.findings as unknown[]).length).toBeGreaterThan(0);
    await stop(forced.proc);
  });
});
