/**
 * Shared by the queue tests: poll an analysis through the API until its status is final, or
 * a worker's log until it holds a line.
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

/**
 * Wait until `log()` contains `text`: a worker logs a job after storing it, and its output
 * reaches this process through a pipe, so on busy cores the line can trail the stored
 * status by a moment. Throws with the log after `ms`.
 */
export async function untilLogged(log: () => string, text: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!log().includes(text)) {
    if (Date.now() > end) throw new Error(`no "${text}" after ${ms} ms in: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
