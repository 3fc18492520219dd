/**
 * Runs a commander program and turns errors into a clear message and exit code, with the
 * stable error code and hint, never a stack trace for a user mistake.
 */
import type { Command } from 'commander';
import { isDentsegError } from '../errors.js';

export async function runCli(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (isDentsegError(err)) {
      console.error(`dentseg: error ${err.code}: ${err.message}`);
      if (err.hint) console.error(`  hint: ${err.hint}`);
      process.exitCode = err.code === 'E_USAGE' ? 64 : 1;
      return;
    }
    throw err;
  }
}
