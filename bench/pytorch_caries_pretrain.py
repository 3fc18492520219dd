#!/usr/bin/env python3
"""Self-supervised pretraining of the caries model's network before `dentseg train --init`:
the one route to more caries sensitivity left untried inside the project (models/caries/
MODEL_CARD.md, "Self-supervised pretraining"). An experiment's tool, not a product command:
its output is an init folder, and only `dentseg train` + `dentseg evaluate` say what it is
worth.

Masked-image modelling: 256² tiles of X-rays with half of their 16×16 patches blanked (set to
the image mean), the network asked to paint the original back (mean squared error on the
blanked pixels, in the image's z units). Unlabelled X-rays only, so the caries masks are
never read: ufba425's 382 (512², the originals stretched to square) and the dc1000 X-rays of
the fold's training part (its validation X-rays stay unseen), half of each batch from each.
It starts from models/teeth-binary's weights (what 0.3.0's recipe starts from), so it asks
whether more X-ray texture, learnt without labels, helps the caries model beyond that start.

The network is bench/pytorch_unet.py's (src/model/unet.ts in PyTorch); weights are read and
written by their dentseg names (bench/pytorch_caries_cv.py's `init_weights` and
`load_dentseg_weights`). The output folder is the --init folder with its weights.bin replaced
and the head restored to the init's (the painting head has no use for finding caries).

  /usr/bin/python3 bench/pytorch_caries_pretrain.py --dc1000 ../shared/data/dc1000-caries/images \
      --split data/folds/dc1000-caries-5fold/fold-1.csv --ufba ../shared/data/ufba425/images \
      --init models/teeth-binary --out ~/dentseg-runs/ssl/f1-init --minutes 25
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# bench/ (this script's folder) is on the path now
from pytorch_caries_cv import init_weights, load_dentseg_weights  # noqa: E402

PATCH = 16
TILE = 256


def grey(path):
    import cv2
    im = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if im is None:
        raise SystemExit(f'{path}: not an image cv2 can read')
    return im.astype(np.float32)


def zscore(im):
    return (im - im.mean()) / (im.std() + 1e-6)


def dentseg_weights(model, init):
    """The model's weights by dentseg name, the head taken from `init`."""
    out = {}
    hwio = lambda t: t.detach().permute(2, 3, 1, 0).contiguous().numpy()  # OIHW → HWIO
    for b, block in enumerate(model.encoder):
        for c, conv in enumerate(block):
            out[f'block{b + 1}_conv{c + 1}/kernel'] = hwio(conv.weight)
            out[f'block{b + 1}_conv{c + 1}/bias'] = conv.bias.detach().numpy()
    for s, st in enumerate(model.decoder):
        for j in (1, 2):
            out[f'decoder{s + 1}_conv{j}/kernel'] = hwio(st[2 * j - 2].weight)
            bn, p = st[2 * j - 1], f'decoder{s + 1}_bn{j}/'
            out[p + 'gamma'] = bn.weight.detach().numpy()
            out[p + 'beta'] = bn.bias.detach().numpy()
            out[p + 'moving_mean'] = bn.running_mean.detach().numpy()
            out[p + 'moving_variance'] = bn.running_var.detach().numpy()
    out['head/kernel'] = init['head/kernel']
    out['head/bias'] = init['head/bias']
    return out


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--dc1000', required=True, help='dc1000 image folder')
    ap.add_argument('--split', required=True, help="a fold's CSV: only its train part is read")
    ap.add_argument('--ufba', required=True, help='ufba425 image folder')
    ap.add_argument('--init', default='models/teeth-binary')
    ap.add_argument('--out', required=True)
    ap.add_argument('--minutes', type=float, default=25)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--lr', type=float, default=2e-4)
    ap.add_argument('--mask-share', type=float, default=0.5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=5)
    a = ap.parse_args(argv)

    import torch
    from pytorch_unet import Unet

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    with open(a.split) as f:
        next(f)
        train = [line.split(',')[0] for line in f if line.strip().endswith(',train')]
    dc = [zscore(grey(os.path.join(a.dc1000, n))) for n in train]
    ub = [zscore(grey(os.path.join(a.ufba, n))) for n in sorted(os.listdir(a.ufba))]
    print(f'{len(dc)} dc1000 X-rays (train part of {a.split}), {len(ub)} ufba425', flush=True)

    meta = json.load(open(os.path.join(a.init, 'dentseg.json')))
    arch = meta['architecture']
    model = Unet(TILE, 1, 1, arch['width'], arch['decoderFilters'])
    w0 = init_weights(a.init)
    load_dentseg_weights(model, w0)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)

    def crop(im):
        h, w = im.shape
        y, x = rng.integers(h - TILE + 1), rng.integers(w - TILE + 1)
        t = im[y:y + TILE, x:x + TILE]
        return t[:, ::-1] if rng.random() < 0.5 else t

    g = TILE // PATCH
    t0 = time.time()
    step, log = 0, []
    model.train()
    while time.time() - t0 < a.minutes * 60:
        half = a.batch // 2
        tiles = [crop(dc[rng.integers(len(dc))]) for _ in range(half)]
        tiles += [crop(ub[rng.integers(len(ub))]) for _ in range(a.batch - half)]
        y = torch.from_numpy(np.stack(tiles).copy())[:, None]
        hide = torch.from_numpy(rng.random((a.batch, 1, g, g)) < a.mask_share).float()
        hide = hide.repeat_interleave(PATCH, 2).repeat_interleave(PATCH, 3)
        x = y * (1 - hide)  # blanked patches read 0, the image's mean in z units
        out = model(x, logits=True)
        loss = ((out - y) ** 2 * hide).sum() / hide.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        log.append(float(loss))
        if step % 50 == 0:
            print(f'step {step} ({time.time() - t0:.0f} s): masked MSE {np.mean(log[-50:]):.4f}',
                  flush=True)

    os.makedirs(a.out, exist_ok=True)
    for n in ('model.json', 'dentseg.json'):
        shutil.copy(os.path.join(a.init, n), os.path.join(a.out, n))
    manifest = json.load(open(os.path.join(a.init, 'model.json')))['weightsManifest']
    assert len(manifest) == 1 and manifest[0]['paths'] == ['weights.bin'], manifest
    w = dentseg_weights(model, w0)
    with open(os.path.join(a.out, 'weights.bin'), 'wb') as f:
        for spec in manifest[0]['weights']:
            v = np.ascontiguousarray(w[spec['name']], np.float32)
            assert list(v.shape) == spec['shape'], (spec['name'], v.shape, spec['shape'])
            f.write(v.tobytes())
    first = float(np.mean(log[:50])) if log else None
    last = float(np.mean(log[-50:])) if log else None
    report = {'steps': step, 'tiles': step * a.batch, 'seconds': round(time.time() - t0, 1),
              'maskedMseFirst50': first, 'maskedMseLast50': last, 'args': vars(a)}
    json.dump(report, open(os.path.join(a.out, 'pretrain.json'), 'w'), indent=2)
    print(json.dumps(report), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
