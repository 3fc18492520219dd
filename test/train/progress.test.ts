// The progress line: bar, step counts, per-step time, epoch and run ETA, data-wait share.
import { describe, expect, it } from 'vitest';
import { formatDuration, progressLine } from '../../src/train/progress.js';

describe('progress line', () => {
  it('shows the bar, ETAs and the data-wait share', () => {
    const line = progressLine(
      {
        epoch: 1,
        epochs: 4,
        step: 5,
        steps: 10,
        loss: 0.5,
        dice: 0.75,
        elapsedS: 10,
        dataWaitS: 1,
      },
      10,
    );
    expect(line).toBe(
      'epoch 2/4 [#####.....] 5/10 loss 0.5000 dice 0.7500 2.00 s/step ETA 0:10 (run 0:50) data-wait 10%',
    );
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('?');
  });
});
