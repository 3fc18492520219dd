/**
 * `dentseg model summary`: build the U-Net as training would (or load a model folder)
 * and print its layers and parameter counts.
 */
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import { channelsFlag, classesFlag, numberFlag, sizeFlag } from './flags.js';

/** `--decoder-filters`: five positive integers, deepest first. */
function decoderFilters(v: string): number[] {
  const list = v
    .split(',')
    .map((s) =>
      numberFlag(
        '--decoder-filters',
        s.trim(),
        (n) => Number.isInteger(n) && n >= 1,
        'positive integers',
      ),
    );
  if (list.length !== 5)
    throw new DentsegError(
      'E_USAGE',
      `--decoder-filters must be five comma-separated counts, deepest first; received "${v}"`,
    );
  return list;
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
      // every flag is checked before the engine starts, so a refusal names the flag
      const unet =
        typeof o.model === 'string'
          ? undefined
          : {
              inputSize: [sizeFlag('--size', o.size), sizeFlag('--size', o.size)] as const,
              channels: channelsFlag('--channels', o.channels),
              classes: classesFlag('--classes', o.classes),
              width: numberFlag('--width', o.width, (n) => n > 0 && n <= 1, 'in (0, 1]'),
              ...(typeof o.decoderFilters === 'string'
                ? { decoderFilters: decoderFilters(o.decoderFilters) }
                : {}),
              batchNorm: o.batchNorm !== false,
              encoderBatchNorm: o.encoderBatchNorm === true,
              dropout: numberFlag('--dropout', o.dropout, (n) => n >= 0 && n < 1, 'in [0, 1)'),
            };
      const { initEngine } = await import('../engine/index.js');
      const { buildUnet } = await import('../model/index.js');
      const { loadModelFolder } = await import('../model/folder.node.js');
      const { layerRows, summaryLines } = await import('../model/summary.js');
      await initEngine({
        backend: c.optsWithGlobals<{ backend?: BackendName }>().backend,
        log: false,
      });
      const m = unet ? buildUnet(unet) : (await loadModelFolder(o.model as string)).model;
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
