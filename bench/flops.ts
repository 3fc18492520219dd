/**
 * Analytic forward FLOP count of a tfjs layers model from its layer shapes: convolutions
 * (2·Hout·Wout·kh·kw·Cin·Cout, +bias), transposed convolutions (2·Hin·Win·kh·kw·Cin·Cout),
 * and one FLOP per output element for batch norm, activations, pooling windows and
 * resizing. Convolutions are > 99 % of a U-Net's work, so the small terms barely matter.
 */
import type { tf } from '../src/engine/index.js';

function dims(shape: unknown): number[] {
  if (!Array.isArray(shape)) return [];
  const s = (Array.isArray((shape as unknown[])[0]) ? (shape as unknown[])[0] : shape) as (
    number | null
  )[];
  return s.map((d) => d ?? 1);
}

const prod = (a: number[]): number => a.reduce((p, v) => p * v, 1);

/** FLOPs of one forward pass for batch 1. */
export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = dims(layer.outputShape);
    const inp = dims(
      (layer as unknown as { inboundNodes: { inputShapes: unknown }[] }).inboundNodes[0]
        ?.inputShapes,
    );
    const cfg = layer.getConfig() as { kernelSize?: number | number[]; useBias?: boolean };
    const k = Array.isArray(cfg.kernelSize) ? prod(cfg.kernelSize) : (cfg.kernelSize ?? 1) ** 2;
    if (cls === 'Conv2D') {
      const [, ho = 1, wo = 1, cout = 1] = out;
      const cin = inp[3] ?? 1;
      flops += 2 * ho * wo * k * cin * cout + (cfg.useBias === false ? 0 : ho * wo * cout);
    } else if (cls === 'Conv2DTranspose') {
      const [, hi = 1, wi = 1, cin = 1] = inp;
      const cout = out[3] ?? 1;
      flops += 2 * hi * wi * k * cin * cout + prod(out);
    } else if (cls === 'BatchNormalization') flops += 2 * prod(out);
    else if (cls === 'MaxPooling2D') flops += 4 * prod(out);
    else if (cls !== 'InputLayer' && cls !== 'Concatenate' && cls !== 'Dropout') flops += prod(out);
  }
  return flops;
}
