/**
 * `dentseg data …`: look at a data set before training on it. `data check` decodes every
 * image and mask and names every bad file; `data preview` writes augmented samples;
 * `data masks` turns a COCO export into a mask folder; `data export` turns the server's
 * reviewed analyses back into a training set.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { checkDataset, type CheckReport } from '../data/check.js';
import { writeCocoMasks } from '../data/coco-masks.js';
import {
  createLoader,
  DEFAULT_AUGMENT,
  loadAugmentConfig,
  openDataset,
  validatePreprocessConfig,
} from '../data/index.node.js';
import { SEED_AUGMENT } from '../train/seed-augment.js';
import { addDatasetOptions, datasetOptionsFromCli } from './dataset-options.js';
import { checkSize, intFlag } from './flags.js';
import { jsonOption, jsonTarget, writeJson } from './json-output.js';

/**
 * The classes a model trained on the set would have, counted as `dentseg train` counts
 * them: a binary set is one class (its target), a multi-class set K with the background.
 */
export function classesLine(task: CheckReport['task'], classes: readonly string[]): string {
  const names = task === 'binary' ? classes.slice(1) : classes;
  const shown = `${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`;
  return `task: ${task}, ${names.length} class${names.length === 1 ? '' : 'es'} (${shown})`;
}

