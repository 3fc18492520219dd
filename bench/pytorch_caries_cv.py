#!/usr/bin/env python3
"""GPU exploration of caries recipes: a PyTorch replica of `dentseg train`'s lesion recipe,
cross-validated on dc1000's five committed folds, for asking which change could lift lesion
sensitivity towards issue 19's 0.70 before spending CPU days on it in the product.

It is a *replica*, not the product: its numbers are never a shipped model's (those come from
`dentseg evaluate`). What it copies from dentseg (models/caries/dentseg.json, 0.3.0's command):
- the network of src/model/unet.ts as bench/pytorch_unet.py writes it in PyTorch (Keras
  VGG-16 encoder, decoder of two conv + batch norm (ε 1e-3, momentum 0.99) + ReLU per stage,
  nearest upsampling, 1×1 sigmoid head), optionally
  initialised from models/teeth-binary's weights (`--init` in dentseg);
- 256² training tiles at dc1000's width, 8 per image and epoch, 70 % centred on a lesion
  pixel drawn uniformly (src/data/tiling.ts sampleTileOrigin), validation tiles drawn once;
- the seed's augmentation (flip p 0.7, rotate ±5° p 0.7, brightness/contrast ±0.1 p 0.3,
  shift-scale-rotate 0.1/0.1/10° p 0.5, noise p 0.1), image and mask warped together;
- z-score normalisation with the whole X-ray's mean and sd (src/data/pipeline.ts);
- the loss of src/train/losses.ts: mean(BCE · class weight · lesion-size weight) + 1 − Dice,
  the Dice sums weighted alike; lesion-size weight min(10, max(1, ref / area)) per
  8-connected lesion of the tile; Adam (ε 1e-7), learning rate halved after `lr_patience`
  epochs without a lower validation loss, early stop after `patience` epochs without a
  higher validation Dice, `best` = the epoch of the highest validation Dice;
- scoring as `dentseg evaluate` scores a lesion model: the mirrored pass averaged,
  threshold, regions under 30 px dropped, the tooth gate (regions must come within 8 px of
  teeth-fdi's teeth), ground-truth lesions of at least 20 px, found = overlapped by a kept
  region, false positive = a kept region overlapping no lesion; pooled pixel Dice.
Where it differs: one whole-image pass instead of overlapping 256² tiles (both fully
convolutional; the tiling test in the product shows they agree away from the borders), its
own random streams, GPU arithmetic (TF32; bf16 for the wider encoders). Measured on 0.3.0's
own recipe it runs hotter than the product (five folds: sensitivity 0.550 at 3.17 false
positives per image where `dentseg evaluate` gives 0.509 at 1.40), so only comparisons
between its own recipes carry over.

Three steps:
  /usr/bin/python3 bench/pytorch_caries_cv.py prep --images D/images --masks D/masks \
      --teeth TEETH_DIR --out .cariesdata
      (TEETH_DIR: `dentseg predict --model models/teeth-fdi --model models/teeth-binary`'s
      output, X.mask.png = the teeth); packs grey X-rays, masks and teeth.
  python3 bench/pytorch_caries_cv.py run --data .cariesdata --variant NAME --fold K \
      --results FILE.jsonl [--deadline UNIX_SECONDS]
      trains one variant on one fold and appends one JSON line of scores per threshold.
  python3 bench/pytorch_caries_cv.py summary FILE.jsonl...
      the cross-validation table of each variant (mean ± sd over its folds).
"""
import argparse
import contextlib
import fcntl
import json
import math
import os
import sys
import time

import numpy as np

THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]

# Each variant changes 0.3.0's recipe in one or two named ways.
BASE = dict(width=0.25, decoder=[64, 32, 16, 16, 16], init=True, lr=5e-4, epochs=40,
            patience=10, lr_patience=4, class_weights=(1.0, 3.0), lesion_ref=300.0,
            tiles_per_image=8, batch=8, tile=256, lesion_share=0.7, amp=False)
