#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:engine`: the network of dentseg's `buildUnet`
(src/model/unet.ts) written in PyTorch, timed with the same size, batch and threads.

Same layers and filters (Keras VGG16 encoder: 3×3 'same' conv + bias + ReLU, 2×2 max-pool;
decoder stages: nearest 2× upsampling, concat [upsampled, skip], two 3×3 convs without bias
+ batch norm (ε 1e-3, Keras momentum 0.99) + ReLU; 1×1 head + sigmoid/softmax), the same
loss (BCE + Dice, probabilities clipped at 1e-7, Dice smooth 1; multi-class: CCE + mean
Dice) and Adam (β 0.9/0.999, ε 1e-7, lr 1e-4). Forward = inference mode (batch norm on its
moving statistics, no autograd), as dentseg's `model.predict`; a training step = forward in
training mode, loss, backward, Adam update, loss read back. FLOPs are counted as
bench/flops.ts counts them (convolutions 2·Hout·Wout·kh·kw·Cin·Cout plus the bias; one FLOP
per output element of activations and resizing, two for batch norm, four for max-pool).

Two ways to run it:
  /usr/bin/python3 bench/pytorch_unet.py --size 256 --batch 2 --width 1 --steps 3
      times `steps` forward/train pairs after a warm-up and prints one JSON object;
  ... --serve
      for bench:engine, which alternates it with dentseg (A B A B): prints a JSON line
      {"ready": ...} once warmed up, then answers each stdin line `forward` / `train` with
      {"ms": ...} after running that pass once; `quit` ends it.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VGG16_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
DEFAULT_DECODER = [256, 128, 64, 32, 16]
EPSILON = 1e-7


def parse_args(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--width', type=float, default=1.0)
    ap.add_argument('--channels', type=int, default=3)
    ap.add_argument('--classes', type=int, default=1)
    ap.add_argument('--decoder-filters', default='')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--channels-last', action='store_true',
                    help='run in channels-last memory (default: PyTorch\'s usual contiguous NCHW)')
    ap.add_argument('--serve', action='store_true')
    return ap.parse_args(argv)


class Unet(nn.Module):
    """buildUnet's network; `flops` is its forward FLOP count per image."""

    def __init__(self, size, channels, classes, width, decoder):
        super().__init__()
        self.flops = 0
        self.encoder = nn.ModuleList()
        skips = []
        cin, s = channels, size
        for filters, convs in VGG16_BLOCKS:
            f = max(1, round(filters * width))
            block = []
            for _ in range(convs):
                block.append(nn.Conv2d(cin, f, 3, padding=1))
                self.flops += 2 * s * s * 9 * cin * f + s * s * f
                cin = f
            self.encoder.append(nn.ModuleList(block))
            skips.append((f, s))
            self.flops += 4 * (s // 2) ** 2 * f  # max-pool
            s //= 2
        self.decoder = nn.ModuleList()
        for filters, (skip_c, skip_s) in zip(decoder, reversed(skips)):
            s = skip_s
            self.flops += s * s * cin  # upsampling
            cin += skip_c
            stage = []
            for _ in range(2):
                stage += [nn.Conv2d(cin, filters, 3, padding=1, bias=False),
                          nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01)]
                self.flops += 2 * s * s * 9 * cin * filters + 2 * s * s * filters + s * s * filters
                cin = filters
            self.decoder.append(nn.ModuleList(stage))
        self.head = nn.Conv2d(cin, classes, 1)
        self.flops += 2 * s * s * cin * classes + s * s * classes + s * s * classes
        self.classes = classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)  # Keras' glorotUniform
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x, logits=False):
        """Probabilities, or the head's raw output with `logits` (for a loss that wants them)."""
        skips = []
        for block in self.encoder:
            for conv in block:
                x = F.relu(conv(x), inplace=True)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        for stage, skip in zip(self.decoder, reversed(skips)):
            x = torch.cat([F.interpolate(x, scale_factor=2, mode='nearest'), skip], 1)
            for i in range(0, len(stage), 2):
                x = F.relu(stage[i + 1](stage[i](x)), inplace=True)
        x = self.head(x)
        if logits:
            return x
        return torch.sigmoid(x) if self.classes == 1 else torch.softmax(x, 1)


def dice(y, p):
    return (2 * (y * p).sum() + 1) / (y.sum() + p.sum() + 1)


def loss_fn(y, p, classes):
    q = p.clamp(EPSILON, 1 - EPSILON)
    if classes == 1:
        bce = -(y * torch.log(q) + (1 - y) * torch.log(1 - q))
        return bce.mean() + 1 - dice(y, p)
    ce = -(y * torch.log(q)).sum(1)
    t = y.transpose(0, 1).reshape(classes, -1)
    r = p.transpose(0, 1).reshape(classes, -1)
    per_class = (2 * (t * r).sum(1) + 1) / (t.sum(1) + r.sum(1) + 1)
    return ce.mean() + 1 - per_class.mean()


def build(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    width = a.width
    decoder = ([int(v) for v in a.decoder_filters.split(',')] if a.decoder_filters
               else [max(4, round(f * width)) for f in DEFAULT_DECODER])
    model = Unet(a.size, a.channels, a.classes, width, decoder)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.rand(a.batch, a.channels, a.size, a.size).contiguous(memory_format=fmt)
    if a.classes == 1:
        y = (torch.rand(a.batch, 1, a.size, a.size) > 0.5).float()
    else:
        y = F.one_hot(torch.randint(0, a.classes, (a.batch, a.size, a.size)), a.classes).permute(0, 3, 1, 2).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-7)

    def forward():
        model.eval()
        with torch.inference_mode():
            model(x).sum().item()

    def train():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(y, model(x), a.classes)
        loss.backward()
        opt.step()
        loss.item()

    return model, forward, train


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def main(argv):
    a = parse_args(argv)
    model, forward, train = build(a)
    forward()  # warm-up: oneDNN primitives, allocations
    train()
    info = {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'layout': 'channels-last' if a.channels_last else 'NCHW',
        'params': sum(p.numel() for p in model.parameters()),
        'gflopForwardPerImage': model.flops / 1e9,
    }
    if a.serve:
        print(json.dumps({'ready': True, **info}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == 'quit':
                break
            if cmd not in ('forward', 'train'):
                print(json.dumps({'error': f'unknown command {cmd}'}), flush=True)
                continue
            # CPU time of the process (all threads) beside the wall time: on shared cores
            # it measures the work done, which other jobs' load stretches far less
            c0 = time.process_time()
            ms = timed(forward if cmd == 'forward' else train)
            print(json.dumps({'ms': ms, 'cpuMs': (time.process_time() - c0) * 1e3}), flush=True)
        return
    fwd, trn = [], []
    for _ in range(a.steps):
        fwd.append(timed(forward))
        trn.append(timed(train))
    med = lambda v: sorted(v)[len(v) // 2]
    print(json.dumps({**info, 'size': a.size, 'batch': a.batch, 'width': a.width,
                      'forwardMsPerImage': med(fwd) / a.batch, 'trainSecondsPerImage': med(trn) / 1e3 / a.batch,
                      'forwardRunsMs': fwd, 'trainRunsMs': trn}, indent=1))


if __name__ == '__main__':
    main(sys.argv[1:])
