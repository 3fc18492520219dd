/**
 * The bundled default model set by folder name: one definition for `predict`, `serve`,
 * `worker`, their help texts and refusals, and the batch's lesion columns. No imports, so
 * the CLI's option tables can use it without loading the inference code.
 */

/**
 * The bundled default set, by folder name under the package's `models/`: the first teeth
 * model present (the numbering model before the binary one), plus every lesion model
 * present. `evaluate` and `export` keep `teeth-binary` as their default model; `evaluate`
 * gates a lesion model with this set's teeth model ({@link bundledTeethName}).
 */
export const BUNDLED_SET = Object.freeze({
  teeth: Object.freeze(['teeth-fdi', 'teeth-binary'] as const),
  lesions: Object.freeze(['caries'] as const),
});

/**
 * The bundled set in words, for help texts: `models/teeth-fdi, else models/teeth-binary,
 * plus models/caries when present`.
 */
export const BUNDLED_SET_TEXT =
  BUNDLED_SET.teeth.map((n) => `models/${n}`).join(', else ') +
  BUNDLED_SET.lesions.map((n) => `, plus models/${n} when present`).join('');

/**
 * The bundled set's teeth model by folder name, given which folders exist (`has(name)`):
 * the first of {@link BUNDLED_SET}`.teeth` present, else undefined. `evaluate` gates a
 * lesion model with it, so that it scores what `predict` reports.
 */
export function bundledTeethName(has: (name: string) => boolean): string | undefined {
  return BUNDLED_SET.teeth.find((n) => has(n));
}

/**
 * The folder names of the bundled default set, given which folders exist (`has(name)`):
 * e.g. `['teeth-fdi', 'caries']`, or `['teeth-binary']` before the others exist. Empty
 * when none does.
 */
export function bundledSetNames(has: (name: string) => boolean): string[] {
  const teeth = bundledTeethName(has);
  return [...(teeth !== undefined ? [teeth] : []), ...BUNDLED_SET.lesions.filter((n) => has(n))];
}
