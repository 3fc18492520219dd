// Which models number teeth, the post-processing recorded in dentseg.json (validated), and
// the presence threshold carried to another resolution.
import { describe, expect, it } from 'vitest';
import { parseModelMeta, type ModelMeta } from '../../src/model/index.js';
import { DEFAULT_PREPROCESS } from '../../src/data/index.js';
import { FDI_NUMBERS, minToothPxAt, numberingConfig } from '../../src/numbering/index.js';

const FDI = ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)];
const meta = (extra: Partial<ModelMeta> = {}): Record<string, unknown> => ({
  format: 1,
  name: 'teeth-fdi',
  version: '0.0.1',
  task: 'multiclass',
  classes: FDI,
  input: { size: [512, 512], channels: 3 },
  preprocess: { ...DEFAULT_PREPROCESS, size: [512, 512] },
  architecture: { encoder: 'vgg16', width: 0.25, decoderFilters: [], batchNorm: true, dropout: 0 },
  ...extra,
});

describe('numberingConfig', () => {
  it('defaults: all steps, 0.05 % of the input pixels', () => {
    const c = numberingConfig(parseModelMeta(meta(), 'x'))!;
    expect(c.mode).toBe('arch');
    expect(c.minToothPx).toBe(131);
    expect(c.scheme.fdiOfClass[32]).toBe(48);
    expect(minToothPxAt(c, 512, 512)).toBe(131);
    expect(minToothPxAt(c, 1024, 512)).toBe(262);
    expect(minToothPxAt(c, 10, 10)).toBe(1);
  });

  it('reads postprocess from dentseg.json; the caller may override the steps', () => {
    const m = parseModelMeta(meta({ postprocess: { numbering: 'unique', minToothPx: 50 } }), 'x');
    expect(numberingConfig(m)).toMatchObject({ mode: 'unique', minToothPx: 50 });
    expect(numberingConfig(m, 'none')?.mode).toBe('none');
  });

  it('is undefined for models that do not number teeth', () => {
    const binary = parseModelMeta(meta({ task: 'binary', classes: ['teeth'] }), 'x');
    expect(numberingConfig(binary)).toBeUndefined();
    const other = parseModelMeta(meta({ classes: ['background', 'tooth 1', 'tooth 2'] }), 'x');
    expect(numberingConfig(other)).toBeUndefined();
  });

  it('refuses a bad postprocess block naming the key', () => {
    const bad = (postprocess: unknown) => () =>
      parseModelMeta({ ...meta(), postprocess }, '/m/dentseg.json');
    expect(bad('arch')).toThrow(/"postprocess" must be an object/);
    expect(bad({ numbering: 'all' })).toThrow(
      /postprocess\.numbering.*none, unique, quadrant, arch/,
    );
    expect(bad({ minToothPx: 0 })).toThrow(/postprocess\.minToothPx/);
    expect(bad({ minToothPx: 2.5 })).toThrow(/postprocess\.minToothPx/);
  });
});
