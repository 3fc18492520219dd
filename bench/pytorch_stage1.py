#!/usr/bin/env python3
"""PyTorch twin of `dentseg train`'s stage-1 recipe for `bench:engine --end-to-end`: the bundled
model's first stage (models/teeth-binary/MODEL_CARD.md: 256², width 0.25, default decoder,
1 channel, z-score input, batch 8, BCE + Dice, Adam lr 5e-4, the seed augmentation) on real
ufba425 images, for a fixed number of steps, timed step by step.

The network, loss and Adam are bench/pytorch_unet.py's (buildUnet's twin). Each step decodes
its 8 images and masks (PIL), resizes them to 256² (bilinear / nearest), applies the seed
augmentation (src/train/seed-augment.ts: flip p 0.7, rotate ±5° p 0.7, brightness/contrast
±0.1 p 0.3, shift 0.1 / scale 0.1 / rotate 10° p 0.5, Gaussian noise p 0.1) with numpy and
PIL, normalises each image to mean 0 / std 1, then runs forward, loss, backward and the Adam
update and reads the loss and the batch's Dice counts back, as dentseg's trainer does. All on
the main thread: what a PyTorch user gets without a DataLoader. Step time = data + compute.

  /usr/bin/python3 bench/pytorch_stage1.py --data ../shared/data/ufba425 --steps 10 --warmup 2
prints one JSON object: {"stepsMs": [...], "secondsPerStep": mean of the timed steps,
"dataShare": share of that time spent decoding and augmenting, ...}.
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_unet import DEFAULT_DECODER, Unet, loss_fn  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='ufba425 folder (images/, masks/, split.csv)')
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--width', type=float, default=0.25)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=10, help='timed steps')
    ap.add_argument('--warmup', type=int, default=2, help='untimed steps before them')
    ap.add_argument('--channels-last', action='store_true',
                    help='run in channels-last memory (default: PyTorch\'s usual contiguous NCHW)')
    return ap.parse_args(argv)


def train_stems(data):
    with open(os.path.join(data, 'split.csv'), newline='') as f:
        return [r['stem'] for r in csv.DictReader(f) if r['split'] == 'train']


def load(data, stem, size):
    img = Image.open(os.path.join(data, 'images', stem + '.jpg')).convert('L')
    mask = Image.open(os.path.join(data, 'masks', stem + '.png')).convert('L')
    img = img.resize((size, size), Image.BILINEAR)
    mask = mask.resize((size, size), Image.NEAREST)
    return np.asarray(img, dtype=np.float32) / 255.0, (np.asarray(mask) > 127).astype(np.uint8)


def affine(img, mask, angle, scale, tx, ty):
    """Rotation by `angle`° and scale about the centre, then a shift of (tx, ty) px."""
    h, w = img.shape
    a = math.radians(angle)
    c, s = math.cos(a) / scale, math.sin(a) / scale
    cx, cy = w / 2, h / 2
    # PIL maps each output pixel to its input pixel: the inverse transform.
    coeffs = (c, s, cx - c * (cx + tx) - s * (cy + ty), -s, c, cy + s * (cx + tx) - c * (cy + ty))
    img = Image.fromarray(img, mode='F').transform((w, h), Image.AFFINE, coeffs, Image.BILINEAR)
    mask = Image.fromarray(mask * 255).transform((w, h), Image.AFFINE, coeffs, Image.NEAREST)
    return np.asarray(img, dtype=np.float32), (np.asarray(mask) > 127).astype(np.uint8)


def augment(img, mask, rng):
    """The seed augmentation (SEED_AUGMENT), grey values in 0…1."""
    h, w = img.shape
    if rng.random() < 0.7:
        img, mask = img[:, ::-1], mask[:, ::-1]
    img, mask = np.ascontiguousarray(img), np.ascontiguousarray(mask)
    if rng.random() < 0.7:
        img, mask = affine(img, mask, rng.uniform(-5, 5), 1.0, 0.0, 0.0)
    if rng.random() < 0.3:
        img = np.clip(img * (1 + rng.uniform(-0.1, 0.1)) + rng.uniform(-0.1, 0.1), 0, 1)
    if rng.random() < 0.5:
        img, mask = affine(img, mask, rng.uniform(-10, 10), 1 + rng.uniform(-0.1, 0.1),
                           rng.uniform(-0.1, 0.1) * w, rng.uniform(-0.1, 0.1) * h)
    if rng.random() < 0.1:
        std = rng.uniform(math.sqrt(10) / 255, math.sqrt(50) / 255)
        img = np.clip(img + rng.normal(0, std, img.shape).astype(np.float32), 0, 1)
    return img, mask


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    stems = train_stems(a.data)
    total = a.warmup + a.steps
    order = [stems[i % len(stems)] for i in rng.permutation(max(len(stems), total * a.batch))]
    decoder = [max(4, round(f * a.width)) for f in DEFAULT_DECODER]
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = Unet(a.size, 1, 1, a.width, decoder).to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-7)
    model.train()
    times, data_times = [], []
    for step in range(total):
        t0 = time.perf_counter()
        xs, ys = [], []
        for stem in order[step * a.batch:(step + 1) * a.batch]:
            img, mask = augment(*load(a.data, stem, a.size), rng)
            xs.append((img - img.mean()) / max(float(img.std()), 1e-6))
            ys.append(mask)
        x = torch.from_numpy(np.stack(xs)[:, None]).contiguous(memory_format=fmt)
        y = torch.from_numpy(np.stack(ys)[:, None].astype(np.float32))
        t_data = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        p = model(x)
        loss = loss_fn(y, p, 1)
        loss.backward()
        opt.step()
        with torch.no_grad():
            b = (p > 0.5).float()
            counts = torch.stack([(b * y).sum(), b.sum(), y.sum()])
        loss.item(), counts.tolist()
        if step >= a.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
            data_times.append((t_data - t0) * 1e3)
    print(json.dumps({
        'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'layout': 'channels-last' if a.channels_last else 'NCHW',
        'size': a.size, 'width': a.width, 'batch': a.batch, 'decoder': decoder,
        'warmup': a.warmup, 'stepsMs': [round(t, 1) for t in times],
        'secondsPerStep': sum(times) / len(times) / 1e3,
        'dataShare': sum(data_times) / sum(times),
    }))


if __name__ == '__main__':
    main(sys.argv[1:])