VARIANTS = {
    'base': {},
    'long120': dict(epochs=120, patience=30, lr_patience=8),
    'lw1000-long120': dict(epochs=120, patience=30, lr_patience=8, lesion_ref=1000.0),
    # wider encoders have no teeth-binary of their width to start from; bf16 for their speed
    'w0.5-scratch-120': dict(width=0.5, decoder=[128, 64, 32, 16, 16], init=False, lr=3e-4,
                             epochs=120, patience=30, lr_patience=8, amp=True),
    'w1-scratch-120': dict(width=1.0, decoder=[256, 128, 64, 32, 16], init=False, lr=2e-4,
                           epochs=120, patience=30, lr_patience=8, amp=True),
}


def png(path):
    from PIL import Image
    return np.asarray(Image.open(path))


def prep(a):
    """Pack the data set (grey uint8 X-rays, 0/1 masks, 0/1 teeth) and teeth-binary's weights."""
    names = sorted(os.listdir(a.images))
    images, masks, teeth = [], [], []
    for n in names:
        im = png(os.path.join(a.images, n))
        images.append(im[..., 0] if im.ndim == 3 else im)  # dc1000: R = G = B
        m = png(os.path.join(a.masks, n))
        masks.append(((m[..., 0] if m.ndim == 3 else m) > 0).astype(np.uint8))
        stem = os.path.splitext(n)[0]
        teeth.append((png(os.path.join(a.teeth, stem + '.mask.png')) > 0).astype(np.uint8))
    import cv2
    os.makedirs(a.out, exist_ok=True)
    # lossless WebP: the device call carries the repo and this folder within 64 MiB
    coded = [cv2.imencode('.webp', im, [cv2.IMWRITE_WEBP_QUALITY, 101])[1] for im in images]
    for c, im in zip(coded, images):
        assert np.array_equal(cv2.imdecode(c, cv2.IMREAD_GRAYSCALE), im), 'WebP not lossless'
    np.savez_compressed(os.path.join(a.out, 'data.npz'), names=np.array(names),
                        coded=np.concatenate(coded), lengths=np.array([len(c) for c in coded]),
                        shape=np.array(images[0].shape), masks=np.packbits(np.stack(masks)),
                        teeth=np.packbits(np.stack(teeth)))
    print(f'{len(names)} X-rays → {a.out}')


