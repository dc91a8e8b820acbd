import { describe, expect, it } from 'vitest';
import {
  balancedSampler,
  batches,
  classCounts,
  classWeights,
  createSplit,
  exampleFeatures,
  type Split,
} from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';

/** A split whose example i has features all equal to i (frames 3, bins 2). */
function splitWithCounts(counts: number[]): Split {
  const labels: number[] = [];
  counts.forEach((c, k) => {
    for (let i = 0; i < c; i++) labels.push(k);
  });
  const n = labels.length;
  const features = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) features.fill(i, i * 6, (i + 1) * 6);
  return createSplit({ features, frames: 3, bins: 2, labels, labelNames: counts.map((_, k) => `c${k}`) });
}

describe('classCounts / classWeights', () => {
  it('counts every class, including empty ones', () => {
    expect(classCounts(splitWithCounts([10, 0, 30, 60]))).toEqual([10, 0, 30, 60]);
  });

  it('inverse weights: hand-computed, mean 1 over the classes present, 0 for empty classes', () => {
    // counts 10, 30, 60: 1/n = 0.1, 0.0333…, 0.01666…; mean 0.05 → 2, 2/3, 1/3.
    const w = classWeights(splitWithCounts([10, 30, 60]));
    expect(w[0]).toBeCloseTo(2, 12);
    expect(w[1]).toBeCloseTo(2 / 3, 12);
    expect(w[2]).toBeCloseTo(1 / 3, 12);
    const withEmpty = classWeights(splitWithCounts([10, 0, 30, 60]), { scheme: 'inverse' });
    expect(withEmpty[1]).toBe(0);
    expect(withEmpty[3]).toBeCloseTo(1 / 3, 12);
  });

  it('sqrt-inverse weights: hand-computed', () => {
    // 1/√10 = 0.31622777, 1/√30 = 0.18257419, 1/√60 = 0.12909944; mean 0.20930047 (Python float64).
    const w = classWeights(splitWithCounts([10, 30, 60]), { scheme: 'sqrt-inverse' });
    expect(w[0]).toBeCloseTo(1.5108794199, 9);
    expect(w[1]).toBeCloseTo(0.8723066398, 9);
    expect(w[2]).toBeCloseTo(0.6168139403, 9);
    expect((w[0] as number) + (w[1] as number) + (w[2] as number)).toBeCloseTo(3, 12);
  });

  it('rejects bad input', () => {
    expect(() => classWeights(splitWithCounts([0, 0]))).toThrow(
      expect.objectContaining({ code: 'EMPTY_INPUT' }),
    );
    expect(() => classWeights(splitWithCounts([1, 2]), { scheme: 'log' as 'inverse' })).toThrow(KwsError);
    expect(() => classCounts({ labels: Int32Array.of(0, 5), labelNames: ['a', 'b'] })).toThrow(/\[0, 1\]/);
  });
});

describe('balancedSampler', () => {
  const split = splitWithCounts([2, 5, 50]); // 57 examples

  it('gives every class the same number of draws per epoch (±1) and only valid indices', () => {
    const next = balancedSampler(split, { seed: 1 });
    const perClass = (epoch: Int32Array) =>
      classCounts({ labels: epoch.map((i) => split.labels[i] as number), labelNames: split.labelNames });
    for (let e = 0; e < 3; e++) {
      const epoch = next();
      expect(epoch.length).toBe(57);
      expect(perClass(epoch)).toEqual([19, 19, 19]);
    }
    const odd = perClass(balancedSampler(split, { seed: 2, epochSize: 100 })());
    expect(Math.max(...odd) - Math.min(...odd)).toBeLessThanOrEqual(1);
    expect(odd.reduce((a, b) => a + b)).toBe(100);
  });

  it('rotates through every example of a large class before repeating one', () => {
    const next = balancedSampler(split, { seed: 3 });
    const seen = new Map<number, number>();
    for (let e = 0; e < 3; e++)
      for (const i of next()) if (split.labels[i] === 2) seen.set(i, (seen.get(i) ?? 0) + 1);
    // 3 epochs × 19 draws = 57 from a pool of 50: one full pass (each once) plus 7 repeats.
    expect(seen.size).toBe(50);
    expect([...seen.values()].every((c) => c === 1 || c === 2)).toBe(true);
  });

  it('is reproducible by seed', () => {
    const a = balancedSampler(split, { seed: 9 });
    const b = balancedSampler(split, { seed: 9 });
    const c = balancedSampler(split, { seed: 10 });
    const a1 = a();
    expect(b()).toEqual(a1);
    expect(c()).not.toEqual(a1);
    expect(a()).not.toEqual(a1); // the next epoch differs
  });
});

describe('batches', () => {
  const split = splitWithCounts([4, 6]); // 10 examples, features of example i all equal i

  it('covers every index exactly once per epoch, in order by default', () => {
    const got = [...batches(split, { batchSize: 4 })];
    expect(got.map((b) => b.indices.length)).toEqual([4, 4, 2]);
    expect(got.flatMap((b) => [...b.indices])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of got) {
      expect(b.x.length).toBe(b.indices.length * 6);
      b.indices.forEach((i, k) => {
        expect([...b.x.subarray(k * 6, (k + 1) * 6)]).toEqual([i, i, i, i, i, i]);
        expect(b.y[k]).toBe(split.labels[i]);
      });
    }
  });

  it('shuffles reproducibly by seed and still covers every index once', () => {
    const order = (seed: number) =>
      [...batches(split, { batchSize: 3, shuffle: true, seed })].flatMap((b) => [...b.indices]);
    const a = order(5);
    expect([...a].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order(5)).toEqual(a);
    expect(order(6)).not.toEqual(a);
  });

  it('drops the short tail with dropLast and batches a given order', () => {
    expect([...batches(split, { batchSize: 4, dropLast: true })].map((b) => b.indices.length)).toEqual([
      4, 4,
    ]);
    const got = [...batches(split, { batchSize: 2, order: [9, 9, 0] })];
    expect(got.map((b) => [...b.indices])).toEqual([[9, 9], [0]]);
    expect(() => batches(split, { order: [10] })).toThrow(/\[0, 9\]/);
    expect(() => batches(split, { batchSize: 0 })).toThrow(KwsError);
  });

  it('exampleFeatures is a view of one example', () => {
    expect([...exampleFeatures(split, 7)]).toEqual([7, 7, 7, 7, 7, 7]);
    expect(() => exampleFeatures(split, 10)).toThrow(KwsError);
  });

  it('createSplit checks shapes', () => {
    expect(() =>
      createSplit({ features: new Float32Array(5), frames: 3, bins: 2, labels: [0], labelNames: ['a'] }),
    ).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() =>
      createSplit({ features: new Float32Array(6), frames: 3, bins: 2, labels: [1], labelNames: ['a'] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
