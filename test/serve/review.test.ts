// The dentist's review through the HTTP API (app.inject()): accept/reject/edit findings,
// drawn findings, renumbered and missing teeth, a corrected mask, "reviewed", and the audit
// that records each change once, in order, with its user, and outlives a deletion. The
// analyses are stored records with known findings and teeth (a random model finds nothing
// predictable); one is uploaded to check that new analyses carry the review fields.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { toothAt } from '../../src/serve/analyse.js';
import { toothName } from '../../src/numbering/index.js';
import { userWithToken } from '../../src/serve/auth.js';
import {
  AnalysisStore,
  buildApp,
  type AnalysisRecord,
  type FindingJson,
} from '../../src/serve/index.js';
import type { JobQueue } from '../../src/serve/jobs.js';
import type { AuditEntry, ToothJson } from '../../src/serve/types.js';
import type { AnalysisJson } from '../../src/serve/wire.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { multipart, tempDir, writeTinyModel } from './helpers.js';

const W = 40;
const H = 20;
const ALICE = { authorization: 'Bearer alice-token' };
const BOB = { authorization: 'Bearer bob-token' };
const ROOT = { authorization: 'Bearer root-token' };
const USERS = [
  userWithToken('alice', 'alice-token', false),
  userWithToken('bob', 'bob-token', false),
  userWithToken('root', 'root-token', true),
];

function finding(i: number, tooth: number | null): FindingJson {
  return {
    id: `f${i}`,
    review: 'suggested',
    type: 'caries',
    tooth,
    class: 'caries',
    classIndex: 1,
    areaPx: 4,
    areaPct: 0.5,
    bbox: [i, 1, 2, 2],
    centroid: [i + 1, 2],
    polygon: [
      [i, 1],
      [i + 2, 1],
      [i + 2, 3],
    ],
  };
}

function tooth(fdi: number): ToothJson {
  return {
    fdi,
    name: toothName(fdi),
    areaPx: 10,
    bbox: [0, 0, 5, 5],
    centroid: [2, 2],
    polygon: [
      [0, 0],
      [5, 0],
      [5, 5],
    ],
    score: 0.9,
    review: 'suggested',
  };
}

/** A stored analysis of alice: two caries findings (binary) or FDI teeth 11, 12, 21. */
function record(task: 'binary' | 'multiclass'): AnalysisRecord {
  const teeth = task === 'multiclass';
  return {
    id: randomUUID(),
    created: new Date().toISOString(),
    filename: 'x.png',
    user: 'alice',
    image: { width: W, height: H, format: 'png' },
    model: {
      name: teeth ? 'tiny-fdi' : 'tiny-random',
      version: '1',
      engine: 'tfjs',
      task,
    },
    classes: teeth ? ['background', 'tooth 11', 'tooth 12', 'tooth 21', 'tooth 22'] : ['caries'],
    threshold: teeth ? 0 : 0.5,
    findings: teeth ? [] : [finding(1, 36), finding(2, null)],
    teeth: teeth ? [tooth(11), tooth(12), tooth(21)] : [],
    missing: teeth ? [22] : [],
    elapsedMs: 1,
    timings: {},
    reviewed: null,
    corrections: { masks: [] },
  };
}