def init_weights(folder):
    """A dentseg model folder's weights (model.json's manifest over weights.bin) by name."""
    manifest = json.load(open(os.path.join(folder, 'model.json')))['weightsManifest']
    weights = {}
    for group in manifest:
        buf = b''.join(open(os.path.join(folder, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            assert w['dtype'] == 'float32' and 'quantization' not in w, w['name']
            n = int(np.prod(w['shape']))
            weights[w['name']] = np.frombuffer(buf, np.float32, n, off).reshape(w['shape'])
            off += 4 * n
    return weights


def load_dentseg_weights(model, w):
    """Copy weights by dentseg name (`init_weights`) into bench/pytorch_unet.py's network."""
    import torch
    k = lambda n: torch.from_numpy(np.array(w[n]))  # a writable copy
    conv_k = lambda n: k(n).permute(3, 2, 0, 1).contiguous()  # HWIO → OIHW
    with torch.no_grad():
        for b, block in enumerate(model.encoder):
            for c, conv in enumerate(block):
                conv.weight.copy_(conv_k(f'block{b + 1}_conv{c + 1}/kernel'))
                conv.bias.copy_(k(f'block{b + 1}_conv{c + 1}/bias'))
        for s, st in enumerate(model.decoder):
            for j in (1, 2):
                st[2 * j - 2].weight.copy_(conv_k(f'decoder{s + 1}_conv{j}/kernel'))
                bn, p = st[2 * j - 1], f'decoder{s + 1}_bn{j}/'
                bn.weight.copy_(k(p + 'gamma'))
                bn.bias.copy_(k(p + 'beta'))
                bn.running_mean.copy_(k(p + 'moving_mean'))
                bn.running_var.copy_(k(p + 'moving_variance'))
        model.head.weight.copy_(conv_k('head/kernel'))
        model.head.bias.copy_(k('head/bias'))


def run(a):
    import cv2
    import torch
    import torch.nn.functional as F
    from pytorch_unet import Unet  # bench/ is on the path: this script's own folder

    cfg = {**BASE, **VARIANTS[a.variant]}
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    seed = 5 + 1000 * a.fold
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    t_start = time.time()

    d = np.load(os.path.join(a.data, 'data.npz'))
    names = [str(n) for n in d['names']]
    split = {}
    with open(os.path.join(a.folds, f'fold-{a.fold}.csv')) as f:
        next(f)
        for line in f:
            n, s = line.strip().split(',')
            split[n] = s
    train_ix = [i for i, n in enumerate(names) if split[n] == 'train']
    val_ix = [i for i, n in enumerate(names) if split[n] == 'val']
    if a.smoke:  # a quick check of the code path on a CPU, no result worth reading
        cfg.update(epochs=1, tiles_per_image=1)
        val_ix = val_ix[:2]
    ends = np.cumsum(d['lengths'])
    grey = np.stack([cv2.imdecode(d['coded'][e - n:e], cv2.IMREAD_GRAYSCALE)
                     for e, n in zip(ends, d['lengths'])]).astype(np.float32)
    shape = (len(names), *[int(v) for v in d['shape']])
    masks = np.unpackbits(d['masks'])[:np.prod(shape)].reshape(shape)
    teeth = np.unpackbits(d['teeth'])[:np.prod(shape)].reshape(shape)
    mean = grey.reshape(len(names), -1).mean(1)
    sd = grey.reshape(len(names), -1).std(1) + 1e-6

    # bench/pytorch_unet.py's network (src/model/unet.ts in PyTorch), one grey channel, one class
    model = Unet(cfg['tile'], 1, 1, cfg['width'], cfg['decoder'])
    if cfg['init']:
        load_dentseg_weights(model, init_weights(a.init))
    model = model.to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=cfg['lr'], eps=1e-7)
    amp = cfg['amp'] and dev.type == 'cuda'
    autocast = lambda: torch.autocast('cuda', torch.bfloat16) if amp else contextlib.nullcontext()

    T = cfg['tile']
    H, W = grey.shape[1:]

    def sample_tiles(indices, r):
        """Tile origins as sampleTileOrigin draws them: lesion-centred with lesionShare."""
        out = []
        for i in indices:
            for _ in range(cfg['tiles_per_image']):
                ys, xs = None, None
                if r.random() < cfg['lesion_share']:
                    ys, xs = np.nonzero(masks[i])
                if ys is not None and len(ys):
                    p = r.integers(len(ys))
                    y0 = min(max(0, ys[p] - T // 2), H - T)
                    x0 = min(max(0, xs[p] - T // 2), W - T)
                else:
                    y0, x0 = r.integers(H - T + 1), r.integers(W - T + 1)
                out.append((i, y0, x0))
        return out

    def size_weights(m):
        """Lesion-size weights of one tile's mask (losses.ts lesionSizeWeights)."""
        wt = np.ones(m.shape, np.float32)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        for c in range(1, n):
            wt[lab == c] = min(10.0, max(1.0, cfg['lesion_ref'] / stats[c, cv2.CC_STAT_AREA]))
        return wt

    def batch_tensors(tiles):
        x = np.stack([(grey[i, y:y + T, x:x + T] - mean[i]) / sd[i] for i, y, x in tiles])
        m = np.stack([masks[i, y:y + T, x:x + T] for i, y, x in tiles])
        wt = np.stack([size_weights(mm) for mm in m])
        # brightness/contrast act on grey values 0…1 before normalising: in z units they are
        # a shift of β/(sd/255) and a scale
        zs = np.array([255.0 / sd[i] for i, _, _ in tiles], np.float32)
        to = lambda v: torch.from_numpy(v).to(dev)[:, None]
        return to(x.astype(np.float32)), to(m.astype(np.float32)), to(wt), torch.from_numpy(zs).to(dev)

    def augment(x, m, wt, zs, g):
        """The seed's augmentation on the GPU: one affine per tile, pixel ops after."""
        n = x.shape[0]
        u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, device=dev, generator=g)
        on = lambda p: (torch.rand(n, device=dev, generator=g) < p).float()
        flip = 1 - 2 * on(0.7)
        rot = on(0.7) * u(-5, 5) + (ssr := on(0.5)) * u(-10, 10)
        scale = 1 + ssr * u(-0.1, 0.1)
        tx, ty = ssr * u(-0.2, 0.2), ssr * u(-0.2, 0.2)  # ±10 % of the tile (grid is −1…1)
        th = rot * math.pi / 180
        cos, sin = torch.cos(th) / scale, torch.sin(th) / scale
        theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1),
                             torch.stack([sin * flip, cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
        mw = F.grid_sample(torch.cat([m, wt], 1), grid, mode='nearest', padding_mode='zeros',
                           align_corners=False)
        m, wt = mw[:, :1], mw[:, 1:].clamp(min=1)
        bc = on(0.3)
        alpha = 1 + bc * u(-0.1, 0.1)
        beta = bc * u(-0.1, 0.1) * zs
        x = x * alpha[:, None, None, None] + beta[:, None, None, None]
        noise = on(0.1)[:, None, None, None] * 0.05 * zs[:, None, None, None]
        x = x + noise * torch.randn(x.shape, device=dev, generator=g)
        return x.contiguous(memory_format=torch.channels_last), m, wt

    cw0, cw1 = cfg['class_weights']

    def loss_of(logits, y, wt):
        p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
        bce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
        bce = bce * (y * (cw1 - cw0) + cw0) * wt
        tp, st, sp = (wt * y * p).sum(), (wt * y).sum(), (wt * p).sum()
        return bce.mean() + 1 - (2 * tp + 1) / (st + sp + 1)

    g = torch.Generator(device=dev)
    g.manual_seed(seed)
    val_tiles = sample_tiles(val_ix, np.random.default_rng(seed + 1))
    vx, vm, _, _ = batch_tensors(val_tiles)
    vx = vx.contiguous(memory_format=torch.channels_last)

    best = {'dice': -1.0, 'epoch': 0, 'state': None}
    best_loss, since_loss, since_dice = float('inf'), 0, 0
    lr = cfg['lr']
    history = []
    truncated = False
    for epoch in range(1, cfg['epochs'] + 1):
        if a.deadline and time.time() > a.deadline:
            truncated = True
            break
        model.train()
        tiles = sample_tiles(train_ix, rng)
        order = rng.permutation(len(tiles))
        tl = []
        for s in range(0, len(order) - cfg['batch'] + 1, cfg['batch']):
            x, m, wt, zs = batch_tensors([tiles[j] for j in order[s:s + cfg['batch']]])
            x, m, wt = augment(x, m, wt, zs, g)
            with autocast():
                logits = model(x, logits=True)
            loss = loss_of(logits.float(), m, wt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tl.append(loss.detach())
        model.eval()
        with torch.no_grad():
            vl, inter, ssum = 0.0, 0.0, 0.0
            for s in range(0, len(val_tiles), 32):
                with autocast():
                    lg = model(vx[s:s + 32], logits=True).float()
                y = vm[s:s + 32]
                vl += float(loss_of(lg, y, torch.ones_like(y))) * len(y)
                pr = (lg >= 0).float()
                inter += float((pr * y).sum())
                ssum += float(pr.sum() + y.sum())
            vl /= len(val_tiles)
            vd = 2 * inter / ssum if ssum else 1.0
        history.append([epoch, round(float(torch.stack(tl).mean()), 5), round(vl, 5), round(vd, 5), lr])
        if vd > best['dice'] + 1e-4:
            best = {'dice': vd, 'epoch': epoch,
                    'state': {k: v.detach().clone() for k, v in model.state_dict().items()}}
            since_dice = 0
        else:
            since_dice += 1
        if vl < best_loss - 1e-4:
            best_loss, since_loss = vl, 0
        else:
            since_loss += 1
            if since_loss >= cfg['lr_patience']:
                lr = max(lr * 0.5, 1e-6)
                for pg in opt.param_groups:
                    pg['lr'] = lr
                since_loss = 0
        if since_dice >= cfg['patience']:
            break

    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17))  # Euclidean reach 8 px
    gates = [cv2.dilate(teeth[i], disk) for i in val_ix]
    truth = []
    for i in val_ix:
        n, lab, st, _ = cv2.connectedComponentsWithStats(masks[i], connectivity=8)
        keep = [c for c in range(1, n) if st[c, cv2.CC_STAT_AREA] >= 20]
        truth.append((lab, keep, {c: int(st[c, cv2.CC_STAT_AREA]) for c in keep}))

    def probabilities():
        model.eval()
        ph = (H + 31) // 32 * 32
        pw = (W + 31) // 32 * 32
        out = []
        with torch.no_grad():
            for i in val_ix:
                x = torch.from_numpy((grey[i] - mean[i]) / sd[i]).to(dev)[None, None]
                x = F.pad(x, (0, pw - W, 0, ph - H))
                x = torch.cat([x, torch.flip(x, [3])]).contiguous(memory_format=torch.channels_last)
                with autocast():
                    p = torch.sigmoid(model(x, logits=True).float())
                p = (p[0, 0] + torch.flip(p[1, 0], [1])) / 2
                out.append(p[:H, :W].float().cpu().numpy())
        return out

    def score(probs):
        rows = []
        for t in THRESHOLDS:
            tp = fp_px = fn_px = 0
            found = truth_n = fp = 0
            areas = []
            for k, i in enumerate(val_ix):
                pred = (probs[k] >= t).astype(np.uint8)
                n, lab, st, _ = cv2.connectedComponentsWithStats(pred, connectivity=8)
                tlab, tkeep, tarea = truth[k]
                real = np.isin(tlab, tkeep)
                keep = np.zeros(n, bool)
                for c in range(1, n):
                    if st[c, cv2.CC_STAT_AREA] < 30:
                        continue
                    x0, y0, w, h = st[c, :4]
                    box = (slice(y0, y0 + h), slice(x0, x0 + w))
                    region = lab[box] == c
                    keep[c] = bool(gates[k][box][region].any())
                    if keep[c] and not real[box][region].any():
                        fp += 1
                kept = keep[lab]
                truth_px = masks[i] > 0
                tp += int((kept & truth_px).sum())
                fp_px += int((kept & ~truth_px).sum())
                fn_px += int((~kept & truth_px).sum())
                truth_n += len(tkeep)
                hit = set(int(c) for c in np.unique(tlab[kept & real])) - {0}
                found += len(hit)
                areas += [[tarea[c], c in hit] for c in tkeep]
            rows.append({'threshold': t, 'dice': 2 * tp / max(1, 2 * tp + fp_px + fn_px),
                         'truth': truth_n, 'found': found, 'falsePositives': fp,
                         'sensitivity': found / max(1, truth_n), 'fpPerImage': fp / len(val_ix),
                         'lesions': areas})  # [area px, found] per ground-truth lesion
        return rows

    t_train = round(time.time() - t_start, 1)
    result = {'variant': a.variant, 'fold': a.fold, 'config': cfg, 'device': str(dev),
              'epochs': len(history), 'truncated': truncated, 'bestEpoch': best['epoch'],
              'bestValDice': best['dice'], 'seconds': None, 'last': score(probabilities())}
    if best['state'] is not None:
        model.load_state_dict(best['state'])
    result['best'] = score(probabilities())
    result['history'] = history
    result['seconds'] = round(time.time() - t_start, 1)
    result['trainSeconds'] = t_train
    with open(a.results, 'a') as f:  # one line per run; the lock keeps parallel runs' lines whole
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(result) + '\n')
        f.flush()
        fcntl.flock(f, fcntl.LOCK_UN)
    b5 = next(r for r in result['best'] if r['threshold'] == 0.5)
    print(f"{a.variant} fold {a.fold}: {len(history)} epochs, best {best['epoch']}, "
          f"t0.5 Dice {b5['dice']:.3f} found {b5['found']}/{b5['truth']} FP {b5['fpPerImage']:.2f}, "
          f"{result['seconds']} s", flush=True)


def summary(a):
    """Per variant and threshold: mean ± sd over folds of pooled Dice, sensitivity and false
    positives per image, and the lesions found by size (≤ 50 px, 51–200, > 200)."""
    import statistics as st
    runs = [json.loads(line) for path in a.results for line in open(path)]
    out = {}
    for v in sorted({r['variant'] for r in runs}):
        rs = sorted((r for r in runs if r['variant'] == v), key=lambda r: r['fold'])
        entry = {'folds': [r['fold'] for r in rs], 'epochs': [r['epochs'] for r in rs],
                 'bestEpoch': [r['bestEpoch'] for r in rs],
                 'truncated': [r['truncated'] for r in rs]}
        for which in ('best', 'last'):
            rows = []
            for ti, t in enumerate(THRESHOLDS):
                col = lambda key: [r[which][ti][key] for r in rs]
                ms = lambda v: [round(st.mean(v), 3), round(st.stdev(v), 3) if len(v) > 1 else 0]
                lesions = [les for r in rs for les in r[which][ti]['lesions']]
                by_size = {}
                for name, lo, hi in (('le50', 0, 50), ('51to200', 51, 200), ('gt200', 201, 1e9)):
                    sized = [f for area, f in lesions if lo <= area <= hi]
                    by_size[name] = [sum(sized), len(sized)]
                rows.append({'threshold': t, 'dice': ms(col('dice')),
                             'sensitivity': ms(col('sensitivity')),
                             'fpPerImage': ms(col('fpPerImage')),
                             'found': sum(col('found')), 'truth': sum(col('truth')),
                             'foundBySize': by_size})
            entry[which] = rows
        out[v] = entry
    print(json.dumps(out, indent=1))


def main(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('prep')
    p.add_argument('--images', required=True)
    p.add_argument('--masks', required=True)
    p.add_argument('--teeth', required=True)
    p.add_argument('--out', required=True)
    r = sub.add_parser('run')
    r.add_argument('--data', required=True)
    r.add_argument('--folds', default='data/folds/dc1000-caries-5fold')
    r.add_argument('--init', default='models/teeth-binary')
    r.add_argument('--variant', required=True, choices=sorted(VARIANTS))
    r.add_argument('--fold', type=int, required=True)
    r.add_argument('--results', required=True)
    r.add_argument('--deadline', type=float, default=0)
    r.add_argument('--smoke', action='store_true', help='1 epoch, 1 tile per image, 2 X-rays scored')
    m = sub.add_parser('summary')
    m.add_argument('results', nargs='+', help='results files (JSON lines) of `run`')
    a = ap.parse_args(argv)
    if a.cmd == 'prep':
        prep(a)
    elif a.cmd == 'summary':
        summary(a)
    else:
        run(a)


if __name__ == '__main__':
    main(sys.argv[1:])
