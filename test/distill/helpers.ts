import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers the gradients tfjs-core alone lacks.
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { createRng } from '../../src/random.js';

export async function useCpu(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
}

export function expectKwsError(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
}

/** Runs `fn`, disposes its result, then asserts that it left no other tensor behind. */
export function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[]): void {
  const before = tf.memory().numTensors;
  tf.dispose(fn());
  expect(tf.memory().numTensors).toBe(before);
}

export function randomRows(rows: number, cols: number, seed: number, scale = 1): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * rng.normal()));
}

/** Rows of random probabilities (softmax of random scores). */
export function randomDistributions(rows: number, cols: number, seed: number): number[][] {
  return randomRows(rows, cols, seed, 2).map((r) => softmax64(r, 1));
}

/** Float64 softmax of one row at temperature T. */
export function softmax64(row: readonly number[], temperature: number): number[] {
  const z = row.map((v) => v / temperature);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function scalarOf(t: tf.Tensor): number {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}
