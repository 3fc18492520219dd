/**
 * `dentseg serve`: loads the model set (the bundled set unless --model, repeatable), each
 * model once, opens the data dir and starts the HTTP API and web page; stops cleanly on
 * SIGINT/SIGTERM.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import type { BackendName } from '../engine/index.js';
import { BUNDLED_SET_TEXT } from '../infer/bundled-set.js';
import { MODEL_SET_OPTION, modelDirsFlag, numberParser } from './flags.js';
import { ENHANCE_OPTION, enhanceFromCli, FORCE_OPTION, withEnhance } from './imaging-options.js';

/** A commander parser for a number flag within [min, max]. */
function num(flag: string, min: number, max?: number): (value: string) => number {
  return numberParser(flag, { min, ...(max !== undefined ? { max } : {}) });
}

interface ServeCliOptions {
  port: number;
  host: string;
  model?: string[];
  dataDir: string;
  token?: string;
  tokens?: string;
  engine?: 'tfjs' | 'onnx' | 'onnx-int8';
  maxUploadMb: number;
  maxPixels: number;
  queueLimit: number;
  threshold?: number;
  requestTimeout: number;
  analysisTimeout: number;
  queue?: string;
  db?: string;
  keepDicomTags?: boolean;
  enhance?: string;
  force?: boolean;
}

/** Register `dentseg serve` on the program. */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      `serve the web app and HTTP API (default: the bundled model set: ${BUNDLED_SET_TEXT})`,
    )
    .option('--port <n>', 'TCP port', num('--port', 0, 65535), 8080)
    .option('--host <addr>', 'address to listen on (0.0.0.0 to expose it)', '127.0.0.1')
    .option(...MODEL_SET_OPTION)
    .option('--data-dir <dir>', 'where analyses are stored (SQLite + images)', './dentseg-data')
    .option(
      '--token <t>',
      'require "Authorization: Bearer <t>" on the API: one admin user named "admin" (env DENTSEG_TOKEN)',
    )
    .option(
      '--tokens <file>',
      'users, one a line: name:token[:admin] or name:sha256:HEX[:admin] (# comments); each sees only their own analyses, admins all',
    )
    .addOption(
      new Option('--engine <name>', 'inference engine').choices(['tfjs', 'onnx', 'onnx-int8']),
    )
    .option('--max-upload-mb <n>', 'largest upload, MB', num('--max-upload-mb', 0.001), 50)
    .option(
      '--max-pixels <n>',
      'largest image, width × height pixels',
      num('--max-pixels', 1),
      40e6,
    )
    .option('--queue-limit <n>', 'analyses running or waiting at once', num('--queue-limit', 1), 32)
    .option(
      '--threshold <p>',
      "probability threshold for stored masks (default: each model's postprocess.threshold, else 0.5)",
      num('--threshold', 0, 1),
    )
    .option(
      '--request-timeout <s>',
      'seconds to receive a request',
      num('--request-timeout', 1),
      60,
    )
    .option(
      '--analysis-timeout <s>',
      'seconds an analysis may take, queue wait included',
      num('--analysis-timeout', 1),
      300,
    )
    .option(
      '--queue <url>',
      'redis://HOST:PORT: uploads go on a shared BullMQ queue (answered 202) for `dentseg worker`',
    )
    .option('--db <url>', 'postgres://… for the records (default: SQLite in --data-dir)')
    .option(
      '--keep-dicom-tags',
      "keep a DICOM upload's patient and study tags so report exports (sc.dcm, seg.dcm) file with its study (off: privacy; with --queue, workers need it too)",
    )
    .option(...ENHANCE_OPTION)
    .option(...FORCE_OPTION)
    .addHelpText(
      'after',
      [
        '',
        'Tokens: with --token or --tokens every /api/v1 route but health needs',
        '"Authorization: Bearer TOKEN"; health without a valid token answers only',
        '{status, version}. In a tokens file HEX is the SHA-256 of the token',
        '(printf %s "$TOKEN" | sha256sum), so the file need not hold the token itself.',
        'Without tokens every analysis is visible to whoever reaches the port.',
      ].join('\n'),
    )
    .action(async (opts: ServeCliOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ backend?: BackendName }>();
      const token = opts.token ?? process.env.DENTSEG_TOKEN;
      // Read before the model loads, so a bad file fails at once.
      const { readTokensFile, combineUsers } = await import('../serve/auth.js');
      const users = opts.tokens !== undefined ? readTokensFile(opts.tokens) : undefined;
      const everyone = combineUsers(token, users);
      const enhance = enhanceFromCli(opts.enhance);
      const modelDirs = modelDirsFlag(opts.model) ?? [];
      const { loadServedSet } = await import('./model-set-option.js');
      // Each model loaded once; loadModel starts a TensorFlow.js backend only for the tfjs
      // engine, and says what runs. --enhance replaces each model's own preprocess.enhance.
      const set = await loadServedSet(modelDirs, {
        ...(opts.engine !== undefined ? { engine: opts.engine } : {}),
        ...(globals.backend !== undefined ? { backend: globals.backend } : {}),
      });
      const models = set.models.map((m) => withEnhance(m, enhance));
      const { buildApp } = await import('../serve/index.js');
      const { openStore, hidePassword } = await import('../serve/open-store.js');
      // Without --db and --queue the app opens SQLite itself, as it always has.
      const store =
        opts.db !== undefined || opts.queue !== undefined
          ? await openStore(opts.db, opts.dataDir)
          : undefined;
      const { RedisJobQueue } = await import('../serve/jobs.js');
      const jobs = opts.queue !== undefined ? new RedisJobQueue(opts.queue) : undefined;
      const app = await buildApp({
        models,
        dataDir: opts.dataDir,
        store,
        jobs,
        token,
        users,
        maxUploadBytes: Math.round(opts.maxUploadMb * 1024 * 1024),
        maxPixels: opts.maxPixels,
        queueLimit: Math.round(opts.queueLimit),
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        keepDicomTags: opts.keepDicomTags === true,
        ...(opts.force === true ? { force: true } : {}),
        requestTimeoutMs: opts.requestTimeout * 1000,
        analysisTimeoutMs: opts.analysisTimeout * 1000,
        logger: true,
      });
      const url = await app.listen({ port: opts.port, host: opts.host });
      let sweeper: NodeJS.Timeout | undefined;
      if (jobs && store) {
        // Jobs Redis may have lost go back on the queue (idempotent): now and every 5 min.
        const { requeueUnfinished } = await import('../serve/sweep.js');
        const sweep = (): void => {
          requeueUnfinished(store, jobs)
            .then((n) => {
              if (n > 0)
                console.error(`dentseg serve: ${n} unfinished analyses put back on the queue`);
            })
            .catch(() => undefined);
        };
        sweep();
        sweeper = setInterval(sweep, 5 * 60_000);
        sweeper.unref();
      }
      console.error(
        `dentseg serve: ${url}  models=${models.map((m) => `${m.meta.name}@${m.meta.version}`).join(',')} engine=${[...new Set(models.map((m) => m.engine.name))].join(',')}${enhance !== undefined ? ` enhance=${enhance}` : ''} data=${path.resolve(opts.dataDir)}${opts.queue !== undefined ? ` queue=${hidePassword(opts.queue)}` : ''}${opts.db !== undefined ? ` db=${hidePassword(opts.db)}` : ''}${everyone.length > 0 ? ` (token required: ${everyone.length} user${everyone.length === 1 ? '' : 's'})` : ''}`,
      );
      const stop = (): void => {
        clearInterval(sweeper);
        void app.close().then(async () => {
          await jobs?.close();
          await store?.close();
          set.dispose();
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