async function png(width: number, height: number, value: number): Promise<Buffer> {
  return sharp(Buffer.alloc(width * height, value), { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

describe('toothAt (the tooth under a finding)', () => {
  it("gives the FDI number of the numbering model's class under the centroid, else null", () => {
    const classes = ['background', 'tooth 11', 'tooth 36'];
    // 4×2 mask: row 0 = 0 1 1 2, row 1 = 0 0 2 2.
    const mask = Uint8Array.from([0, 1, 1, 2, 0, 0, 2, 2]);
    expect(toothAt([1.2, 0.1], mask, 4, 2, classes)).toBe(11);
    expect(toothAt([2.6, 1], mask, 4, 2, classes)).toBe(36);
    expect(toothAt([0, 1], mask, 4, 2, classes)).toBeNull(); // background
    expect(toothAt([99, -5], mask, 4, 2, classes)).toBe(36); // clamped to the image
    expect(toothAt([1, 0], mask, 4, 2, ['caries'])).toBeNull(); // no numbering
  });
});

describe('review API', () => {
  let model: LoadedModel;
  let store: AnalysisStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    const dir = tempDir('dentseg-review-model-');
    await writeTinyModel(dir);
    model = await loadModel(dir);
    const dataDir = tempDir();
    store = AnalysisStore.open(dataDir);
    app = await buildApp({ model, dataDir, store, users: USERS, webDir: false });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    model.dispose();
  });

  async function stored(task: 'binary' | 'multiclass'): Promise<AnalysisRecord> {
    const r = record(task);
    await store.save(r, {
      'original.png': await png(W, H, 128),
      'mask.png': await png(W, H, 0),
      'probability.png': await png(W, H, 0),
    });
    return r;
  }

  const audit = async (id: string, headers = ALICE): Promise<AuditEntry[]> => {
    const res = await app.inject({ url: `/api/v1/analyses/${id}/audit`, headers });
    expect(res.statusCode).toBe(200);
    return res.json<AuditEntry[]>();
  };

  it('new analyses carry ids, review states and the review fields', async () => {
    const form = multipart(solidGreyJpeg(96, 64), 'a.jpg');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      payload: form.payload,
      headers: { ...form.headers, ...ALICE },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<AnalysisJson>();
    expect(body).toMatchObject({ reviewed: null, corrections: { masks: [] } });
    body.findings.forEach((f, i) => {
      expect(f).toMatchObject({ id: `f${i + 1}`, review: 'suggested', type: f.class, tooth: null });
    });
    expect(body.links.audit).toBe(`/api/v1/analyses/${body.id}/audit`);
    expect(await audit(body.id)).toEqual([]);
  });

  it('accepts, rejects and edits findings, keeping the model values and auditing each once', async () => {
    const r = await stored('binary');
    const url = `/api/v1/analyses/${r.id}/findings`;
    const accept = await app.inject({
      method: 'PATCH',
      url: `${url}/f1`,
      headers: ALICE,
      payload: { review: 'accepted', note: 'clear lesion' },
    });
    expect(accept.statusCode).toBe(200);
    expect(accept.json<AnalysisJson>().findings[0]).toMatchObject({
      id: 'f1',
      review: 'accepted',
      note: 'clear lesion',
      tooth: 36,
    });
    const edit = await app.inject({
      method: 'PATCH',
      url: `${url}/f2`,
      headers: ALICE,
      payload: { review: 'accepted', tooth: 37, type: 'restoration' },
    });
    expect(edit.json<AnalysisJson>().findings[1]).toMatchObject({
      review: 'edited',
      type: 'restoration',
      tooth: 37,
      original: { type: 'caries', tooth: null },
      class: 'caries',
    });
    const reject = await app.inject({
      method: 'PATCH',
      url: `${url}/f1`,
      headers: ALICE,
      payload: { review: 'rejected' },
    });
    expect(reject.json<AnalysisJson>().findings[0]).toMatchObject({ review: 'rejected' });
    const entries = await audit(r.id);
    expect(entries.map((e) => [e.user, e.action])).toEqual([
      ['alice', 'finding.review'],
      ['alice', 'finding.edit'],
      ['alice', 'finding.review'],
    ]);
    expect(entries[1]).toMatchObject({
      before: { id: 'f2', review: 'suggested', type: 'caries', tooth: null },
      after: { id: 'f2', review: 'edited', type: 'restoration', tooth: 37 },
    });
    const times = entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Read back from the store: the same.
    const got = await app.inject({ url: `/api/v1/analyses/${r.id}`, headers: ALICE });
    expect(got.json<AnalysisJson>().findings.map((f) => f.review)).toEqual(['rejected', 'edited']);
  });

  it('refuses unknown findings (404), wrong bodies (400), other users (404); admins may', async () => {
    const r = await stored('binary');
    const url = `/api/v1/analyses/${r.id}/findings`;
    const patch = (id: string, payload: unknown, headers = ALICE) =>
      app.inject({ method: 'PATCH', url: `${url}/${id}`, headers, payload: payload as object });
    expect((await patch('f9', { review: 'accepted' })).statusCode).toBe(404);
    expect((await patch('tooth-11', { review: 'accepted' })).statusCode).toBe(404);
    expect((await patch('a1', { review: 'accepted' })).json()).toMatchObject({
      error: { code: 'E_NOT_FOUND' },
    });
    for (const bad of [
      { review: 'maybe' },
      {},
      { review: 'accepted', colour: 'red' },
      { review: 'accepted', tooth: 9 },
      { review: 'accepted', type: '' },
    ]) {
      const res = await patch('f1', bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'E_USAGE' } });
    }
    const noFdi = await patch('f1', { review: 'accepted', tooth: 19 });
    expect([noFdi.statusCode, noFdi.json().error.code]).toEqual([400, 'E_REVIEW_INVALID']);
    expect((await patch('f1', { review: 'accepted' }, BOB)).statusCode).toBe(404);
    expect((await patch('f1', { review: 'accepted' })).statusCode).toBe(200);
    expect((await patch('f2', { review: 'rejected' }, ROOT)).statusCode).toBe(200);
    expect((await audit(r.id)).map((e) => e.user)).toEqual(['alice', 'root']);
    expect(
      (await app.inject({ url: `/api/v1/analyses/${r.id}/audit`, headers: BOB })).statusCode,
    ).toBe(404);
  });

  it("refuses a change from another site's page (403), as for every other write", async () => {
    const r = await stored('binary');
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/analyses/${r.id}/findings/f1`,
      headers: { ...ALICE, origin: 'https://evil.example' },
      payload: { review: 'rejected' },
    });
    expect([res.statusCode, res.json().error.code]).toEqual([403, 'E_CROSS_ORIGIN']);
    expect(await audit(r.id)).toEqual([]);
  });

  it('two parallel PATCHes both land, each audited once', async () => {
    const r = await stored('binary');
    const url = `/api/v1/analyses/${r.id}/findings`;
    const [a, b] = await Promise.all([
      app.inject({
        method: 'PATCH',
        url: `${url}/f1`,
        headers: ALICE,
        payload: { review: 'accepted' },
      }),
      app.inject({
        method: 'PATCH',
        url: `${url}/f2`,
        headers: ROOT,
        payload: { review: 'rejected' },
      }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const got = await app.inject({ url: `/api/v1/analyses/${r.id}`, headers: ALICE });
    expect(got.json<AnalysisJson>().findings.map((f) => f.review)).toEqual([
      'accepted',
      'rejected',
    ]);
    expect((await audit(r.id)).map((e) => e.user).sort()).toEqual(['alice', 'root']);
  });

  it('adds drawn findings (a1, a2) and refuses outlines outside the image', async () => {
    const r = await stored('binary');
    const url = `/api/v1/analyses/${r.id}/findings`;
    const outline = [
      [10, 5],
      [20, 5],
      [20, 15],
      [10, 15],
    ];
    const res = await app.inject({
      method: 'POST',
      url,
      headers: ALICE,
      payload: { outline, type: 'caries', tooth: 46 },
    });
    expect(res.statusCode).toBe(201);
    const added = res.json<AnalysisJson>().findings[2];
    expect(added).toMatchObject({
      id: 'a1',
      review: 'added',
      type: 'caries',
      tooth: 46,
      areaPx: 100,
      bbox: [10, 5, 10, 10],
      centroid: [15, 10],
      classIndex: 1,
    });
    const second = await app.inject({
      method: 'POST',
      url,
      headers: ALICE,
      payload: { outline, type: 'calculus', tooth: null },
    });
    expect(second.json<AnalysisJson>().findings[3]).toMatchObject({ id: 'a2', classIndex: 0 });
    const outside = await app.inject({
      method: 'POST',
      url,
      headers: ALICE,
      payload: { outline: [...outline, [W + 1, 5]], type: 'caries', tooth: null },
    });
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toMatchObject({ error: { code: 'E_REVIEW_INVALID' } });
    expect(outside.json().error.message).toMatch(/outside the 40×20 image/);
    const missingField = await app.inject({
      method: 'POST',
      url,
      headers: ALICE,
      payload: { outline, type: 'caries' },
    });
    expect(missingField.statusCode).toBe(400);
    const entries = await audit(r.id);
    expect(entries.map((e) => [e.action, e.before])).toEqual([
      ['finding.add', null],
      ['finding.add', null],
    ]);
    // A drawn finding accepted stays `added`; rejected, it is rejected.
    const ok = await app.inject({
      method: 'PATCH',
      url: `${url}/a1`,
      headers: ALICE,
      payload: { review: 'accepted', tooth: 47 },
    });
    expect(ok.json<AnalysisJson>().findings[2]).toMatchObject({ review: 'added', tooth: 47 });
    expect(ok.json<AnalysisJson>().findings[2]?.original).toBeUndefined();
  });

  it('renumbers teeth (a used number swaps, both audited) and marks them missing and back', async () => {
    const r = await stored('multiclass');
    const url = `/api/v1/analyses/${r.id}/teeth`;
    const patch = (fdi: number, payload: object) =>
      app.inject({ method: 'PATCH', url: `${url}/${fdi}`, headers: ALICE, payload });
    const swap = await patch(11, { fdi: 12 });
    expect(swap.statusCode).toBe(200);
    const swapped = swap.json<AnalysisJson>();
    expect(swapped.teeth.map((t) => [t.fdi, t.review, t.original?.fdi])).toEqual([
      [11, 'edited', 12],
      [12, 'edited', 11],
      [21, 'suggested', undefined],
    ]);
    expect(swapped.teeth[1]?.name).toBe(toothName(12));
    expect((await audit(r.id)).map((e) => [e.action, (e.before as ToothJson).fdi])).toEqual([
      ['tooth.renumber', 11],
      ['tooth.renumber', 12],
    ]);
    // Onto a number the model did not find: the old number becomes missing.
    const moved = (await patch(21, { fdi: 22 })).json<AnalysisJson>();
    expect(moved.teeth.map((t) => t.fdi)).toEqual([11, 12, 22]);
    expect(moved.missing).toEqual([21]);
    const gone = (await patch(22, { present: false })).json<AnalysisJson>();
    expect(gone.teeth.map((t) => t.fdi)).toEqual([11, 12]);
    expect(gone.missing).toEqual([21, 22]);
    const back = (await patch(22, { present: true })).json<AnalysisJson>();
    expect(back.teeth.find((t) => t.fdi === 22)).toEqual(moved.teeth[2]);
    expect(back.missing).toEqual([21]);
    // Present though the model missed it: added without an outline.
    const added = (await patch(21, { present: true })).json<AnalysisJson>();
    expect(added.teeth.find((t) => t.fdi === 21)).toMatchObject({ review: 'added', areaPx: 0 });
    const entries = await audit(r.id);
    expect(entries.map((e) => e.action)).toEqual([
      'tooth.renumber',
      'tooth.renumber',
      'tooth.renumber',
      'tooth.present',
      'tooth.present',
      'tooth.present',
    ]);
    expect(entries[3]).toMatchObject({ before: { fdi: 22 }, after: { fdi: 22, present: false } });
    // Unknown tooth, wrong body, missing tooth renumbered.
    expect((await patch(31, { present: false })).statusCode).toBe(404);
    expect((await patch(11, {})).statusCode).toBe(400);
    expect((await patch(11, { fdi: 12, colour: 1 })).statusCode).toBe(400);
    await patch(12, { present: false });
    const renumberMissing = await patch(12, { fdi: 13 });
    expect(renumberMissing.json()).toMatchObject({ error: { code: 'E_REVIEW_INVALID' } });
    const binary = await stored('binary');
    const none = await app.inject({
      method: 'PATCH',
      url: `/api/v1/analyses/${binary.id}/teeth/11`,
      headers: ALICE,
      payload: { present: false },
    });
    expect(none.statusCode).toBe(404);
  });

  it('stores a corrected mask beside the untouched model mask; refuses wrong ones', async () => {
    const r = await stored('binary');
    const url = `/api/v1/analyses/${r.id}/masks/${r.model.name}`;
    const put = async (body: Buffer, headers = ALICE, to = url) => {
      const form = multipart(body, 'mask.png', 'file', 'image/png');
      return app.inject({
        method: 'PUT',
        url: to,
        payload: form.payload,
        headers: { ...form.headers, ...headers },
      });
    };
    const notPng = await put(Buffer.from('GIF89a not a png'));
    expect([notPng.statusCode, notPng.json().error.code]).toEqual([415, 'E_IMAGE_FORMAT']);
    const size = await put(await png(W + 1, H, 255));
    expect([size.statusCode, size.json().error.code]).toEqual([422, 'E_MASK_MISMATCH']);
    const values = await put(await png(W, H, 7));
    expect([values.statusCode, values.json().error.code]).toEqual([422, 'E_MASK_VALUES']);
    expect((await put(await png(W, H, 255), BOB)).statusCode).toBe(404);
    expect((await put(await png(W, H, 255), ALICE, `${url}x`)).statusCode).toBe(404);
    const json = await app.inject({
      method: 'PUT',
      url,
      headers: ALICE,
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
    expect(await audit(r.id)).toEqual([]);

    const corrected = await png(W, H, 255);
    const ok = await put(corrected);
    expect(ok.statusCode).toBe(200);
    const body = ok.json<AnalysisJson>();
    expect(body.corrections).toEqual({ masks: ['tiny-random'] });
    expect(body.links.maskCorrected).toBe(`/api/v1/analyses/${r.id}/mask.corrected.png`);
    const file = await app.inject({ url: body.links.maskCorrected as string, headers: ALICE });
    expect(file.statusCode).toBe(200);
    expect(file.headers['cache-control']).toBe('private, no-cache');
    const pixels = await sharp(file.rawPayload).extractChannel(0).raw().toBuffer();
    expect(pixels.every((v) => v === 255)).toBe(true);
    const model = await app.inject({ url: body.links.mask as string, headers: ALICE });
    const modelPixels = await sharp(model.rawPayload).extractChannel(0).raw().toBuffer();
    expect(modelPixels.every((v) => v === 0)).toBe(true);
    // Corrected again: replaced, both corrections audited.
    expect((await put(await png(W, H, 0))).statusCode).toBe(200);
    const entries = await audit(r.id);
    expect(entries).toMatchObject([
      {
        action: 'mask.correct',
        before: { file: 'mask.png' },
        after: { file: 'mask.corrected.png', changedPx: W * H },
      },
      {
        action: 'mask.correct',
        before: { file: 'mask.corrected.png' },
        after: { changedPx: W * H },
      },
    ]);
  });

  it('marks the analysis reviewed; the history tells reviewed from unreviewed', async () => {
    const r = await stored('binary');
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${r.id}/review`,
      headers: ALICE,
      payload: { note: 'caries on 36, recall in 6 months' },
    });
    expect(res.statusCode).toBe(200);
    const reviewed = res.json<AnalysisJson>().reviewed;
    expect(reviewed).toMatchObject({ by: 'alice', note: 'caries on 36, recall in 6 months' });
    const noBody = await app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${r.id}/review`,
      headers: ALICE,
    });
    expect(noBody.statusCode).toBe(200);
    expect(noBody.json<AnalysisJson>().reviewed).toMatchObject({ by: 'alice', note: '' });
    const list = await app.inject({ url: '/api/v1/analyses?limit=100', headers: ALICE });
    const items = list.json<{ items: { id: string; reviewed: unknown }[] }>().items;
    expect(items.find((i) => i.id === r.id)?.reviewed).toMatchObject({ by: 'alice' });
    expect(items.some((i) => i.reviewed === null)).toBe(true);
    expect((await audit(r.id)).map((e) => [e.action, e.before === null])).toEqual([
      ['analysis.review', true],
      ['analysis.review', false],
    ]);
  });

  it('deleting keeps the audit with the deletion: admins read it, the owner gets 404', async () => {
    const r = await stored('binary');
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/analyses/${r.id}/findings/f1`,
      headers: ALICE,
      payload: { review: 'rejected' },
    });
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/analyses/${r.id}`,
      headers: ALICE,
    });
    expect(del.statusCode).toBe(204);
    const url = `/api/v1/analyses/${r.id}/audit`;
    expect((await app.inject({ url, headers: ALICE })).statusCode).toBe(404);
    const admin = await app.inject({ url, headers: ROOT });
    expect(admin.statusCode).toBe(200);
    expect(admin.json<AuditEntry[]>().map((e) => [e.user, e.action])).toEqual([
      ['alice', 'finding.review'],
      ['alice', 'analysis.delete'],
    ]);
    expect(await store.audit(r.id)).toHaveLength(2);
    expect(
      (await app.inject({ url: `/api/v1/analyses/${randomUUID()}/audit`, headers: ROOT }))
        .statusCode,
    ).toBe(404);
  });

  it('documents the review routes in OpenAPI', async () => {
    const doc = (await app.inject({ url: '/api/docs', headers: ALICE })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/findings/{findingId}'] ?? {})).toContain(
      'patch',
    );
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/findings'] ?? {})).toContain('post');
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/teeth/{fdi}'] ?? {})).toContain('patch');
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/masks/{model}'] ?? {})).toContain('put');
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/review'] ?? {})).toContain('post');
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}/audit'] ?? {})).toContain('get');
  });
});

describe('review API, queue mode', () => {
  it('DELETE of an analysis still on the queue deletes it (204), then 404', async () => {
    const dir = tempDir('dentseg-review-model-');
    await writeTinyModel(dir);
    const model = await loadModel(dir);
    const added: string[] = [];
    // No worker ever runs: the upload stays queued.
    const jobs: JobQueue = {
      add: async (id) => {
        added.push(id);
      },
      counts: async () => ({ waiting: added.length, active: 0 }),
      close: async () => undefined,
    };
    const app = await buildApp({ model, dataDir: tempDir(), jobs, webDir: false });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(solidGreyJpeg(96, 64), 'q.jpg'),
      });
      expect(res.statusCode).toBe(202);
      const url = res.headers.location as string;
      expect((await app.inject({ url })).json()).toMatchObject({ status: 'queued' });
      expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(204);
      expect((await app.inject({ url })).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(404);
    } finally {
      await app.close();
      model.dispose();
    }
  });
});
