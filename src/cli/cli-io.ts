/**
 * The streams a command reads and writes. `main` takes them as an argument so that tests (and
 * programs embedding the CLI) run commands in-process and capture what they print.
 *
 * @packageDocumentation
 */

/** A writable text stream (what `process.stdout` / `process.stderr` offer). */
export interface CliOutput {
  write(text: string): unknown;
  /** True for a terminal: progress bars are drawn only there. */
  isTTY?: boolean;
}

/** Where a command's input comes from and its output goes. */
export interface CliIo {
  /** Data: results, tables, JSON. */
  stdout: CliOutput;
  /** Messages: progress, warnings, errors. */
  stderr: CliOutput;
  /** Audio for `detect -`: any async iterable of byte chunks (a Node `Readable`). */
  stdin: AsyncIterable<Uint8Array | string>;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
