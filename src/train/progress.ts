/**
 * The training progress line on stderr: a bar per epoch with loss, Dice, ETA and the share
 * of time spent waiting for data. Redrawn in place on a terminal; every ~10% otherwise
 * (logs, nohup).
 */
import type { StepProgress } from './trainer.js';

/** `m:ss` or `h:mm:ss` for seconds. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** One progress line (no newline). `width` = bar characters. */
export function progressLine(p: StepProgress, width = 24): string {
  const frac = p.steps > 0 ? Math.min(1, p.step / p.steps) : 0;
  const filled = Math.round(frac * width);
  const perStep = p.step > 0 ? p.elapsedS / p.step : NaN;
  const eta = perStep * (p.steps - p.step);
  // whole run: remaining steps of all epochs at this epoch's pace (validation not included)
  const runEta = eta + perStep * p.steps * Math.max(0, p.epochs - p.epoch - 1);
  const wait = p.elapsedS > 0 ? (100 * p.dataWaitS) / p.elapsedS : 0;
  return (
    `epoch ${p.epoch + 1}/${p.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
    `${p.step}/${p.steps} loss ${p.loss.toFixed(4)} dice ${p.dice.toFixed(4)} ` +
    `${perStep.toFixed(2)} s/step ETA ${formatDuration(eta)} (run ${formatDuration(runEta)}) ` +
    `data-wait ${wait.toFixed(0)}%`
  );
}

/** A progress reporter writing to a stream (stderr by default). */
export function progressReporter(
  stream: NodeJS.WriteStream = process.stderr,
): (p: StepProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const line = progressLine(p);
    if (stream.isTTY) {
      stream.write(`\r${line}\x1b[K${p.step === p.steps ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor((10 * p.step) / Math.max(1, p.steps));
    if (decile !== lastDecile || p.step === p.steps) {
      lastDecile = p.step === p.steps ? -1 : decile;
      stream.write(line + '\n');
    }
  };
}
