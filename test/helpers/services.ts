/**
 * Real Redis and PostgreSQL for the queue and store tests: each started on a free port in
 * a temp folder, stopped (and the folder removed) by the test file. PostgreSQL refuses to
 * run as root, so as root it runs as the `postgres` user. Missing binaries skip the tests
 * locally and fail them in CI (`CI` set), where .ci/run installs them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Resolve once something accepts connections on `port`, or throw after `ms`. */
export async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const out = r.stdout.trim();
  return r.status === 0 && out ? out : undefined;
}

/** PostgreSQL's bin folder (Debian keeps it under /usr/lib/postgresql/VERSION/bin). */
function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  }
  const initdb = which('initdb');
  return initdb ? path.dirname(initdb) : undefined;
}

const REDIS = which('redis-server');
const PG_BIN = pgBinDir();
const AS_ROOT = process.getuid?.() === 0;

/** Why the service tests cannot run here, or undefined when they can. */
export function servicesMissing(): string | undefined {
  const missing = [
    ...(REDIS ? [] : ['redis-server']),
    ...(PG_BIN ? [] : ['postgresql (initdb, postgres)']),
  ];
  if (missing.length === 0) return undefined;
  const why = `${missing.join(' and ')} not installed (apt-get install redis-server postgresql)`;
  // CI installs them (.ci/run): there a missing binary is a failure, not a skip.
  if (process.env.CI) throw new Error(`service tests cannot run: ${why}`);
  return why;
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A Redis server with append-only persistence; `restart` keeps its data folder. */
export class RedisService {
  readonly port: number;
  readonly dir: string;
  readonly #appendOnly: boolean;
  #proc: ChildProcess | undefined;

  private constructor(port: number, dir: string, appendOnly: boolean) {
    this.port = port;
    this.dir = dir;
    this.#appendOnly = appendOnly;
  }

  /** Start one; `appendOnly: false` keeps nothing across a restart (as a lost Redis). */
  static async start(options: { appendOnly?: boolean } = {}): Promise<RedisService> {
    if (!REDIS) throw new Error('redis-server is not installed');
    const svc = new RedisService(
      await freePort(),
      tempDir('dentseg-redis-'),
      options.appendOnly ?? true,
    );
    await svc.#spawn();
    return svc;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async #spawn(): Promise<void> {
    this.#proc = spawn(
      REDIS as string,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        this.#appendOnly ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
  }

  /** Stop (SIGTERM: Redis flushes its append-only file) and wait for the exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run a PostgreSQL binary, as the `postgres` user when we are root. */
function pgCommand(bin: string, args: readonly string[]): [string, string[]] {
  const full = path.join(PG_BIN as string, bin);
  return AS_ROOT ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, [...args]];
}

function pgRun(bin: string, args: readonly string[]): void {
  const [cmd, argv] = pgCommand(bin, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr || r.stdout}`);
}

/** A throw-away PostgreSQL cluster (trust auth on 127.0.0.1, fsync off). */
export class PostgresService {
  readonly port: number;
  readonly dir: string;
  #proc: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(): Promise<PostgresService> {
    if (!PG_BIN) throw new Error('postgresql is not installed');
    const root = tempDir('dentseg-pg-');
    const dir = path.join(root, 'data');
    if (AS_ROOT) {
      // initdb must own the folder, and runs as `postgres`.
      const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      chownSync(root, Number(r.stdout.trim()), Number(g.stdout.trim()));
    }
    pgRun('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const svc = new PostgresService(await freePort(), dir);
    await svc.#spawn();
    return svc;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async #spawn(): Promise<void> {
    const [cmd, argv] = pgCommand('postgres', [
      '-D',
      this.dir,
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=100',
    ]);
    this.#proc = spawn(cmd, argv, { stdio: 'ignore' });
    await waitForPort(this.port);
    // Accepting TCP is not yet accepting queries: wait for pg_isready.
    const end = Date.now() + 20_000;
    for (;;) {
      const [c, a] = pgCommand('pg_isready', ['-h', '127.0.0.1', '-p', String(this.port)]);
      if (spawnSync(c, a).status === 0) return;
      if (Date.now() > end) throw new Error('postgres did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Fast shutdown (clients are disconnected), waiting for the exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    pgRun('pg_ctl', ['stop', '-D', this.dir, '-m', 'fast', '-w']);
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}
