/**
 * Shared by the queue tests: poll an analysis through the API until its status is final.
 */
import type { FastifyInstance } from 'fastify';

/** Poll GET `url` until `done(body)`; throws with the last body after `ms`. */
export async function until(
  app: FastifyInstance,
  url: string,
  done: (body: { status?: string }) => boolean,
  ms = 30_000,
): Promise<{ status?: string } & Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const res = await app.inject({ url });
    const body = res.json<{ status?: string } & Record<string, unknown>>();
    if (done(body)) return body;
    if (Date.now() > end) throw new Error(`still ${JSON.stringify(body)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
