import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { PosteriorSmoother, smoothPosteriors } from '../../src/streaming/smoothing.js';

const f = Math.fround;

describe('PosteriorSmoother', () => {
  it('averages the last `length` vectors, fewer at the start', () => {
    const s = new PosteriorSmoother(2, 3);
    expect([...s.push([1, 0])]).toEqual([1, 0]);
    expect([...s.push([0, 1])]).toEqual([0.5, 0.5]);
    expect([...s.push([0.5, 0.5])]).toEqual([0.5, 0.5]);
    // (0 + 0.5 + 1) / 3 and (1 + 0.5 + 1) / 3: the first vector has left the window.
    expect([...s.push([1, 1])]).toEqual([0.5, f(2.5 / 3)]);
    expect([...s.push([0.25, 0])]).toEqual([f(1.75 / 3), 0.5]);
  });

  it('length 1 passes vectors through; reset restarts the average', () => {
    const one = new PosteriorSmoother(3, 1);
    expect([...one.push([0.1, 0.2, 0.7])]).toEqual([f(0.1), f(0.2), f(0.7)]);
    expect([...one.push([0.3, 0.3, 0.4])]).toEqual([f(0.3), f(0.3), f(0.4)]);
    const s = new PosteriorSmoother(1, 4);
    s.push([1]);
    s.push([1]);
    s.reset();
    expect([...s.push([0.5])]).toEqual([0.5]);
  });

  it('does not drift over a long sequence (each output is recomputed)', () => {
    const s = new PosteriorSmoother(1, 3);
    let last: Float32Array = new Float32Array(1);
    for (let i = 0; i < 100_000; i++) last = s.push([f(0.1 * (i % 7))]);
    // The last three inputs: i = 99997, 99998, 99999 → i % 7 = 2, 3, 4.
    expect(last[0]).toBe(f((f(0.2) + f(0.1 * 3) + f(0.4)) / 3));
  });

  it('smoothPosteriors equals the smoother over a sequence', () => {
    const seq = [
      [1, 0],
      [0, 1],
      [0.5, 0.5],
      [1, 1],
    ];
    expect(smoothPosteriors(seq, 2).map((v) => [...v])).toEqual([
      [1, 0],
      [0.5, 0.5],
      [0.25, 0.75],
      [0.75, 0.75],
    ]);
    expect(smoothPosteriors([], 3)).toEqual([]);
  });

  it('throws KwsError for bad sizes', () => {
    expect(() => new PosteriorSmoother(0, 3)).toThrow(KwsError);
    expect(() => new PosteriorSmoother(2, 0)).toThrow(KwsError);
    expect(() => new PosteriorSmoother(2, 3).push([1])).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => smoothPosteriors([[1, 0], [1]], 2)).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => smoothPosteriors([[1]], 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
