/**
 * The torch backend's convolution layouts: every convolution pass (forward, input and filter
 * gradient; symmetric, asymmetric and no padding) matches the cpu backend whether it runs in
 * channels-last, in contiguous NCHW or as `auto` chooses; `auto` picks NCHW only where it
 * was measured to be faster; DENTSEG_TORCH_CONV_LAYOUT is validated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/engine/index.js';
import { convLayoutFromEnv } from '../../src/engine/torch/index.js';
import { loadTorchNative, type ConvLayoutMode } from '../../src/engine/torch/native.js';
import { compareBackends, setupTorch, TORCH_BUILT, type InputSpec } from './torch-compare.js';

type T = ReturnType<typeof tf.tensor>;
type T4 = ReturnType<typeof tf.tensor4d>;
const as4 = (t: T): T4 => t as T4;
const f4 = (shape: number[]): InputSpec => ({ shape, lo: -1, hi: 1 });

interface Case {
  readonly name: string;
  readonly fn: (...xs: T[]) => T;
  readonly inputs: InputSpec[];
}

const CASES: Case[] = [
  {
    name: '3x3 same s1 (symmetric padding)',
    fn: (x, w) => tf.conv2d(as4(x), as4(w), 1, 'same'),
    inputs: [f4([2, 7, 6, 3]), f4([3, 3, 3, 5])],
  },
  {
    name: '3x3 same s2 (asymmetric padding)',
    fn: (x, w) => tf.conv2d(as4(x), as4(w), 2, 'same'),
    inputs: [f4([2, 8, 7, 3]), f4([3, 3, 3, 4])],
  },
  {
    name: '2x2 same (asymmetric padding)',
    fn: (x, w) => tf.conv2d(as4(x), as4(w), 1, 'same'),
    inputs: [f4([1, 5, 5, 2]), f4([2, 2, 2, 3])],
  },
  {
    name: '3x3 valid s2',
    fn: (x, w) => tf.conv2d(as4(x), as4(w), 2, 'valid'),
    inputs: [f4([1, 9, 8, 2]), f4([3, 3, 2, 4])],
  },
  {
    name: 'fused bias+relu, 256 channels at 4x4 (a layer auto runs partly in NCHW on AVX-512)',
    fn: (x, w, b) =>
      tf.fused.conv2d({
        x: as4(x),
        filter: as4(w),
        strides: 1,
        pad: 'same',
        bias: b,
        activation: 'relu',
      }),
    inputs: [f4([1, 4, 4, 256]), f4([3, 3, 256, 256]), f4([256])],
  },
  {
    name: 'transpose s2 same',
    fn: (x, w) => tf.conv2dTranspose(as4(x), as4(w), [2, 8, 6, 3], 2, 'same'),
    inputs: [f4([2, 4, 3, 5]), f4([2, 2, 3, 5])],
  },
];

describe.skipIf(!TORCH_BUILT)('torch convolution layouts', () => {
  beforeAll(() => setupTorch());
  afterAll(() => loadTorchNative().setConvLayout('auto'));

  for (const mode of ['nhwc', 'nchw', 'auto'] as const) {
    for (const c of CASES) {
      it(`${mode}: ${c.name} matches cpu (+grads)`, async () => {
        loadTorchNative().setConvLayout(mode);
        const err = await compareBackends(c.fn, c.inputs, { grad: true });
        expect(err).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('auto keeps channels-last for wide images and takes NCHW only where it measured faster', () => {
    const native = loadTorchNative();
    native.setConvLayout('auto');
    const { cpu } = native.convLayout();
    // Shallow, wide layers: channels-last on every CPU (NCHW was 2-12x slower with its copies).
    expect(native.convPlan('forward', 8, 16, 16, 256, 256)).toBe('nhwc');
    expect(native.convPlan('weightGrad', 8, 16, 16, 512, 512)).toBe('nhwc');
    expect(native.convPlan('inputGrad', 2, 64, 64, 256, 256)).toBe('nhwc');
    // Deep, narrow layers: the filter gradient is faster in NCHW.
    expect(native.convPlan('weightGrad', 2, 512, 512, 32, 32)).toBe('nchw');
    expect(native.convPlan('weightGrad', 2, 256, 256, 64, 64)).toBe('nchw');
    if (cpu === 'avx512') {
      expect(native.convPlan('forward', 2, 512, 512, 32, 32)).toBe('nhwc');
      expect(native.convPlan('weightGrad', 2, 128, 128, 128, 128)).toBe('nhwc');
    }
  });

  it('nhwc and nchw force every pass', () => {
    const native = loadTorchNative();
    for (const mode of ['nhwc', 'nchw'] as const) {
      native.setConvLayout(mode);
      expect(native.convLayout().mode).toBe(mode);
      for (const pass of ['forward', 'inputGrad', 'weightGrad'] as const) {
        expect(native.convPlan(pass, 2, 512, 512, 32, 32)).toBe(mode);
        expect(native.convPlan(pass, 8, 16, 16, 256, 256)).toBe(mode);
      }
    }
    native.setConvLayout('auto');
    expect(() => native.setConvLayout('fast' as ConvLayoutMode)).toThrow(/auto, nhwc or nchw/);
  });
});

describe('DENTSEG_TORCH_CONV_LAYOUT', () => {
  const saved = process.env.DENTSEG_TORCH_CONV_LAYOUT;
  afterAll(() => {
    if (saved === undefined) delete process.env.DENTSEG_TORCH_CONV_LAYOUT;
    else process.env.DENTSEG_TORCH_CONV_LAYOUT = saved;
  });

  it('defaults to auto and accepts nhwc / nchw', () => {
    delete process.env.DENTSEG_TORCH_CONV_LAYOUT;
    expect(convLayoutFromEnv()).toBe('auto');
    process.env.DENTSEG_TORCH_CONV_LAYOUT = 'nchw';
    expect(convLayoutFromEnv()).toBe('nchw');
  });

  it('refuses anything else with E_USAGE naming the variable', () => {
    process.env.DENTSEG_TORCH_CONV_LAYOUT = 'NHWC ';
    expect(() => convLayoutFromEnv()).toThrow(
      expect.objectContaining({
        code: 'E_USAGE',
        message: expect.stringMatching(/DENTSEG_TORCH_CONV_LAYOUT/),
      }),
    );
  });
});
