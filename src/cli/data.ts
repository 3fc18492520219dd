/**
 * `dentseg data …`: look at a data set before training on it. `data check` decodes every
 * image and mask and names every bad file; `data preview` writes augmented samples;
 * `data masks` turns a COCO export into a mask folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { checkDataset, type CheckReport } from '../data/check.js';
import { writeCocoMasks } from '../data/coco-masks.js';
import {
  addDatasetOptions,
  createLoader,
  datasetOptionsFromCli,
  DEFAULT_AUGMENT,
  loadAugmentConfig,
  openDataset,
  validatePreprocessConfig,
} from '../data/index.node.js';
import { DentsegError } from '../errors.js';

function printReport(r: CheckReport): void {
  const lines: string[] = [];
  lines.push(
    `task: ${r.task}, ${r.classes.length} classes (${r.classes.slice(0, 6).join(', ')}${r.classes.length > 6 ? ', …' : ''})`,
  );
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

/** Register `dentseg data check`, `data preview` and `data masks` on `program`. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect and validate data sets');

  addDatasetOptions(
    data
      .command('check')
      .description(
        'decode every image and mask, report train/val counts and every bad file (exit 1 if any)',
      )
      .option('--json', 'print the report as JSON'),
  ).action(async (opts: Record<string, unknown>) => {
    const ds = await openDataset(datasetOptionsFromCli(opts));
    const report = await checkDataset(ds);
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report);
    if (report.errors.length > 0) process.exitCode = 1;
  });

  addDatasetOptions(
    data
      .command('preview')
      .description('write augmented training samples (image and mask side by side) as PNG')
      .requiredOption('--out <dir>', 'output folder')
      .option('-n, --count <n>', 'samples to write', '8')
      .option('--size <h,w>', 'network input size', '256,256')
      .option('--augment <file>', 'augmentation config (JSON/YAML); default: the built-in one')
      .option('--epoch <n>', 'epoch whose draws to show', '0'),
  ).action(async (opts: Record<string, unknown>) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1)
      throw new DentsegError(
        'E_USAGE',
        `--count expects an integer ≥ 1, got "${String(opts.count)}"`,
      );
    const size = String(opts.size).split(',').map(Number);
    const preprocess = validatePreprocessConfig({ size, channels: 1, normalise: 'unit' });
    const ds = await openDataset(datasetOptionsFromCli(opts));
    const augment =
      typeof opts.augment === 'string' ? await loadAugmentConfig(opts.augment) : DEFAULT_AUGMENT;
    const loader = createLoader({
      samples: ds.train.slice(0, count),
      batchSize: 1,
      preprocess,
      augment,
      seed: Number(opts.seed ?? 42),
      epoch: Number(opts.epoch),
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
}
