#!/usr/bin/env python3
"""Convolution layout micro-benchmark: the ATen calls of native/src/ops_nn.cc, timed in
contiguous NCHW against channels-last memory, on the same libtorch (Debian python3-torch).

dentseg's tensors are NHWC (tfjs). The channels-last path (`nhwc`) runs on NCHW views of
them, with no copy; the `nchw` path copies x / dy to contiguous NCHW first and the result
back to NHWC, and those copies are included in its times. Layouts alternate within each
round (A B A B) because the machine is shared; the table gives the median GFLOPS and the
spread over rounds, and the nchw/nhwc time ratio per pass.

Usage: /usr/bin/python3 bench/conv_layout.py [--threads 2] [--rounds 5] [--json FILE]
"""
import argparse
import json
import statistics
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--rounds', type=int, default=5)
ap.add_argument('--json', default='')
ap.add_argument('--shapes', default='')
args = ap.parse_args()
torch.set_num_threads(args.threads)

# (batch, channels, size): 3×3 'same' convolutions c→c of the U-Net's encoder blocks.
SHAPES = [
    (2, 64, 256), (2, 128, 128), (2, 256, 64), (2, 512, 32),  # width 1, 256², batch 2
    (8, 16, 256), (8, 32, 128), (8, 64, 64), (8, 128, 32),  # width 0.25, 256², batch 8
    (8, 16, 512),  # width 0.25, 512², batch 8
]
if args.shapes:
    SHAPES = [tuple(int(v) for v in s.split('x')) for s in args.shapes.split(',')]


def passes(layout, x_nhwc, w_hwio, dy_nhwc):
    """Returns the three passes as closures in the given layout, layout copies included."""
    cl = torch.channels_last

    def weight():
        w = w_hwio.permute(3, 2, 0, 1)
        return w.contiguous(memory_format=cl) if layout == 'nhwc' else w.contiguous()

    def fwd():
        x = x_nhwc.permute(0, 3, 1, 2)
        if layout == 'nchw':
            x = x.contiguous()
        y = torch.ops.aten.convolution(x, weight(), None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
        return y.permute(0, 2, 3, 1).contiguous()

    def bwd(mask):
        dy = dy_nhwc.permute(0, 3, 1, 2)
        x = x_nhwc.permute(0, 3, 1, 2)
        if layout == 'nchw':
            dy, x = dy.contiguous(), x.contiguous()
        g = torch.ops.aten.convolution_backward(dy, x, weight(), None, [1, 1], [1, 1], [1, 1], False,
                                                [0, 0], 1, mask)
        r = g[0] if mask[0] else g[1]
        return r.permute(0, 2, 3, 1).contiguous() if mask[0] else r.permute(2, 3, 1, 0).contiguous()

    def wgrad_padcopy():
        # what ops_nn.cc did before: pad x explicitly, then a padding-0 weight gradient
        dy = dy_nhwc.permute(0, 3, 1, 2)
        x = torch.constant_pad_nd(x_nhwc.permute(0, 3, 1, 2), [1, 1, 1, 1], 0.0)
        g = torch.ops.aten.convolution_backward(dy, x, weight(), None, [1, 1], [0, 0], [1, 1], False,
                                                [0, 0], 1, [False, True, False])
        return g[1].permute(2, 3, 1, 0).contiguous()

    out = {'forward': fwd, 'input grad': lambda: bwd([True, False, False]),
           'weight grad': lambda: bwd([False, True, False])}
    if layout == 'nhwc':
        out['weight grad (pad copy)'] = wgrad_padcopy
    return out


def timed(fn, reps):
    """(wall s, process CPU s) per call. CPU time (all threads) is the steadier measure on a
    shared machine: other jobs stretch the wall time, much less the work done."""
    fn()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps, (time.process_time() - c0) / reps


rows = []
for n, c, s in SHAPES:
    torch.manual_seed(0)
    x = torch.randn(n, s, s, c)
    w = torch.randn(3, 3, c, c) * 0.05
    dy = torch.randn(n, s, s, c)
    flops = 2 * n * s * s * c * c * 9
    reps = max(1, int(2e9 / flops))
    fns = {lay: passes(lay, x, w, dy) for lay in ('nchw', 'nhwc')}
    wall, cpu = {}, {}
    for _ in range(args.rounds):
        for p in fns['nhwc']:
            for lay in ('nchw', 'nhwc'):
                if p in fns[lay]:
                    tw, tc = timed(fns[lay][p], reps)
                    wall.setdefault((lay, p), []).append(tw)
                    cpu.setdefault((lay, p), []).append(tc)
    for (lay, p), ts in wall.items():
        g = [flops / t / 1e9 for t in ts]
        rows.append({'batch': n, 'channels': c, 'size': s, 'layout': lay, 'pass': p,
                     'wallMsMedian': statistics.median(ts) * 1e3, 'cpuMsMedian': statistics.median(cpu[(lay, p)]) * 1e3,
                     'gflopsMedian': statistics.median(g), 'gflopsMin': min(g), 'gflopsMax': max(g)})

    def ratio(a, b):
        """median (min-max) of a/b over the rounds, wall and CPU time."""
        rw = [x / y for x, y in zip(wall[a], wall[b])]
        rc = [x / y for x, y in zip(cpu[a], cpu[b])]
        return (f'wall {statistics.median(rw):.2f} ({min(rw):.2f}-{max(rw):.2f}), '
                f'cpu {statistics.median(rc):.2f} ({min(rc):.2f}-{max(rc):.2f})')

    for p in fns['nhwc']:
        if p in fns['nchw']:
            gf = {lay: statistics.median([flops / t / 1e9 for t in wall[(lay, p)]]) for lay in ('nchw', 'nhwc')}
            print(f'{c}->{c} @{s}² b{n} {p:12s} GFLOPS nchw {gf["nchw"]:6.1f} nhwc {gf["nhwc"]:6.1f}; '
                  f'nchw/nhwc {ratio(("nchw", p), ("nhwc", p))}', flush=True)
    print(f'{c}->{c} @{s}² b{n} weight grad nhwc pad copy / padding arg: '
          f'{ratio(("nhwc", "weight grad (pad copy)"), ("nhwc", "weight grad"))}', flush=True)

if args.json:
    with open(args.json, 'w') as f:
        json.dump({'torch': torch.__version__, 'threads': args.threads, 'rounds': args.rounds, 'rows': rows}, f, indent=1)
