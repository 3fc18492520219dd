/**
 * `dentseg model summary`: build the U-Net as training would (or load a model folder)
 * and print its layers and parameter counts.
 */
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import { classesFromFlag } from './classes-flag.js';
import { channelsFlag, checkNumber, checkNumberList, checkSize } from './flags.js';
import { jsonOption, jsonTarget, writeJson } from './json-output.js';

/** Register `dentseg model …`. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('inspect the network');
  model
    .command('summary')
    .description(
      'print layers, output shapes and parameter counts (of a new U-Net, or of --model DIR)',
    )
    .option('--model <dir>', 'a model folder to summarise instead of building one')
    .option('--size <px>', 'input size N or H,W (multiples of 32)', '256')
    .option('--channels <n>', 'input channels (1 or 3)', '3')
    .option(
      '--classes <names|n>',
      'class names (comma list starting with background, or a JSON file), or a count (1 = binary)',
      '1',
    )
    .option('--width <x>', 'encoder width multiplier (1 = VGG-16)', '1')
    .option('--decoder-filters <list>', 'five decoder filter counts, deepest first')
    .option('--no-batch-norm', 'no batch normalisation in the decoder')
    .option('--encoder-batch-norm', 'batch norm after each encoder convolution too (vgg16_bn)')
    .option('--dropout <x>', 'dropout before the head', '0')
    .option(...jsonOption('the layer table'))
    .action(async (o: Record<string, unknown>, c: Command) => {
      // every flag is checked before the engine starts, so a refusal names the flag
      const unet =
        typeof o.model === 'string'
          ? undefined
          : {
              inputSize: checkSize('--size', o.size, { multipleOf: 32 }),
              channels: channelsFlag('--channels', o.channels),
              classes: classesFromFlag('--classes', o.classes).outputs,
              width: checkNumber('--width', o.width, { above: 0, max: 1 }),
              ...(o.decoderFilters !== undefined
                ? {
                    decoderFilters: checkNumberList(
                      '--decoder-filters',
                      o.decoderFilters,
                      { integer: true, min: 1 },
                      undefined,
                      5,
                    ),
                  }
                : {}),
              batchNorm: o.batchNorm !== false,
              encoderBatchNorm: o.encoderBatchNorm === true,
              dropout: checkNumber('--dropout', o.dropout, { min: 0, below: 1 }),
            };
      const json = jsonTarget(o.json);
      const { initEngine } = await import('../engine/index.js');
      const { buildUnet } = await import('../model/index.js');
      const { loadModelFolder } = await import('../model/folder.node.js');
      const { layerRows, summaryLines } = await import('../model/summary.js');
      await initEngine({
        backend: c.optsWithGlobals<{ backend?: BackendName }>().backend,
        log: false,
      });
      const m = unet ? buildUnet(unet) : (await loadModelFolder(o.model as string)).model;
      if (json) {
        await writeJson(json, { params: m.countParams(), layers: layerRows(m) });
      } else {
        console.log(summaryLines(m).join('\n'));
      }
      m.dispose();
      // The wasm backend's pthread workers keep the event loop alive: leave explicitly.
      process.exit(process.exitCode ?? 0);
    });
}
