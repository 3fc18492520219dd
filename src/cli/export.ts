/**
 * `dentseg export`: a model folder to ONNX (`model.onnx` beside the weights by default),
 * optionally checked against tfjs on a random batch before it is trusted.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import { DEFAULT_MODEL_DIR } from '../infer/load.js';
import { outAlias, outFlag } from './flags.js';

interface ExportCliOptions {
  model?: string;
  out?: string;
  onnx?: string;
  dynamicSize?: boolean;
  verify?: boolean;
}

/** Register `dentseg export` on the program. */
export function registerExportCommands(program: Command): void {
  program
    .command('export')
    .description(
      'export a model folder to ONNX (opset 17) for ONNX Runtime in Node and the browser',
    )
    .option('--model <dir>', 'model folder (default: the bundled models/teeth-binary/)')
    .option('--out <file>', 'output file (default: model.onnx inside the model folder)')
    .option(...outAlias('onnx'))
    .option(
      '--dynamic-size',
      'symbolic input height/width (any multiple of 32) instead of the trained size',
    )
    .option(
      '--verify',
      'run ONNX Runtime and tfjs on a random batch and report the largest difference',
    )
    .action(async (opts: ExportCliOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ backend?: BackendName }>();
      const out = outFlag(opts, ['onnx']);
      const { initEngine } = await import('../engine/index.js');
      const { exportOnnx, verifyOnnx } = await import('../onnx/index.js');
      await initEngine({ backend: globals.backend, log: true });
      const dir = path.resolve(opts.model ?? DEFAULT_MODEL_DIR);
      const started = performance.now();
      const result = await exportOnnx(dir, out, { dynamicSize: opts.dynamicSize === true });
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `wrote ${result.file} (${(result.bytes / 1e6).toFixed(1)} MB, opset ${result.opset}, ${result.dynamicSize ? 'dynamic' : 'fixed'} spatial size) in ${secs} s`,
      );
      if (opts.verify) {
        const v = await verifyOnnx(dir, result.file);
        console.log(
          `verify: batch ${v.batch} at ${v.size[0]}×${v.size[1]}, max |onnx − tfjs| = ${v.maxAbsDiff.toExponential(2)} (${v.ok ? 'ok' : 'MISMATCH'}, tolerance ${v.tolerance})`,
        );
        if (!v.ok) process.exitCode = 1;
      }
    });
}
