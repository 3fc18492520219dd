/**
 * Loader worker thread: receives a job config once, then sample tasks; answers each with
 * the prepared image and mask (buffers transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import type { NormalisedAugmentConfig } from '../augment/config.js';
import type { SampleRef } from './dataset.js';
import { prepareSample } from './pipeline.js';
import type { PreprocessConfig } from './preprocess.js';

export interface WorkerJob {
  readonly preprocess: PreprocessConfig;
  readonly augment: NormalisedAugmentConfig | undefined;
  readonly seed: number;
  readonly epoch: number;
}

export type WorkerRequest =
  | { readonly type: 'job'; readonly job: WorkerJob }
  | {
      readonly type: 'task';
      readonly pos: number;
      readonly index: number;
      readonly ref: SampleRef;
    };

export type WorkerReply =
  | { readonly pos: number; readonly image: Float32Array; readonly mask: Uint8Array }
  | {
      readonly pos: number;
      readonly error: {
        readonly message: string;
        readonly code?: string;
        readonly file?: string;
        readonly hint?: string;
      };
    };

let job: WorkerJob | undefined;
const port = parentPort;
if (port) {
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'job') {
      job = msg.job;
      return;
    }
    const j = job!;
    prepareSample(msg.ref, msg.index, j.preprocess, j.augment, j.seed, j.epoch).then(
      ({ image, mask }) => {
        const reply: WorkerReply = { pos: msg.pos, image, mask };
        port.postMessage(reply, [image.buffer, mask.buffer] as ArrayBuffer[]);
      },
      (err: unknown) => {
        const e = err as { message?: string; code?: string; file?: string; hint?: string };
        const reply: WorkerReply = {
          pos: msg.pos,
          error: {
            message: e.message ?? String(err),
            ...(typeof e.code === 'string' ? { code: e.code } : {}),
            ...(typeof e.file === 'string' ? { file: e.file } : {}),
            ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
          },
        };
        port.postMessage(reply);
      },
    );
  });
}
