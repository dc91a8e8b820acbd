/**
 * Measurements of the compression experiment: bytes of a saved model on disk and batch-1
 * inference latency.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/random.js';

/** model.json plus every shard its manifest names, in bytes on disk. */
export function bytesOnDisk(dir: string): { total: number; modelJson: number; weights: number } {
  const jsonPath = join(dir, 'model.json');
  const modelJson = statSync(jsonPath).size;
  const manifest = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    weightsManifest?: { paths: string[] }[];
  };
  let weights = 0;
  for (const group of manifest.weightsManifest ?? []) {
    for (const p of group.paths) weights += statSync(join(dir, p)).size;
  }
  return { total: modelJson + weights, modelJson, weights };
}

/** The median of `xs`. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/**
 * Median latency (ms) of `model.predict` on one clip `[1, frames, bins]` of seeded noise, on the
 * current backend, for each model: `warmup` calls each, then `runs` rounds in which every model is
 * timed once, so that a change in machine load touches all models alike. Each call waits for
 * the output data.
 */
export async function interleavedLatency(
  models: ReadonlyMap<string, tfl.LayersModel>,
  frames: number,
  bins: number,
  runs: number,
  warmup = 3,
): Promise<Record<string, number>> {
  const rng = createRng(7);
  const x = tf.tensor3d(
    Float32Array.from({ length: frames * bins }, () => rng.normal()),
    [1, frames, bins],
  );
  const once = async (model: tfl.LayersModel): Promise<number> => {
    const t0 = performance.now();
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    const t = performance.now() - t0;
    y.dispose();
    return t;
  };
  try {
    const times = new Map<string, number[]>();
    for (const [name, model] of models) {
      for (let i = 0; i < warmup; i++) await once(model);
      times.set(name, []);
    }
    for (let r = 0; r < runs; r++) {
      for (const [name, model] of models) (times.get(name) as number[]).push(await once(model));
    }
    return Object.fromEntries([...times].map(([name, t]) => [name, median(t)]));
  } finally {
    x.dispose();
  }
}
