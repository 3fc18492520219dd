/**
 * `dentseg export`: a model folder to ONNX (`model.onnx` beside the weights by default),
 * optionally checked against tfjs on a random batch before it is trusted.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DentsegError } from '../errors.js';
import type { CalibrationMethod } from '../onnx/int8.js';
import type { BackendName } from '../engine/index.js';
import { DEFAULT_MODEL_DIR } from '../infer/load.js';
import { checkChoice, intFlag, outAlias, outFlag } from './flags.js';

interface ExportCliOptions {
  model?: string;
  out?: string;
  onnx?: string;
  dynamicSize?: boolean;
  verify?: boolean;
  int8?: boolean;
  calibration?: string;
  calibrationCount: string;
  calibrationSplit?: string;
  calibrationMethod: string;
  floatTail: string;
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
    .option(
      '--int8',
      'also write model.int8.onnx: static int8 quantisation (QDQ, per-channel weights) calibrated on --calibration',
    )
    .option(
      '--calibration <dir>',
      '--int8: folder of X-rays whose activation ranges set the scales',
    )
    .option('--calibration-count <n>', '--int8: images drawn (seeded) from the folder', '32')
    .option('--calibration-split <csv>', '--int8: draw only the rows a split CSV marks train')
    .option(
      '--calibration-method <m>',
      '--int8: how ranges are taken from the images (percentile or minmax)',
      'percentile',
    )
    .option('--float-tail <n>', '--int8: last convolutions kept in float32 (e.g. 1: the head)', '0')
    .action(async (opts: ExportCliOptions, cmd: Command) => {
      if (opts.int8 && opts.calibration === undefined)
        throw new DentsegError('E_USAGE', '--int8 needs --calibration DIR (a folder of X-rays)', {
          hint: 'e.g. dentseg export --int8 --calibration ../shared/data/ufba425/images --calibration-split ../shared/data/ufba425/split.csv',
        });
      const count = intFlag('--calibration-count', opts.calibrationCount, 1);
      const floatTail = intFlag('--float-tail', opts.floatTail, 0);
      const globals = cmd.optsWithGlobals<{ backend?: BackendName }>();
      const out = outFlag(opts, ['onnx']);
      const { initEngine } = await import('../engine/index.js');
      const { exportOnnx, verifyOnnx } = await import('../onnx/index.js');
      await initEngine({ backend: globals.backend, log: true });
      const dir = path.resolve(opts.model ?? DEFAULT_MODEL_DIR);
      const started = performance.now();
      const int8 = opts.int8 === true && opts.calibration !== undefined;
      // The int8 file is made from model.onnx: keep an up-to-date one as it is.
      const { onnxFolderStatus } = await import('../infer/onnx-engine.node.js');
      const keep =
        int8 && out === undefined && opts.dynamicSize !== true && onnxFolderStatus(dir) === 'ok';
      const result = keep
        ? undefined
        : await exportOnnx(dir, out, { dynamicSize: opts.dynamicSize === true });
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      if (result)
        console.log(
          `wrote ${result.file} (${(result.bytes / 1e6).toFixed(1)} MB, opset ${result.opset}, ${result.dynamicSize ? 'dynamic' : 'fixed'} spatial size) in ${secs} s`,
        );
      if (int8) {
        const { exportInt8 } = await import('../onnx/int8.js');
        const t0 = performance.now();
        const q = await exportInt8(dir, {
          calibration: opts.calibration!,
          count,
          split: opts.calibrationSplit,
          method: checkChoice('--calibration-method', opts.calibrationMethod, [
            'percentile',
            'minmax',
          ] satisfies CalibrationMethod[]),
          floatTail,
        });
        const c = q.record.calibration;
        console.log(
          `wrote ${q.file} (${(q.bytes / 1e6).toFixed(2)} MB, ${((100 * q.bytes) / q.floatBytes).toFixed(0)} % of model.onnx; ${c.method} calibration on ${c.images} of ${c.available} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
      if (opts.verify && result) {
        const v = await verifyOnnx(dir, result.file);
        console.log(
          `verify: batch ${v.batch} at ${v.size[0]}×${v.size[1]}, max |onnx − tfjs| = ${v.maxAbsDiff.toExponential(2)} (${v.ok ? 'ok' : 'MISMATCH'}, tolerance ${v.tolerance})`,
        );
        if (!v.ok) process.exitCode = 1;
      }
    });
}
