/**
 * The input check's verdict as data and in words: the fixed list of issues and one plain
 * sentence for the page. Apart from the classifier (panoramic.ts) so that the web page
 * imports the words without the weights.
 */

/** The words the check uses, one per problem (a fixed vocabulary clients can match on). */
export const QUALITY_ISSUES = [
  'blank',
  'not a panoramic X-ray',
  'inverted?',
  'low contrast',
  'noisy',
  'blurred',
  'blurred by motion',
] as const;
export type QualityIssue = (typeof QUALITY_ISSUES)[number];

/** The verdict on one input. */
export interface InputQuality {
  /** Whether it looks like a panoramic dental X-ray (score ≥ threshold and not blank). */
  readonly panoramic: boolean;
  /** The classifier's probability that it is a panoramic dental X-ray, 0…1 (3 decimals). */
  readonly score: number;
  /** What is wrong with it, from `QUALITY_ISSUES`; empty for a good panoramic. */
  readonly issues: readonly QualityIssue[];
}

/**
 * One plain sentence for a dentist about a check's verdict, or undefined when there is
 * nothing to say (a good panoramic). `withheld`: whether the findings were left out for it
 * (default: whenever it is not panoramic).
 */
export function describeQuality(
  q: InputQuality,
  withheld: boolean = !q.panoramic,
): string | undefined {
  const problems = q.issues.filter(
    (i) => i === 'low contrast' || i === 'noisy' || i === 'blurred' || i === 'blurred by motion',
  );
  const also =
    (withheld
      ? ' No teeth or findings are reported.'
      : ' Its results are shown anyway: read them with care.') +
    (problems.length > 0 ? ` It is also ${problems.join(', ')}.` : '');
  if (q.issues.includes('blank'))
    return 'The image is blank (one flat grey): check the export and upload the X-ray again.';
  if (q.issues.includes('inverted?'))
    return (
      'This looks like a panoramic X-ray with its grey levels reversed (teeth dark): export it ' +
      'again as a normal image.' +
      also
    );
  if (!q.panoramic)
    return (
      'This does not look like a panoramic dental X-ray (it may be a periapical or bitewing ' +
      'film, a photo or another kind of image).' +
      also
    );
  if (problems.length > 0)
    return `The X-ray is ${problems.join(', ')}: the results may be less accurate.`;
  return undefined;
}

/** How each enhancement step reads for a dentist (`deblur:5` → "motion blur undone …"). */
const STEP_WORDS: Readonly<Record<string, (level: string) => string>> = {
  deblur: (px) => `motion blur undone (a ${px} px streak)`,
  denoise: () => 'noise smoothed',
  unsharp: () => 'sharpened',
  clahe: () => 'contrast evened out',
};

/**
 * One plain sentence about what enhancement ran before the analysis, from the `enhanced`
 * texts of an analysis's models (`deblur:5`, `denoise:0.098,unsharp:0.7`, `none`); undefined
 * when nothing ran. Unknown steps are named as they are.
 */
export function describeEnhancement(enhanced: readonly string[]): string | undefined {
  const words: string[] = [];
  for (const text of enhanced) {
    if (text === 'none' || text === '') continue;
    for (const step of text.split(',')) {
      const [kind = '', level = ''] = step.split(':');
      const word = STEP_WORDS[kind]?.(level) ?? step;
      if (!words.includes(word)) words.push(word);
    }
  }
  return words.length > 0
    ? `The X-ray was enhanced before it was read: ${words.join(', ')}.`
    : undefined;
}
