import path from 'node:path';
import { decodeImage } from './src/data/index.js';
import { jpegRoundTrip } from './src/data/jpeg.js';
import { degradeImage, parseDegradeSpec } from './src/imaging/index.js';
import { estimateQuality } from './src/imaging/quality.js';
const files = ['abdi-1.png', 'abdi-40.png'].map((f) => path.join('/work/shared/data/samples/images', f));
for (const f of files) {
  let img;
  try { img = await decodeImage(f); } catch { continue; }
  for (const spec of ['none', 'noise:0.02', 'noise:0.1', 'blur:2', 'motion:10', 'downscale:3', 'jpeg:30']) {
    const d = await degradeImage(img, parseDegradeSpec(spec), { seed: [0], jpeg: jpegRoundTrip });
    const q = estimateQuality(d);
    console.log(path.basename(f), img.width, img.height, spec.padEnd(12), Object.entries(q).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' '));
  }
}
