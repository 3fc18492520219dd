/**
 * The PyTorch reference of `bench:engine`: finds a Python that can import torch and drives
 * bench/pytorch_unet.py in `--serve` mode, one pass per request, so that the bench can
 * alternate dentseg and PyTorch pass by pass on the same (shared, noisy) cores.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';

/** What the script reports once it has built the network and warmed up. */
export interface PytorchInfo {
  readonly torch: string;
  readonly threads: number;
  readonly layout: string;
  readonly params: number;
  readonly gflopForwardPerImage: number;
  /** OpenMP wait policy the script ran with (the same as dentseg's). */
  readonly ompWaitPolicy: string;
}

const SCRIPT = path.resolve(import.meta.dirname, 'pytorch_unet.py');

/**
 * The first of `DENTSEG_PYTHON`, `python3`, `/usr/bin/python3` that imports torch (a pyenv
 * or venv `python3` often lacks Debian's python3-torch), or undefined.
 */
export function findPytorch(): string | undefined {
  const candidates = [process.env.DENTSEG_PYTHON, 'python3', '/usr/bin/python3'];
  for (const py of candidates) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

/**
 * The environment for a PyTorch child: the same OpenMP wait policy as dentseg
 * (src/engine/torch/native.ts: passive unless the user chose), so that the two differ only
 * in their code. With libgomp's default spinning, PyTorch's threads burn the cores they wait
 * on, which on shared cores slows it several times over.
 */
export function pytorchEnv(): { env: NodeJS.ProcessEnv; ompWaitPolicy: string } {
  const ompWaitPolicy =
    process.env.OMP_WAIT_POLICY ??
    (process.env.GOMP_SPINCOUNT === undefined ? 'PASSIVE' : 'default');
  const env = { ...process.env };
  if (ompWaitPolicy !== 'default') env.OMP_WAIT_POLICY = ompWaitPolicy;
  return { env, ompWaitPolicy };
}

/** A running bench/pytorch_unet.py --serve. */
export class PytorchReference {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly #rl: Interface;
  readonly info: PytorchInfo;

  private constructor(
    child: ChildProcessWithoutNullStreams,
    rl: Interface,
    lines: AsyncIterator<string>,
    info: PytorchInfo,
  ) {
    this.#child = child;
    this.#rl = rl;
    this.#lines = lines;
    this.info = info;
  }

  /** Starts the script and waits until it has built the network and run one warm-up of each pass. */
  static async start(
    python: string,
    o: {
      size: number;
      batch: number;
      width: number;
      threads: number;
      channels: 1 | 3;
      /** PyTorch in channels-last memory instead of its usual contiguous NCHW. */
      channelsLast?: boolean;
    },
  ): Promise<PytorchReference> {
    const { env, ompWaitPolicy } = pytorchEnv();
    const child = spawn(
      python,
      [
        SCRIPT,
        '--serve',
        '--size',
        String(o.size),
        '--batch',
        String(o.batch),
        '--width',
        String(o.width),
        '--threads',
        String(o.threads),
        '--channels',
        String(o.channels),
        ...(o.channelsLast ? ['--channels-last'] : []),
      ],
      { env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const rl = createInterface({ input: child.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`bench/pytorch_unet.py ended before it was ready: ${stderr}`);
    const ready = JSON.parse(first.value) as Omit<PytorchInfo, 'ompWaitPolicy'>;
    return new PytorchReference(child, rl, lines, { ...ready, ompWaitPolicy });
  }

  /** Runs one pass in PyTorch; resolves to its wall time in ms (as timed by the script). */
  async run(pass: 'forward' | 'train'): Promise<number> {
    return (await this.runTimed(pass)).ms;
  }

  /** Runs one pass; its wall time and the script's process CPU time (all threads), in ms. */
  async runTimed(pass: 'forward' | 'train'): Promise<{ ms: number; cpuMs: number }> {
    this.#child.stdin.write(`${pass}\n`);
    const line = await this.#lines.next();
    if (line.done) throw new Error(`bench/pytorch_unet.py ended during ${pass}`);
    const reply = JSON.parse(line.value) as { ms?: number; cpuMs?: number; error?: string };
    if (reply.ms === undefined)
      throw new Error(`bench/pytorch_unet.py: ${reply.error ?? line.value}`);
    return { ms: reply.ms, cpuMs: reply.cpuMs ?? NaN };
  }

  close(): void {
    this.#child.stdin.end('quit\n');
    this.#rl.close();
  }
}
