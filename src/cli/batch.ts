/**
 * `dentseg batch`: a folder of X-rays through the shared queue (`dentseg worker`s do the
 * work), with progress, the same output files as `predict`, and nothing done twice: a
 * second run skips what is already analysed with the same model set.
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  MODEL_SET_OPTION,
  checkNumber,
  invalidValue,
  modelDirsFlag,
  outAlias,
  outFlag,
} from './flags.js';

interface BatchCliOptions {
  input: string[];
  out?: string;
  output?: string;
  queue: string;
  db?: string;
  dataDir: string;
  model?: string[];
  timeout: string;
}

/** Register `dentseg batch` on the program. */
export function registerBatchCommands(program: Command): void {
  program
    .command('batch')
    .description('analyse folders of X-rays on the shared queue (workers do the work)')
    .requiredOption('--input <paths...>', 'image files and/or folders')
    .option('--out <dir>', 'output folder: X.mask.png, X.overlay.png, X.json, summary.csv')
    .option(...outAlias('output'))
    .requiredOption('--queue <url>', 'redis://HOST:PORT of the shared queue')
    .option('--db <url>', 'postgres://… for the records (default: SQLite in --data-dir)')
    .option('--data-dir <dir>', 'the data dir every node mounts', './dentseg-data')
    .option(
      MODEL_SET_OPTION[0],
      'the model folder(s) the workers run, repeatable (keys what is done; default: the bundled set)',
      MODEL_SET_OPTION[2],
    )
    .option('--timeout <s>', 'give up waiting after this many seconds', '86400')
    .action(async (opts: BatchCliOptions) => {
      const out = outFlag(opts, ['output']);
      if (out === undefined) throw invalidValue('--out', 'an output folder', undefined);
      const timeout = checkNumber('--timeout', opts.timeout, { above: 0 });
      const dirs = modelDirsFlag(opts.model);
      const { defaultModelSetDirs } = await import('../infer/model-set.node.js');
      const { openStore } = await import('../serve/open-store.js');
      const { RedisJobQueue } = await import('../serve/jobs.js');
      const { runBatch } = await import('../serve/batch.js');
      const store = await openStore(opts.db, opts.dataDir);
      const jobs = new RedisJobQueue(opts.queue);
      const tty = process.stderr.isTTY === true;
      const started = performance.now();
      try {
        const result = await runBatch({
          inputs: opts.input,
          outputDir: out,
          store,
          jobs,
          modelDir: dirs ?? defaultModelSetDirs(),
          timeoutMs: timeout * 1000,
          onProgress: (done, total, item) => {
            const line = `${done}/${total} ${item.ok ? 'ok' : `FAILED ${item.error?.code ?? ''}`} ${item.input}`;
            if (tty) process.stderr.write(`\r\x1b[K${line}${done === total ? '\n' : ''}`);
            else console.error(line);
          },
        });
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `${result.items.length - result.failed} of ${result.items.length} done in ${secs} s (${result.enqueued} queued now, ${result.alreadyDone} done before)` +
            (result.failed > 0 ? `, ${result.failed} failed` : '') +
            `; summary: ${path.resolve(result.summaryCsv)}`,
        );
        process.exitCode = result.failed > 0 ? 2 : 0;
      } finally {
        await jobs.close();
        await store.close();
      }
    });
}
