/**
 * Headless Chromium for the browser tests and benchmarks: Debian's /usr/bin/chromium driven
 * by playwright-core, with the flags that work in containers (no sandbox, no GPU, nothing
 * phoning home). `DENTSEG_CHROMIUM` points elsewhere.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.DENTSEG_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

/** Launch headless Chromium with {@link CHROMIUM_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/**
 * Collect a page's Content-Security-Policy violations: the browser's console reports and
 * `securitypolicyviolation` events (also from workers' console). Call before `goto`.
 */
export async function watchCspViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
  });
  await page.exposeFunction('__dentsegCspViolation', (text: string) => seen.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __dentsegCspViolation?: (t: string) => void })
        .__dentsegCspViolation;
      report?.(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  return seen;
}
