#!/usr/bin/env python3
"""Can a second stage on the caries model's regions reach issue 19's 0.70 sensitivity at
≤ 1.5 false positives per image? Reads bench/lesion-probabilities.ts' output for several
folds (each fold's model on its own validation X-rays) and measures, over those folds:

1. `check`: the regions `dentseg evaluate` reports (threshold, regions under `minAreaPx`
   dropped, tooth gate within `marginPx`, truth lesions of ≥ 20 px, found = overlapped) —
   counted here and compared with that run's report.json, so the rest counts as the product;
2. `ceiling`: lesions found and false positives per image at lower thresholds — what any
   filter of those regions could at best keep;
3. `peaks`: the highest probability inside each truth lesion, by lesion size;
4. `secondStage`: a classifier over each candidate region (regions at a low threshold,
   same size rule and gate) that keeps or drops it, from the region's own numbers — area,
   peak/mean/90th-percentile probability, share on a tooth, distance to the teeth, grey level
   inside and around it, shape, position. Leave one fold out: trained on the other folds'
   regions; its operating point (the most lesions at ≤ 1.5 false positives per image) chosen
   by an inner leave-one-fold-out on those training folds, then applied to the held-out fold.
   Also the optimistic point read off each held-out fold itself.

Needs numpy, scipy and scikit-learn (Debian: python3-scipy, python3-sklearn).
  /usr/bin/python3 bench/caries_second_stage.py DIR1 DIR2 DIR3 \
      --json bench/results/caries-second-stage.json
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
from scipy import ndimage as ndi

EIGHT = np.ones((3, 3), bool)
TRUTH_MIN_PX = 20
FP_LIMIT = 1.5
FEATURES = ['larea', 'pmax', 'pmean', 'p90', 'onTooth', 'toothDist', 'greyIn', 'greyRing',
            'contrast', 'greySd', 'greyVsTeeth', 'aspect', 'fill', 'x', 'y']


def load(folder, stem):
    meta = json.load(open(os.path.join(folder, stem + '.json')))
    w, h = meta['width'], meta['height']
    read = lambda ext, dt: np.fromfile(os.path.join(folder, f'{stem}.{ext}'), dt).reshape(h, w)
    x = {'prob': read('prob.f32', np.float32), 'gate': read('gate.u8', np.uint8),
         'truth': read('truth.u8', np.uint8), 'grey': read('grey.u8', np.uint8).astype(np.float32)}
    # read at every threshold: computed once per image
    x['toothDist'] = ndi.distance_transform_edt(x['gate'] == 0)
    x['lesions'] = regions(x['truth'] > 0, TRUTH_MIN_PX)
    return x


def regions(binary, min_px):
    lab, n = ndi.label(binary, structure=EIGHT)
    area = np.bincount(lab.ravel(), minlength=n + 1)
    return lab, [i for i in range(1, n + 1) if area[i] >= min_px]


def reported(x, threshold, min_px, margin):
    """The product's rule (src/infer/lesion-gate.ts): regions ≥ min_px within margin of teeth."""
    lab, keep = regions(x['prob'] >= threshold, min_px)
    if not keep:
        return lab, []
    near = np.atleast_1d(ndi.minimum(x['toothDist'], lab, keep))
    return lab, [i for i, d in zip(keep, near) if d <= margin]


def candidates(x, threshold, min_px, margin):
    """Each reported region at `threshold`: its features and the truth lesions it overlaps."""
    lab, keep = reported(x, threshold, min_px, margin)
    tlab, tkeep = x['lesions']
    tset = set(tkeep)
    dist = x['toothDist']
    grey, prob, gate = x['grey'], x['prob'], x['gate']
    teeth_grey = grey[gate > 0].mean() if (gate > 0).any() else grey.mean()
    h, w = prob.shape
    boxes = ndi.find_objects(lab)
    out = []
    for i in keep:
        ys, xs = boxes[i - 1]
        y0, y1 = max(0, ys.start - 12), min(h, ys.stop + 12)
        x0, x1 = max(0, xs.start - 12), min(w, xs.stop + 12)
        reg = lab[y0:y1, x0:x1] == i
        ring = ndi.binary_dilation(reg, structure=EIGHT, iterations=5) & ~reg
        p = prob[y0:y1, x0:x1][reg]
        g_in, g_ring = grey[y0:y1, x0:x1][reg], grey[y0:y1, x0:x1][ring]
        area = int(reg.sum())
        cy, cx = np.argwhere(reg).mean(0) + [y0, x0]
        bh, bw = ys.stop - ys.start, xs.stop - xs.start
        hits = set(int(t) for t in np.unique(tlab[y0:y1, x0:x1][reg])) & tset
        out.append({
            'larea': float(np.log(area)), 'pmax': float(p.max()), 'pmean': float(p.mean()),
            'p90': float(np.percentile(p, 90)),
            'onTooth': float((gate[y0:y1, x0:x1][reg] > 0).mean()),
            'toothDist': float(dist[y0:y1, x0:x1][reg].min()), 'greyIn': float(g_in.mean()),
            'greyRing': float(g_ring.mean()), 'contrast': float(g_in.mean() - g_ring.mean()),
            'greySd': float(g_in.std()), 'greyVsTeeth': float(g_in.mean() / max(1.0, teeth_grey)),
            'aspect': float(bh / bw), 'fill': float(area / (bh * bw)), 'x': float(cx / w),
            'y': float(cy / h), 'hits': sorted(hits)})
    return out, len(tkeep)


