/**
 * Exit codes of `kws-kit` and how errors map to them.
 *
 * - 0: success.
 * - 1: failure while running (an unexpected error; a bug report is welcome).
 * - 2: usage error: unknown option or command, missing or malformed argument, an option value out
 *   of range or a combination that does not make sense (`KwsError` `INVALID_ARGUMENT` included,
 *   since the CLI passes option values to the library).
 * - 3: input not found or invalid: a missing file or folder, a data folder in the wrong layout, a
 *   corrupt model or WAV file, a model that does not fit the labels (any other `KwsError`).
 *
 * @packageDocumentation
 */
import { CommanderError } from 'commander';
import { KwsError } from '../errors.js';

/** Exit codes of the `kws-kit` command. */
export const EXIT = { ok: 0, unexpected: 1, usage: 2, badInput: 3 } as const;

/** A bad combination of options found after parsing (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof KwsError) return error.code === 'INVALID_ARGUMENT' ? EXIT.usage : EXIT.badInput;
  return EXIT.unexpected;
}

/** One line for stderr describing `error` (commander prints its own messages). */
export function errorMessage(error: unknown): string | null {
  if (error instanceof CommanderError) return null;
  if (error instanceof UsageError) return `kws-kit: ${error.message} (see --help)`;
  if (error instanceof KwsError) return `kws-kit: ${error.message} [${error.code}]`;
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `kws-kit: unexpected error: ${text}`;
}
