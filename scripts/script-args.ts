/**
 * The small argument parser the experiment scripts share: `<folder> --key value --flag`.
 */
import { existsSync } from 'node:fs';

/** Where a helper unpacked gsc-dev on this machine; used when no folder is given. */
export const DEFAULT_DATA = '/tmp/gsc-dev-wav-datahelper';

/** Positional arguments and `--key value` flags; keys in `booleans` (or without a value) are 'true'. */
export function parseArgs(
  argv: string[],
  booleans: readonly string[],
): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const key = a.slice(2);
    const next = argv[i + 1];
    if (booleans.includes(key) || next === undefined || next.startsWith('--')) {
      flags.set(key, 'true');
    } else {
      flags.set(key, next);
      i++;
    }
  }
  return { positional, flags };
}

/** The data folder argument, or the default if it exists; otherwise prints usage and exits 2. */
export function dataFolder(positional: string[], script: string): string {
  const dir = positional[0] ?? (existsSync(DEFAULT_DATA) ? DEFAULT_DATA : undefined);
  if (dir === undefined) {
    console.error(
      `usage: tsx scripts/${script} <speech-commands-folder> [options] (${DEFAULT_DATA} not found)`,
    );
    process.exit(2);
  }
  return dir;
}