def count(x, threshold, min_px, margin):
    """evaluate's lesion counts (src/evaluate/lesions.ts) for the reported regions."""
    lab, keep = reported(x, threshold, min_px, margin)
    pred = np.isin(lab, keep)
    tlab, tkeep = x['lesions']
    plab, pkeep = regions(pred, TRUTH_MIN_PX)
    both = (tlab > 0) & (plab > 0)
    tset, pset = set(tkeep), set(pkeep)
    pairs = {(a, b) for a, b in zip(tlab[both].tolist(), plab[both].tolist())
             if a in tset and b in pset}
    return {'truth': len(tkeep), 'found': len({a for a, _ in pairs}),
            'predicted': len(pkeep), 'falsePositives': len(pkeep) - len({b for _, b in pairs})}


def kept_counts(rows, keep):
    """Lesions found and false positives when only the `keep` regions are reported."""
    found, fp = set(), 0
    for (fold, stem, r), k in zip(rows, keep):
        if k:
            if r['hits']:
                found.update((fold, stem, t) for t in r['hits'])
            else:
                fp += 1
    return len(found), fp


def best_point(rows, scores, images):
    """(score threshold, found, FP per image) with the most found at ≤ FP_LIMIT per image."""
    best = None
    for s in np.unique(scores)[::-1]:
        f, fp = kept_counts(rows, scores >= s)
        if fp / images <= FP_LIMIT and (best is None or f > best[1]):
            best = (float(s), f, fp / images)
    return best or (float('inf'), 0, 0.0)


def classifiers():
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    return {
        'peak probability': None,
        'logistic regression': lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.3, max_iter=2000)),
        'random forest': lambda: RandomForestClassifier(
            n_estimators=400, min_samples_leaf=3, random_state=0),
        'gradient boosting': lambda: GradientBoostingClassifier(
            n_estimators=150, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=0),
    }


