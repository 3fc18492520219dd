/**
 * The data-set flags every command shares (`data check`, `data preview`, `train`,
 * `evaluate`), so a data set is described the same way everywhere and checked by the one
 * flag validator.
 */
import { Option, type Command } from 'commander';
import type { DatasetOptions } from '../data/dataset.js';
import { checkNumber } from './flags.js';

/** Add the data-set flags to `cmd` (returns it for chaining). */
export function addDatasetOptions(cmd: Command): Command {
  return cmd
    .option('--coco <file>', 'COCO JSON (Roboflow/Kaggle export); file_name relative to --images')
    .option('--images <dir>', 'image folder')
    .option('--masks <dir>', 'mask folder (folder layout)')
    .option(
      '--mask-pattern <pattern>',
      'mask file name from the image file name: {stem} (or {name}) is it without extension, ' +
        "{file} with it; e.g. '{stem}_mask.png' (X.jpg ↔ X_mask.png), " +
        "'{file}_mask.png' (Roboflow/Kaggle: X.jpg ↔ X.jpg_mask.png)",
      '{stem}.png',
    )
    .option(
      '--split <csv>',
      'CSV with a name column (stem/name/file_name) and a split column (train/val)',
    )
    .option(
      '--val <source>',
      'validation source: a second COCO JSON, or a folder with images/ and masks/',
    )
    .addOption(
      new Option(
        '--val-fraction <f>',
        'without --split/--val: share held out for validation',
      ).default('0.1'),
    )
    .option('--seed <n>', 'seed for --val-fraction', '42')
    .option(
      '--classes <file|list>',
      'class names: JSON file or comma list starting with background',
    )
    .option('--multiclass', 'masks hold class indices / keep COCO categories apart', false);
}

/** Turn parsed commander options (from `addDatasetOptions`) into `DatasetOptions`. */
export function datasetOptionsFromCli(opts: Record<string, unknown>): DatasetOptions {
  const str = (k: string): string | undefined =>
    typeof opts[k] === 'string' ? (opts[k] as string) : undefined;
  return {
    coco: str('coco'),
    images: str('images'),
    masks: str('masks'),
    maskPattern: str('maskPattern'),
    split: str('split'),
    val: str('val'),
    valFraction:
      opts.valFraction === undefined
        ? undefined
        : checkNumber('--val-fraction', opts.valFraction, { min: 0, below: 1 }),
    seed: opts.seed === undefined ? undefined : checkNumber('--seed', opts.seed, { integer: true }),
    classes: str('classes'),
    multiclass: opts.multiclass === true,
  };
}
