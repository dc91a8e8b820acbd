/**
 * Runs `main` in-process with captured streams, for the CLI tests.
 */
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kws-kit ...argv` with `stdin` (bytes, or an async iterable of byte pieces) as standard input. */
export async function runCli(
  argv: string[],
  stdin: AsyncIterable<Uint8Array> | Uint8Array = new Uint8Array(0),
  options: { tty?: boolean } = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const input = stdin instanceof Uint8Array ? Readable.from([Buffer.from(stdin)]) : stdin;
  const code = await main(argv, {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s), isTTY: options.tty === true },
    stdin: input,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Yields `bytes` in pieces of the given sizes (cycled), as a pipe would deliver them. */
export async function* pieces(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  let k = 0;
  while (at < bytes.length) {
    const n = sizes[k++ % sizes.length] as number;
    yield bytes.slice(at, at + n);
    at += n;
    // Let other work run between pieces, as with a real stream.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