def second_stage(cands, images, truth):
    folds = sorted(cands)

    def rows_of(fs):
        rows = [(f, s, r) for f in fs for s, rs in cands[f].items() for r in rs]
        X = np.array([[r[k] for k in FEATURES] for _, _, r in rows]).reshape(len(rows), -1)
        y = np.array([1 if r['hits'] else 0 for _, _, r in rows])
        return rows, X, y

    def scores(make, train, test):
        rows, X, y = rows_of(test)
        if make is None:
            return rows, X[:, FEATURES.index('pmax')]
        _, Xt, yt = rows_of(train)
        return rows, make().fit(Xt, yt).predict_proba(X)[:, 1]

    out = {}
    for name, make in classifiers().items():
        per_fold, found, fp = [], 0, 0
        for f in folds:
            train = [g for g in folds if g != f]
            inner_rows, inner_scores = [], []
            for g in train:  # the operating point, from the training folds only
                r, s = scores(make, [h for h in train if h != g] or train, [g])
                inner_rows += r
                inner_scores += list(s)
            th, _, _ = best_point(inner_rows, np.array(inner_scores), sum(images[g] for g in train))
            rows, s = scores(make, train, [f])
            fnd, fps = kept_counts(rows, s >= th)
            _, ofound, ofp = best_point(rows, s, images[f])
            per_fold.append({'fold': f, 'found': fnd, 'truth': truth[f],
                             'fpPerImage': fps / images[f], 'scoreThreshold': th,
                             'bestOnFoldItself': {'found': ofound, 'fpPerImage': ofp}})
            found += fnd
            fp += fps
        n_img, n_truth = sum(images.values()), sum(truth.values())
        out[name] = {'found': found, 'truth': n_truth, 'sensitivity': found / n_truth,
                     'fpPerImage': fp / n_img, 'folds': per_fold}
    return out


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('dirs', nargs='+',
                    help='bench/lesion-probabilities.ts output folders, one per fold')
    ap.add_argument('--json')
    a = ap.parse_args(argv)
    data = {}
    for d in a.dirs:
        stems = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(d, '*.json'))
                       if not p.endswith('report.json'))
        data[d] = {s: load(d, s) for s in stems}
    reports = {d: json.load(open(os.path.join(d, 'report.json'))) for d in a.dirs}
    images = {d: len(data[d]) for d in a.dirs}
    result = {'folds': {d: reports[d]['model'] for d in a.dirs}, 'fpLimit': FP_LIMIT}

    check = {}
    for d in a.dirs:
        r = reports[d]
        c = [count(x, r['threshold'], r['minAreaPx'], r['marginPx']) for x in data[d].values()]
        mine = {k: sum(v[k] for v in c) for k in c[0]}
        theirs = {k: r['lesions'][k] for k in mine}
        if mine != theirs:
            raise SystemExit(f'{d}: counted {mine}, dentseg evaluate counted {theirs}')
        check[d] = mine
    result['check'] = check
    print('counts match dentseg evaluate:', check, flush=True)
    r0 = reports[a.dirs[0]]
    min_px, margin = r0['minAreaPx'], r0['marginPx']

    ceiling = []
    for t in [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]:
        c = [count(x, t, min_px, margin) for d in a.dirs for x in data[d].values()]
        tot = {k: sum(v[k] for v in c) for k in c[0]}
        ceiling.append({'threshold': t, **tot, 'sensitivity': tot['found'] / tot['truth'],
                        'fpPerImage': tot['falsePositives'] / sum(images.values())})
        print(f"threshold {t}: {tot['found']}/{tot['truth']} found, "
              f"{ceiling[-1]['fpPerImage']:.2f} FP/image", flush=True)
    result['ceiling'] = ceiling

    bins = [(20, 50), (50, 100), (100, 300), (300, 1000), (1000, None)]
    peaks = {b: [] for b in bins}
    for d in a.dirs:
        for x in data[d].values():
            tlab, tkeep = x['lesions']
            if not tkeep:
                continue
            area = np.atleast_1d(ndi.sum(np.ones_like(tlab), tlab, tkeep))
            top = np.atleast_1d(ndi.maximum(x['prob'], tlab, tkeep))
            for ar, p in zip(area, top):
                for lo, hi in bins:
                    if ar >= lo and (hi is None or ar < hi):
                        peaks[(lo, hi)].append(float(p))
    result['peaks'] = [{'areaPx': f'{lo}-{hi or ""}', 'lesions': len(v),
                        'peakAtLeast0.5': float(np.mean(np.array(v) >= 0.5)) if v else None,
                        'peakUnder0.05': float(np.mean(np.array(v) < 0.05)) if v else None,
                        'medianPeak': float(np.median(v)) if v else None}
                       for (lo, hi), v in peaks.items()]

    stages = []
    for t, mpx in [(0.05, min_px), (0.2, min_px), (0.2, 20), (0.4, min_px)]:
        cands, truth = {}, {}
        for d in a.dirs:
            cands[d], truth[d] = {}, 0
            for s, x in data[d].items():
                cands[d][s], nt = candidates(x, t, mpx, margin)
                truth[d] += nt
        n = sum(len(rs) for c in cands.values() for rs in c.values())
        stage = {'candidateThreshold': t, 'candidateMinAreaPx': mpx, 'candidates': n,
                 'classifiers': second_stage(cands, images, truth)}
        stages.append(stage)
        for name, v in stage['classifiers'].items():
            print(f"candidates at {t}, from {mpx} px ({n}): {name}: {v['found']}/{v['truth']} "
                  f"= {v['sensitivity']:.3f} at {v['fpPerImage']:.2f} FP/image", flush=True)
    result['secondStage'] = stages
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(home_as_tilde(result), f, indent=1)


def home_as_tilde(v):
    """The folders as `~/…` in the written JSON: the home directory is nobody's business."""
    home = os.path.expanduser('~').rstrip('/') + '/'
    fix = lambda t: '~/' + t[len(home):] if isinstance(t, str) and t.startswith(home) else t
    if isinstance(v, dict):
        return {fix(k): home_as_tilde(x) for k, x in v.items()}
    if isinstance(v, list):
        return [home_as_tilde(x) for x in v]
    return fix(v)


if __name__ == '__main__':
    main(sys.argv[1:])
