/**
 * The `dentseg` command line: one commander program; each stage contributes its own
 * sub-commands from a `register*` function so this file stays a table of contents.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_HELP, backendProblem } from '../engine/backend-names.js';
import { VERSION } from '../version.js';
import { runCli } from './run.js';
import { registerDataCommands } from './data.js';
import { registerExportCommands } from './export.js';
import { registerEvaluateCommands } from './evaluate.js';
import { registerPredictCommands } from './predict.js';
import { registerServeCommands } from './serve.js';
import { registerTrainCommands } from './train.js';
import { registerModelCommands } from './model.js';
import { registerWeightsCommands } from './weights.js';
import { registerWorkerCommands } from './worker.js';
import { registerBatchCommands } from './batch.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('dentseg')
    .description(
      'Segment panoramic dental X-rays with a VGG-16 U-Net: train, evaluate, predict, serve.',
    )
    .version(VERSION, '-v, --version')
    .addOption(
      new Option('--backend <name>', BACKEND_HELP).argParser((value: string) => {
        const problem = backendProblem(value);
        if (problem) throw new InvalidArgumentError(problem);
        return value;
      }),
    );
  program.addHelpText(
    'after',
    [
      '',
      'Exit statuses: 0 done, 1 failed, 2 partly failed (some inputs of predict, evaluate or',
      'batch), 64 usage (a missing, unknown or invalid flag), 130/143 train stopped by Ctrl-C',
      'or SIGTERM after saving. The table and every error code: docs/errors.md.',
    ].join('\n'),
  );
  // Stages register their commands below (one line each).
  registerDataCommands(program);
  registerExportCommands(program);
  registerEvaluateCommands(program);
  registerPredictCommands(program);
  registerServeCommands(program);
  registerTrainCommands(program);
  registerModelCommands(program);
  registerWeightsCommands(program);
  registerWorkerCommands(program);
  registerBatchCommands(program);
  return program;
}

await runCli(buildProgram(), process.argv);
