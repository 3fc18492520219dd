// The page's side of `serve --queue`: after a 202 it polls the analysis until it is done
// (resolving with it) or failed (rejecting with the worker's error code).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, followAnalysis } from '../../src/web/app/api.js';

function serve(bodies: readonly unknown[]): string[] {
  const urls: string[] = [];
  let i = 0;
  vi.stubGlobal('sessionStorage', { getItem: () => null });
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    const body = bodies[Math.min(i++, bodies.length - 1)];
    return new Response(JSON.stringify(body), { status: 200 });
  });
  return urls;
}

describe('followAnalysis', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('polls queued → running → done and resolves with the analysis', async () => {
    vi.useFakeTimers();
    const urls = serve([
      { id: 'a', status: 'queued', links: { self: '/x' } },
      { id: 'a', status: 'running', links: { self: '/x' } },
      { id: 'a', status: 'done', findings: [] },
    ]);
    const seen: string[] = [];
    const done = followAnalysis('/api/v1/analyses/a', (s) => seen.push(s));
    await vi.runAllTimersAsync();
    await expect(done).resolves.toMatchObject({ id: 'a', status: 'done' });
    expect(seen).toEqual(['queued', 'running']);
    expect(urls).toEqual(Array(3).fill('/api/v1/analyses/a'));
  });

  it("rejects with the worker's error when the analysis failed", async () => {
    serve([
      {
        id: 'a',
        status: 'failed',
        error: { code: 'E_IMAGE_DECODE', message: 'cannot decode' },
        links: { self: '/x' },
      },
    ]);
    const failed = followAnalysis('/api/v1/analyses/a', () => undefined);
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toMatchObject({ code: 'E_IMAGE_DECODE' });
  });
});
