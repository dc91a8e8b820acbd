/**
 * What the experiment scripts share: the argument parser (`<folder> --key value --flag`),
 * backend selection and seeded subsets of a split.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { createSplit, type Split } from '../src/data/index.js';
import { createRng } from '../src/random.js';
import { registerWasmTrainingKernels } from '../src/train/index.js';

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

/** Makes `backend` current (the scripts are applications; the library never does this). */
export async function selectBackend(backend: string): Promise<void> {
  tf.enableProdMode();
  if (backend === 'wasm') registerWasmTrainingKernels();
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  await tf.ready();
}

/** The first `limit` examples of a seeded shuffle of the split (all when limit ≥ n). */
export function subset(split: Split, limit: number, subsetSeed: number): Split {
  const n = split.labels.length;
  if (!(limit < n)) return split;
  const order = createRng(subsetSeed)
    .shuffle([...Array(n).keys()])
    .slice(0, limit);
  const size = split.frames * split.bins;
  const features = new Float32Array(limit * size);
  order.forEach((i, k) => {
    features.set(split.features.subarray(i * size, (i + 1) * size), k * size);
  });
  return createSplit({
    features,
    frames: split.frames,
    bins: split.bins,
    labels: order.map((i) => split.labels[i] as number),
    labelNames: split.labelNames,
    files: order.map((i) => split.files[i] as string),
    ...(split.audio ? { audio: order.map((i) => (split.audio as Float32Array[])[i] as Float32Array) } : {}),
  });
}
