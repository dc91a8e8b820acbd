import { describe, expect, it } from 'vitest';
import { KwsError } from '../src/errors.js';
import { createRng, Rng, toRng } from '../src/random.js';

describe('Rng', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    const sb = Array.from({ length: 100 }, () => b.nextUint32());
    const sc = Array.from({ length: 100 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa.filter((v, i) => v === sc[i]).length).toBeLessThan(2);
  });

  it('is uniform in [0, 1): mean, variance and bucket counts', () => {
    const rng = createRng(7);
    const n = 200_000;
    const buckets = new Array(10).fill(0);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sumSq += u * u;
      buckets[Math.floor(u * 10)]++;
    }
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    // Chi-square with 9 degrees of freedom: 99.9% quantile is 27.9.
    const chi = buckets.reduce((acc, c) => acc + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi).toBeLessThan(27.9);
  });

  it('draws unbiased integers and standard normals', () => {
    const rng = createRng(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it('restores its position from getState()', () => {
    const rng = createRng(99);
    for (let i = 0; i < 10; i++) rng.next();
    const state = rng.getState();
    const ahead = Array.from({ length: 20 }, () => rng.next());
    rng.setState(state);
    expect(Array.from({ length: 20 }, () => rng.next())).toEqual(ahead);
    const copy = new Rng(0);
    copy.setState(state);
    copy.next();
    expect(copy.getState()).not.toEqual(state);
  });

  it('shuffles reproducibly into a permutation', () => {
    const a = createRng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    const b = createRng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('forks independent streams and accepts an Rng where a seed is expected', () => {
    const parent = createRng(3);
    const child = parent.fork();
    expect(child.next()).not.toBe(parent.next());
    expect(toRng(parent)).toBe(parent);
    expect(toRng(undefined, 11).next()).toBe(createRng(11).next());
  });

  it('rejects bad seeds, bounds and states with KwsError', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      expect(() => createRng(bad)).toThrowError(KwsError);
    }
    const rng = createRng(0);
    for (const bad of [0, -1, 1.5, 2 ** 33]) {
      expect(() => rng.int(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    for (const bad of [[0, 0, 0, 0], [1, 2, 3], [1, 2, 3, -4], [1, 2, 3, 2 ** 32], 'x']) {
      expect(() => rng.setState(bad as never)).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