function printReport(r: CheckReport): void {
  const lines: string[] = [];
  lines.push(classesLine(r.task, r.classes));
  lines.push(`train ${r.train}, val ${r.val}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  const sizes = Object.entries(r.sizes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([s, n]) => `${s} ×${n}`)
    .join(', ');
  if (sizes) lines.push(`image sizes: ${sizes}${Object.keys(r.sizes).length > 5 ? ', …' : ''}`);
  const total = r.classPixels.reduce((a, b) => a + b, 0);
  if (total > 0) {
    const fg = total - (r.classPixels[0] ?? 0);
    const missing = r.classPixels
      .map((n, i) => (n === 0 && i > 0 ? r.classes[i] : undefined))
      .filter(Boolean);
    lines.push(
      `foreground: ${((100 * fg) / total).toFixed(2)}% of pixels` +
        (missing.length ? `; classes never seen: ${missing.join(', ')}` : ''),
    );
  }
  if (r.errors.length === 0) lines.push(`ok: ${r.ok} samples, no errors`);
  else {
    lines.push(`${r.errors.length} error${r.errors.length === 1 ? '' : 's'}:`);
    for (const e of r.errors) lines.push(`  ${e.code}  ${e.file}: ${e.message}`);
  }
  console.log(lines.join('\n'));
}

/** Register `dentseg data check`, `data preview`, `data masks` and `data export` on `program`. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect and validate data sets');

  addDatasetOptions(
    data
      .command('check')
      .description(
        'decode every image and mask, report train/val counts and every bad file (exit 1 if any)',
      )
      .option(...jsonOption('the report')),
  ).action(async (opts: Record<string, unknown>) => {
    const json = jsonTarget(opts.json);
    const ds = await openDataset(datasetOptionsFromCli(opts));
    const report = await checkDataset(ds);
    if (json) await writeJson(json, report);
    if (!json || 'file' in json) printReport(report);
    if (report.errors.length > 0) process.exitCode = 1;
  });

  addDatasetOptions(
    data
      .command('preview')
      .description('write augmented training samples (image and mask side by side) as PNG')
      .requiredOption('--out <dir>', 'output folder')
      .option('-n, --count <n>', 'samples to write', '8')
      .option('--size <px>', 'network input size N or H,W', '256,256')
      .option(
        '--augment <file>',
        "augmentation: a YAML/JSON file, or `seed` for the seed project's pipeline (as in " +
          'train); default: the built-in one',
      )
      .option('--no-augment', 'show the samples without augmentation')
      .option('--epoch <n>', 'epoch whose draws to show', '0'),
  ).action(async (opts: Record<string, unknown>) => {
    const count = intFlag('--count', opts.count, 1);
    const size = checkSize('--size', opts.size);
    const epoch = intFlag('--epoch', opts.epoch, 0);
    const preprocess = validatePreprocessConfig({ size, channels: 1, normalise: 'unit' });
    const dsOptions = datasetOptionsFromCli(opts);
    const ds = await openDataset(dsOptions);
    // `seed` is the seed project's pipeline here as in `train`, not a file named "seed".
    const augment =
      opts.augment === false
        ? undefined
        : opts.augment === 'seed'
          ? SEED_AUGMENT
          : typeof opts.augment === 'string'
            ? await loadAugmentConfig(opts.augment)
            : DEFAULT_AUGMENT;
    const loader = createLoader({
      samples: ds.train.slice(0, count),
      batchSize: 1,
      preprocess,
      augment,
      seed: dsOptions.seed ?? 42,
      epoch,
      shuffle: false,
      workers: 0,
      flipClassMap: ds.flipClassMap,
      vflipClassMap: ds.vflipClassMap,
    });
    const out = String(opts.out);
    await mkdir(out, { recursive: true });
    const [h, w] = preprocess.size;
    const scale = ds.task === 'binary' ? 255 : Math.floor(255 / Math.max(1, ds.classes.length - 1));
    for await (const batch of loader) {
      const pair = new Uint8Array(h * w * 2);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          pair[y * 2 * w + x] = Math.round(
            Math.min(1, Math.max(0, batch.images[y * w + x]!)) * 255,
          );
          pair[y * 2 * w + w + x] = batch.masks[y * w + x]! * scale;
        }
      }
      const file = path.join(out, `${batch.ids[0]}.png`);
      await writeFile(
        file,
        await sharp(pair, { raw: { width: 2 * w, height: h, channels: 1 } })
          .png()
          .toBuffer(),
      );
      console.log(file);
    }
  });

  data
    .command('masks')
    .description(
      'rasterise COCO annotations to PNG masks OUT/{stem}.png at each image size ' +
        '(exit 1 naming every bad annotation or image; the others are written)',
    )
    .requiredOption('--coco <file>', 'COCO JSON (Roboflow/Kaggle export)')
    .option('--images <dir>', "folder the JSON's file_names are relative to (default: its folder)")
    .requiredOption('--out <dir>', 'output folder (created when missing)')
    .option(
      '--multiclass',
      `class index per pixel (1…K in category order) and OUT/classes.json; default binary 0/255`,
    )
    .action(async (opts: { coco: string; images?: string; out: string; multiclass?: boolean }) => {
      const tty = process.stderr.isTTY === true;
      const report = await writeCocoMasks({
        coco: opts.coco,
        images: opts.images,
        out: opts.out,
        multiclass: opts.multiclass === true,
        onImage: (done, total) => {
          if (tty)
            process.stderr.write(`\r\x1b[Kmasks ${done}/${total}${done === total ? '\n' : ''}`);
        },
      });
      for (const e of report.issues) console.error(`dentseg: ${e.code}  ${e.file}: ${e.message}`);
      const kind = opts.multiclass
        ? `class indices 0…${report.classes.length - 1}`
        : 'binary 0/255';
      console.log(`wrote ${report.written.length} masks (${kind}) to ${opts.out}`);
      if (report.classesFile)
        console.log(
          `classes: ${report.classesFile} (${report.classes.length} names, background first); ` +
            `train on them with --images ${opts.images ?? '…'} --masks ${opts.out} --multiclass --classes ${report.classesFile}`,
        );
      if (report.issues.length > 0) {
        console.error(
          `dentseg: ${report.issues.length} problem${report.issues.length === 1 ? '' : 's'} (listed above)`,
        );
        process.exitCode = 1;
      }
    });

  data
    .command('export')
    .description(
      "write the server's analyses as a training set, the dentist's corrections applied: " +
        'images/, masks_teeth/ (FDI class index, or 0/255), masks_caries/ (0/255 from ' +
        'accepted, edited and drawn caries), coco.json (rejected findings listed apart) and classes.json',
    )
    .requiredOption(
      '--data-dir <dir>',
      'the data dir the server ran with (dentseg serve --data-dir)',
    )
    .requiredOption('--out <dir>', 'output folder (created when missing)')
    .option('--reviewed-only', 'only analyses marked reviewed', false)
    .option('--since <YYYY-MM-DD>', 'only analyses created on or after this day (UTC)')
    .option('--db <url>', 'the PostgreSQL store (postgres://…) the server ran with')
    .action(
      async (opts: {
        dataDir: string;
        out: string;
        reviewedOnly?: boolean;
        since?: string;
        db?: string;
      }) => {
        // Loaded here: the store (SQLite, PostgreSQL) stays out of every other command's start-up.
        const { exportDataset } = await import('../serve/export-dataset.js');
        const report = await exportDataset({
          dataDir: opts.dataDir,
          out: opts.out,
          reviewedOnly: opts.reviewedOnly === true,
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.db !== undefined ? { db: opts.db } : {}),
        });
        for (const w of report.warnings) console.error(`dentseg: warning: ${w}`);
        console.log(
          `exported ${report.ids.length} analyses to ${opts.out} (${report.corrected} with a corrected mask; ` +
            `${report.annotations} annotations, ${report.rejected} rejected findings listed apart)`,
        );
        const classes = path.join(opts.out, 'classes.json');
        if (report.teethMasks === 'fdi') {
          console.log(
            `train: dentseg train --images ${path.join(opts.out, 'images')} --masks ${path.join(opts.out, 'masks_teeth')} --multiclass --classes ${classes} --init MODEL`,
          );
        } else if (report.teethMasks === 'binary') {
          console.log(
            `train: dentseg train --images ${path.join(opts.out, 'images')} --masks ${path.join(opts.out, 'masks_teeth')} --init MODEL`,
          );
        }
      },
    );
}
