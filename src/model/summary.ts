/**
 * A Keras-style text summary of a model (layer, output shape, parameters), for
 * `dentseg model summary`. Pure: returns lines.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Summary rows: name, class, output shape, parameter count. */
export interface LayerRow {
  readonly name: string;
  readonly type: string;
  readonly outputShape: string;
  readonly params: number;
}

/** One row per layer, in model order. */
export function layerRows(model: LayersModel): LayerRow[] {
  return model.layers.map((l) => {
    const shape = l.outputShape;
    const fmt = (s: readonly (number | null)[]): string =>
      `[${s.map((d) => (d === null ? 'b' : d)).join(',')}]`;
    const outputShape = Array.isArray(shape[0])
      ? (shape as (number | null)[][]).map(fmt).join(' ')
      : fmt(shape as (number | null)[]);
    return { name: l.name, type: l.getClassName(), outputShape, params: l.countParams() };
  });
}

/** The summary as text lines: table, then totals (all, encoder, trainable). */
export function summaryLines(model: LayersModel): string[] {
  const rows = layerRows(model);
  const w0 = Math.max(5, ...rows.map((r) => r.name.length));
  const w1 = Math.max(4, ...rows.map((r) => r.type.length));
  const w2 = Math.max(12, ...rows.map((r) => r.outputShape.length));
  const fmt = (a: string, b: string, c: string, d: string): string =>
    `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padEnd(w2)}  ${d.padStart(11)}`;
  const n = (x: number): string => x.toLocaleString('en-US');
  const encoder = rows.filter((r) => r.name.startsWith('block')).reduce((s, r) => s + r.params, 0);
  const trainable = model.trainableWeights.reduce(
    (s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
    0,
  );
  return [
    fmt('layer', 'type', 'output shape', 'params'),
    '-'.repeat(w0 + w1 + w2 + 17),
    ...rows.map((r) => fmt(r.name, r.type, r.outputShape, n(r.params))),
    '-'.repeat(w0 + w1 + w2 + 17),
    `total parameters:     ${n(model.countParams())}`,
    `encoder (VGG16 blocks): ${n(encoder)}`,
    `trainable:            ${n(trainable)}`,
  ];
}
