// Callbacks: best-checkpoint, early stopping and LR plateau decisions, and their state
// round trip (what --resume relies on).
import { describe, expect, it } from 'vitest';
import {
  CallbackList,
  EarlyStopping,
  ModelCheckpoint,
  ReduceLROnPlateau,
  type EpochLogs,
  type TrainerControl,
} from '../../src/train/callbacks.js';

function control(): TrainerControl & { saved: number[] } {
  const saved: number[] = [];
  return {
    stopTraining: false,
    learningRate: 1e-3,
    saved,
    saveBest: async (epoch: number) => {
      saved.push(epoch);
    },
  };
}

async function feed(list: CallbackList, t: TrainerControl, logs: EpochLogs[]): Promise<void> {
  for (const [i, l] of logs.entries()) await list.onEpochEnd(i, l, t);
}

describe('callbacks', () => {
  it('checkpoints on a better val Dice only', async () => {
    const t = control();
    await feed(new CallbackList([new ModelCheckpoint()]), t, [
      { val_dice: 0.5 },
      { val_dice: 0.4 },
      { val_dice: 0.6 },
      { val_dice: 0.6 },
      { val_dice: NaN },
    ]);
    expect(t.saved).toEqual([0, 2]);
  });

  it('stops after `patience` epochs without improvement', async () => {
    const t = control();
    const es = new EarlyStopping({ monitor: 'val_dice', mode: 'max', minDelta: 0.01 }, 2);
    const list = new CallbackList([es]);
    await feed(list, t, [{ val_dice: 0.5 }, { val_dice: 0.505 }]);
    expect(t.stopTraining).toBe(false);
    await feed(list, t, [{ val_dice: 0.509 }]);
    expect(t.stopTraining).toBe(true);
  });

  it('halves the LR on a plateau, down to the floor, and restores its state', async () => {
    const t = control();
    const lr = new ReduceLROnPlateau({ monitor: 'val_loss', mode: 'min' }, 1, 0.5, 4e-4);
    const list = new CallbackList([lr]);
    await feed(list, t, [{ val_loss: 1 }, { val_loss: 1.1 }]);
    expect(t.learningRate).toBeCloseTo(5e-4, 12);
    await feed(list, t, [{ val_loss: 1.2 }]);
    expect(t.learningRate).toBeCloseTo(4e-4, 12);
    const states = list.states();
    expect(states.reduceLr).toEqual({ best: 1, wait: 0 });
    const again = new CallbackList([
      new ReduceLROnPlateau({ monitor: 'val_loss', mode: 'min' }, 1, 0.5, 0),
    ]);
    again.restore(states);
    const t2 = control();
    await feed(again, t2, [{ val_loss: 1.05 }]); // not better than the restored best 1
    expect(t2.learningRate).toBeCloseTo(5e-4, 12);
  });
});
