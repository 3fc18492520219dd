/**
 * `dentseg weights import-keras FILE.h5`: put Keras' ImageNet VGG16 weights into a U-Net's
 * encoder, either a new model folder (`--out DIR`, with the model flags) or an existing one
 * (`--model DIR`, rewritten in place unless `--out` is given). Nothing is downloaded.
 */
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import type { ModelMeta } from '../model/meta.js';
import { VERSION } from '../version.js';
import { classesFromFlag } from './classes-flag.js';
import { channelsFlag, checkSize, invalidValue, outFlag } from './flags.js';

/** Register `dentseg weights …`. */
export function registerWeightsCommands(program: Command): void {
  const weights = program.command('weights').description('import pre-trained weights');
  weights
    .command('import-keras <file>')
    .description(
      "load Keras VGG16 ImageNet weights (vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, from Keras' " +
        'GitHub releases) into the encoder; 1-channel models get the RGB kernels summed',
    )
    .option('--model <dir>', 'existing model folder to update (in place unless --out)')
    .option('--out <dir>', 'where to write the model folder (required without --model)')
    .option('--size <px>', 'new model: input size N or H,W (multiples of 32)', '256')
    .option('--channels <n>', 'new model: input channels 1 or 3', '3')
    .option(
      '--classes <names|n>',
      'new model: class names (comma list starting with background, or a JSON file), or a count (1 = binary)',
      '1',
    )
    .option('--float16', 'store weights as float16')
    .action(async (file: string, o: Record<string, unknown>, c: Command) => {
      const model = typeof o.model === 'string' ? o.model : undefined;
      const out = outFlag(o, []) ?? model;
      if (!out)
        throw invalidValue(
          '--out',
          'a folder for the new model (or --model DIR to update one)',
          undefined,
        );
      // checked before the engine starts and the file is read (used for a new model only)
      const size = checkSize('--size', o.size, { multipleOf: 32 });
      const channels = channelsFlag('--channels', o.channels);
      const classes = classesFromFlag('--classes', o.classes);
      const { validatePreprocessConfig } = await import('../data/index.js');
      const { initEngine } = await import('../engine/index.js');
      const { applyKerasWeights } = await import('../model/keras.js');
      const { architectureOf } = await import('../model/meta.js');
      const { buildUnet, normalizeUnetOptions } = await import('../model/index.js');
      const { loadModelFolder, saveModelFolder } = await import('../model/folder.node.js');
      const { readKerasH5 } = await import('../train/keras-h5.js');
      await initEngine({
        backend: c.optsWithGlobals<{ backend?: BackendName }>().backend,
        log: true,
      });
      const kw = await readKerasH5(file);
      let meta: ModelMeta;
      let m;
      if (model) {
        ({ model: m, meta } = await loadModelFolder(model));
      } else {
        const opts = normalizeUnetOptions({
          inputSize: size,
          channels,
          classes: classes.outputs,
          width: 1,
        });
        m = buildUnet(opts);
        meta = {
          format: 1,
          name: 'vgg16-imagenet-init',
          version: VERSION,
          task: classes.task,
          classes: [...classes.names],
          input: { size, channels },
          preprocess: validatePreprocessConfig({
            size,
            channels,
            normalise: 'caffe',
          }),
          architecture: architectureOf(opts),
          training: { encoderWeights: file, epochs: 0 },
        };
      }
      const loaded = applyKerasWeights(m, kw, file);
      await saveModelFolder(out, m, meta, { float16: o.float16 === true });
      console.error(
        `dentseg weights: loaded ${loaded.length} encoder layers from ${file} into ${out}`,
      );
      m.dispose();
      // The wasm backend's pthread workers keep the event loop alive: leave explicitly.
      process.exit(process.exitCode ?? 0);
    });
}
