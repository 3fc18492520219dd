// A lesion model's finding type names its mask file under the analysis: the refusal of a
// type that cannot says the rule the file-name pattern applies (start with a letter, at most
// 32 characters) and every reserved name, and names the dentseg.json field to change.
import { describe, expect, it } from 'vitest';
import { isDentsegError } from '../../src/errors.js';
import { ANALYSIS_FILES, lesionMaskFile } from '../../src/serve/types.js';

function refusal(type: string): string {
  try {
    lesionMaskFile(type);
  } catch (err) {
    if (isDentsegError(err) && err.code === 'E_MODEL_INVALID') return err.message;
    throw err;
  }
  throw new Error(`"${type}" was accepted`);
}

describe('lesionMaskFile', () => {
  it('gives <type>.png and its correction beside it', () => {
    expect(lesionMaskFile('caries')).toBe('caries.png');
    expect(lesionMaskFile('bone-loss', true)).toBe('bone-loss.corrected.png');
  });

  it.each(['9caries', 'Caries', 'a'.repeat(33), 'ca ries', ''])(
    'refuses %j with the whole rule and the field',
    (type) => {
      const message = refusal(type);
      expect(message).toContain('starting with a letter');
      expect(message).toContain('1 to 32');
      expect(message).toContain('postprocess.lesion');
      expect(message).toContain(JSON.stringify(type));
    },
  );

  it('refuses the name of each of the analysis files, and lists them all', () => {
    const stems = [...new Set(ANALYSIS_FILES.map((f) => f.split('.')[0]!))];
    for (const stem of stems) {
      const message = refusal(stem);
      for (const s of stems) expect(message).toContain(s);
    }
  });
});
