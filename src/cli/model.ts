/**
 * `dentseg model summary`: build the U-Net as training would (or load a model folder)
 * and print its layers and parameter counts.
 */
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import { DentsegError } from '../errors.js';

function numberFlag(flag: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new DentsegError('E_USAGE', `${flag} must be a number; received "${String(v)}"`);
  return n;
}

/** Register `dentseg model …`. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('inspect the network');
  model
    .command('summary')
    .description(
      'print layers, output shapes and parameter counts (of a new U-Net, or of --model DIR)',
    )
    .option('--model <dir>', 'a model folder to summarise instead of building one')
    .option('--size <px>', 'square input size (multiple of 32)', '256')
    .option('--channels <n>', 'input channels (1 or 3)', '3')
    .option('--classes <n>', 'output classes (1 = binary)', '1')
    .option('--width <x>', 'encoder width multiplier (1 = VGG-16)', '1')
    .option('--decoder-filters <list>', 'five decoder filter counts, deepest first')
    .option('--no-batch-norm', 'no batch normalisation in the decoder')
    .option('--encoder-batch-norm', 'batch norm after each encoder convolution too (vgg16_bn)')
    .option('--dropout <x>', 'dropout before the head', '0')
    .option('--json', 'print the layer table as JSON')
    .action(async (o: Record<string, unknown>, c: Command) => {
      const { initEngine } = await import('../engine/index.js');
      const { buildUnet, loadModelFolder } = await import('../model/index.js');
      const { layerRows, summaryLines } = await import('../model/summary.js');
      await initEngine({
        backend: c.optsWithGlobals<{ backend?: BackendName }>().backend,
        log: false,
      });
      const size = numberFlag('--size', o.size);
      const m =
        typeof o.model === 'string'
          ? (await loadModelFolder(o.model)).model
          : buildUnet({
              inputSize: [size, size],
              channels: numberFlag('--channels', o.channels) as 1 | 3,
              classes: numberFlag('--classes', o.classes),
              width: numberFlag('--width', o.width),
              ...(typeof o.decoderFilters === 'string'
                ? {
                    decoderFilters: o.decoderFilters
                      .split(',')
                      .map((s) => numberFlag('--decoder-filters', s)),
                  }
                : {}),
              batchNorm: o.batchNorm !== false,
              encoderBatchNorm: o.encoderBatchNorm === true,
              dropout: numberFlag('--dropout', o.dropout),
            });
      if (o.json) {
        console.log(JSON.stringify({ params: m.countParams(), layers: layerRows(m) }, null, 2));
      } else {
        console.log(summaryLines(m).join('\n'));
      }
      m.dispose();
      // The wasm backend's pthread workers keep the event loop alive: leave explicitly.
      process.exit(process.exitCode ?? 0);
    });
}
