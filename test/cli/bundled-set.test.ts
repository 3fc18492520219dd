// The bundled default set is named in one place (infer/bundled-set.ts): the help texts of
// --model and `serve`, the refusal when it is missing and the batch's lesion outputs all
// follow it, so adding a model to the set cannot leave one of them behind.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { MODEL_SET_OPTION } from '../../src/cli/flags.js';
import { registerServeCommands } from '../../src/cli/serve.js';
import { BUNDLED_SET, BUNDLED_SET_TEXT } from '../../src/infer/bundled-set.js';
import { summaryCsv } from '../../src/infer/batch.js';

const folders = [...BUNDLED_SET.teeth, ...BUNDLED_SET.lesions].map((n) => `models/${n}`);

describe('the bundled set, named once', () => {
  it('reads as the README says it: the numbering model outlined by the binary one, else the binary one, plus lesions', () => {
    expect(BUNDLED_SET_TEXT).toBe(
      'models/teeth-fdi (outlined by models/teeth-binary), else models/teeth-binary, plus models/caries when present',
    );
  });

  it('--model and serve name every folder of the set in their help', () => {
    const program = new Command();
    registerServeCommands(program);
    const serve = program.commands.find((c) => c.name() === 'serve');
    for (const text of [MODEL_SET_OPTION[1], serve?.description() ?? ''])
      for (const f of folders) expect(text, text).toContain(f);
  });

  it("summary.csv has a count and a teeth column for each of the set's lesion types", () => {
    const head = summaryCsv([]).split('\n')[0]!.split(',');
    for (const t of BUNDLED_SET.lesions)
      expect(head).toEqual(expect.arrayContaining([t, `${t}_teeth`]));
  });
});
