/**
 * File and row helpers both stores share: the images of an analysis are written into a
 * temp folder (every file fsynced) before the row is committed and the folder renamed into
 * place; uploads waiting for a worker are single files renamed into `uploads/`. Every node
 * mounts the same data dir, so a rename is the only way a file appears.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DentsegError } from '../errors.js';
import { PROCESSING_STATUSES, UUID, type JobState, type ProcessingStatus } from './store-api.js';
import { isAnalysisFileName, type AnalysisFileName } from './types.js';

/** A jobs row as both databases return it. */
export interface JobRow {
  readonly id: string;
  readonly user: string | null;
  readonly filename: string;
  readonly created: string;
  readonly status: string;
  readonly error: string | null;
}

/** A jobs row as the store's JobState. */
export function jobStateOf(row: JobRow): JobState {
  const status = (
    PROCESSING_STATUSES.includes(row.status as ProcessingStatus) ? row.status : 'failed'
  ) as ProcessingStatus;
  return {
    id: row.id,
    user: row.user,
    filename: row.filename,
    created: row.created,
    status,
    error: row.error === null ? null : (JSON.parse(row.error) as JobState['error']),
  };
}

let counter = 0;

/** A temp name unique across processes and nodes sharing the folder. */
export function tempName(base: string): string {
  counter += 1;
  return `${base}.${process.pid}.${Date.now().toString(36)}.${counter}.${Math.random().toString(36).slice(2, 8)}`;
}

/** Write `data` to `file` and fsync it (`wx`: never over an existing file). */
export async function writeSynced(file: string, data: Buffer): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write an analysis' files into a new temp folder under `tmpDir`; returns the folder. */
export async function writeTempFolder(
  tmpDir: string,
  id: string,
  files: Readonly<Partial<Record<AnalysisFileName, Buffer>>>,
): Promise<string> {
  if (!UUID.test(id)) throw new DentsegError('E_USAGE', `invalid analysis id "${id}"`);
  const tmp = path.join(tmpDir, tempName(id));
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, data] of Object.entries(files)) {
      if (data === undefined) continue;
      if (!isAnalysisFileName(name)) {
        throw new DentsegError('E_USAGE', `not an analysis file name: "${name}"`);
      }
      await writeSynced(path.join(tmp, name), data);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return tmp;
}

/** Where uploads wait for a worker: `DATA/uploads/ID`. */
export function uploadPath(dataDir: string, id: string): string {
  if (!UUID.test(id)) throw new DentsegError('E_USAGE', `invalid analysis id "${id}"`);
  return path.join(dataDir, 'uploads', id);
}

/** Keep an accepted upload in the shared data dir until a worker has stored its analysis. */
export async function writeUpload(dataDir: string, id: string, data: Buffer): Promise<void> {
  const dir = path.join(dataDir, 'uploads');
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${tempName(id)}`);
  try {
    await writeSynced(tmp, data);
    await rename(tmp, uploadPath(dataDir, id));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The upload of analysis `id`, or undefined when it is gone (already processed). */
export async function readUploadFile(dataDir: string, id: string): Promise<Buffer | undefined> {
  try {
    return await readFile(uploadPath(dataDir, id));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Remove a processed upload. */
export async function removeUpload(dataDir: string, id: string): Promise<void> {
  await rm(uploadPath(dataDir, id), { force: true });
}
