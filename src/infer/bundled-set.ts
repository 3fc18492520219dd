/**
 * The bundled default model set by folder name: one definition for `predict`, `serve`,
 * `worker`, their help texts and refusals, and the batch's lesion columns. No imports, so
 * the CLI's option tables can use it without loading the inference code.
 */

/**
 * The bundled default set, by folder name under the package's `models/`: the first teeth
 * model present (the numbering model before the binary one), the binary one as its outline
 * when both are present, plus every lesion model present. `evaluate` and `export` keep
 * `teeth-binary` as their default model; `evaluate` gates a lesion model with this set's
 * teeth model ({@link bundledTeethName}) within its outline ({@link bundledOutlineName}).
 */
export const BUNDLED_SET = Object.freeze({
  teeth: Object.freeze(['teeth-fdi', 'teeth-binary'] as const),
  /** Draws which pixels are tooth for the numbering model (infer/outline.ts). */
  outline: 'teeth-binary',
  lesions: Object.freeze(['caries'] as const),
});

/**
 * The bundled set in words, for help texts: `models/teeth-fdi (outlined by
 * models/teeth-binary), else models/teeth-binary, plus models/caries when present`.
 */
export const BUNDLED_SET_TEXT =
  BUNDLED_SET.teeth
    .map((n) =>
      n === BUNDLED_SET.outline
        ? `models/${n}`
        : `models/${n} (outlined by models/${BUNDLED_SET.outline})`,
    )
    .join(', else ') + BUNDLED_SET.lesions.map((n) => `, plus models/${n} when present`).join('');

/**
 * The bundled set's teeth model by folder name, given which folders exist (`has(name)`):
 * the first of {@link BUNDLED_SET}`.teeth` present, else undefined. `evaluate` gates a
 * lesion model with it, so that it scores what `predict` reports.
 */
export function bundledTeethName(has: (name: string) => boolean): string | undefined {
  return BUNDLED_SET.teeth.find((n) => has(n));
}

/**
 * The bundled outline of the bundled teeth model, given which folders exist: the binary
 * teeth model when the teeth model is another one (the numbering model) and both exist.
 */
export function bundledOutlineName(has: (name: string) => boolean): string | undefined {
  const teeth = bundledTeethName(has);
  return teeth !== undefined && teeth !== BUNDLED_SET.outline && has(BUNDLED_SET.outline)
    ? BUNDLED_SET.outline
    : undefined;
}

/**
 * The folder names of the bundled default set, given which folders exist (`has(name)`):
 * e.g. `['teeth-fdi', 'teeth-binary', 'caries']`, or `['teeth-binary']` before the others
 * exist. Empty when none does.
 */
export function bundledSetNames(has: (name: string) => boolean): string[] {
  const teeth = bundledTeethName(has);
  const outline = bundledOutlineName(has);
  return [
    ...(teeth !== undefined ? [teeth] : []),
    ...(outline !== undefined ? [outline] : []),
    ...BUNDLED_SET.lesions.filter((n) => has(n)),
  ];
}
