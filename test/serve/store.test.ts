// The analysis store: atomic saves, persistence across re-opening, and start-up cleaning of
// what a crash can leave behind (temp folders, image folders without a row).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnalysisStore, type AnalysisRecord } from '../../src/serve/index.js';
import { tempDir } from './helpers.js';

function record(id: string = randomUUID()): AnalysisRecord {
  return {
    id,
    created: new Date().toISOString(),
    filename: 'x.png',
    user: null,
    image: { width: 4, height: 2, format: 'png' },
    model: { name: 'm', version: '1', engine: 'tfjs', task: 'binary' },
    classes: ['teeth'],
    threshold: 0.5,
    findings: [],
    elapsedMs: 1,
    timings: {},
  };
}

const files = {
  'original.png': Buffer.from('o'),
  'mask.png': Buffer.from('m'),
  'overlay.png': Buffer.from('v'),
  'probability.png': Buffer.from('p'),
};

describe('AnalysisStore', () => {
  it('saves, lists newest first, reads files, deletes, and persists across re-opening', async () => {
    const dir = tempDir();
    const store = AnalysisStore.open(dir);
    const a = record();
    const b = record();
    await store.save(a, files);
    await store.save(b, files);
    expect(store.list(10, 0).items.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(store.list(1, 1)).toMatchObject({ total: 2, items: [{ id: a.id }] });
    expect((await store.readFile(a.id, 'mask.png'))?.toString()).toBe('m');
    expect(await store.readFile(randomUUID(), 'mask.png')).toBeUndefined();
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(await store.delete(a.id)).toBe(true);
    expect(await store.delete(a.id)).toBe(false);
    expect(existsSync(path.join(dir, 'analyses', a.id))).toBe(false);
    store.close();

    const again = AnalysisStore.open(dir);
    expect(again.get(b.id)).toEqual(b);
    expect(again.count()).toBe(1);
    expect(again.cleanup).toEqual({ tempRemoved: 0, orphansRemoved: 0, rowsRemoved: 0 });
    again.close();
  });

  it('a failed save leaves nothing behind (no row, no folder, no temp files)', async () => {
    const dir = tempDir();
    const store = AnalysisStore.open(dir);
    const a = record();
    await store.save(a, files);
    // Same id again: the INSERT fails inside the transaction, so nothing is renamed.
    await expect(store.save(a, files)).rejects.toThrow();
    expect(store.count()).toBe(1);
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'analyses'))).toEqual([a.id]);
    await expect(store.save(record('../../etc'), files)).rejects.toMatchObject({ code: 'E_USAGE' });
    store.close();
  });

  it('cleans crash leftovers at start-up', async () => {
    const dir = tempDir();
    const store = AnalysisStore.open(dir);
    const kept = record();
    const lost = record();
    await store.save(kept, files);
    await store.save(lost, files);
    store.close();
    // A crash mid-upload (temp folder), between rename and commit (folder, no row), and a
    // folder removed behind the server's back (row, no folder).
    const half = path.join(dir, 'tmp', `${randomUUID()}.123.1`);
    mkdirSync(half);
    writeFileSync(path.join(half, 'mask.png'), 'half');
    const orphan = randomUUID();
    mkdirSync(path.join(dir, 'analyses', orphan));
    rmSync(path.join(dir, 'analyses', lost.id), { recursive: true });

    const reopened = AnalysisStore.open(dir);
    expect(reopened.cleanup).toEqual({ tempRemoved: 1, orphansRemoved: 1, rowsRemoved: 1 });
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'analyses'))).toEqual([kept.id]);
    expect(reopened.list(10, 0).items.map((r) => r.id)).toEqual([kept.id]);
    reopened.close();
  });
});
