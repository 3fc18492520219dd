/**
 * Runs a commander program and turns every failure into one line with a stable code from
 * docs/errors.md and the exit status scripts test: 0 ok, 1 failure, 2 partial failure (set
 * by the command), 64 usage. Never a stack trace or a library dump for a user mistake.
 */
import { CommanderError, type Command } from 'commander';
import { DentsegError, isDentsegError } from '../errors.js';

/** Exit status of a command-line mistake (BSD sysexits EX_USAGE). */
export const EXIT_USAGE = 64;

/** `dentseg model summary` for a sub-command, for messages and hints. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander prints its own errors and exits 1; instead every command (and sub-command)
 * throws them so that they come out as E_USAGE with exit 64, naming the command. Help and
 * version still print and exit 0.
 */
function routeUsageErrors(cmd: Command): void {
  cmd.configureOutput({ outputError: () => {} });
  cmd.exitOverride((err) => {
    if (err.exitCode === 0 || err.code === 'commander.help') throw err;
    const where = commandPath(cmd);
    throw new DentsegError('E_USAGE', `${err.message.replace(/^error: /, '')} (${where})`, {
      hint: `\`${where} --help\` lists its options`,
      cause: err,
    });
  });
  for (const sub of cmd.commands) routeUsageErrors(sub);
}

/** A Node system error (fs, net) as dentseg reports it: code, path and what failed. */
function systemError(err: unknown): DentsegError | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return undefined;
  const file = e.path ?? (e as { dest?: string }).dest;
  if (file === undefined)
    return new DentsegError(e.code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_IO', e.message, {
      cause: err,
    });
  if (e.code === 'ENOENT')
    return new DentsegError('E_FILE_NOT_FOUND', 'no such file or folder', { file, cause: err });
  return new DentsegError('E_IO', `${e.syscall ?? 'file operation'} failed: ${e.code}`, {
    file,
    hint: 'check the permissions and the free space of the folder',
    cause: err,
  });
}

function report(err: DentsegError): void {
  console.error(`dentseg: error ${err.code}: ${err.message}`);
  if (err.hint) console.error(`  hint: ${err.hint}`);
  if (process.env.DENTSEG_DEBUG && err.cause instanceof Error) console.error(err.cause.stack);
}

export async function runCli(program: Command, argv: readonly string[]): Promise<void> {
  routeUsageErrors(program);
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError && !isDentsegError(err)) {
      // --help, --version, or help shown because no command was given
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    const known =
      (isDentsegError(err) ? err : undefined) ??
      systemError(err) ??
      new DentsegError(
        'E_INTERNAL',
        `unexpected failure: ${err instanceof Error ? err.message : String(err)}`,
        {
          hint: 'run again with DENTSEG_DEBUG=1 for the stack trace, and report it',
          cause: err,
        },
      );
    report(known);
    // Exit now: a failed command may leave the wasm backend's worker threads running.
    process.exit(known.code === 'E_USAGE' ? EXIT_USAGE : 1);
  }
}
