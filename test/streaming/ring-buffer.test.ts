import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { FrameRingBuffer } from '../../src/streaming/ring-buffer.js';

/** Frames f = 0, 1, … with bins values 10·f + b, so every value names its frame and bin. */
function frames(first: number, count: number, bins: number): Float32Array {
  const data = new Float32Array(count * bins);
  for (let f = 0; f < count; f++) for (let b = 0; b < bins; b++) data[f * bins + b] = 10 * (first + f) + b;
  return data;
}

describe('FrameRingBuffer', () => {
  it('returns the last n frames oldest first, before and after wrapping', () => {
    const ring = new FrameRingBuffer(3, 2);
    expect(ring.length).toBe(0);
    ring.push(frames(0, 2, 2));
    expect(ring.length).toBe(2);
    expect([...ring.readLast(2)]).toEqual([0, 1, 10, 11]);
    ring.push(frames(2, 1, 2));
    expect([...ring.readLast(3)]).toEqual([0, 1, 10, 11, 20, 21]);
    // Frames 3 and 4 overwrite slots 0 and 1: the read spans the wrap.
    ring.push(frames(3, 2, 2));
    expect(ring.length).toBe(3);
    expect(ring.framesPushed).toBe(5);
    expect([...ring.readLast(3)]).toEqual([20, 21, 30, 31, 40, 41]);
    expect([...ring.readLast(2)]).toEqual([30, 31, 40, 41]);
    expect([...ring.readLast(1)]).toEqual([40, 41]);
    expect([...ring.readLast(0)]).toEqual([]);
  });

  it('equals the tail of everything pushed, for every split of the input', () => {
    const all = frames(0, 23, 3);
    for (let split = 1; split <= 9; split++) {
      const ring = new FrameRingBuffer(5, 3);
      for (let f = 0; f < 23; f += split) {
        const n = Math.min(split, 23 - f);
        ring.push(all.subarray(f * 3, (f + n) * 3), n);
        const held = Math.min(5, f + n);
        expect(ring.length).toBe(held);
        expect([...ring.readLast(held)]).toEqual([...all.subarray((f + n - held) * 3, (f + n) * 3)]);
      }
    }
  });

  it('keeps only the last capacity frames of a large push', () => {
    const ring = new FrameRingBuffer(4, 1);
    ring.push(frames(0, 1, 1));
    ring.push(frames(1, 10, 1));
    expect([...ring.readLast(4)]).toEqual([70, 80, 90, 100]);
    expect(ring.framesPushed).toBe(11);
  });

  it('writes into a given array at an offset, honours an explicit frame count, and clears', () => {
    const ring = new FrameRingBuffer(3, 2);
    ring.push(frames(0, 3, 2), 2); // only the first 2 frames
    const out = new Float32Array(7).fill(-1);
    expect(ring.readLast(2, out, 2)).toBe(out);
    expect([...out]).toEqual([-1, -1, 0, 1, 10, 11, -1]);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.framesPushed).toBe(0);
    ring.push(frames(5, 1, 2));
    expect([...ring.readLast(1)]).toEqual([50, 51]);
  });

  it('throws KwsError for bad sizes and reads', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        return (e as KwsError).code;
      }
      return undefined;
    };
    expect(code(() => new FrameRingBuffer(0, 2))).toBe('INVALID_ARGUMENT');
    expect(code(() => new FrameRingBuffer(2, 1.5))).toBe('INVALID_ARGUMENT');
    const ring = new FrameRingBuffer(3, 2);
    ring.push(frames(0, 2, 2));
    expect(code(() => ring.readLast(3))).toBe('INVALID_ARGUMENT');
    expect(code(() => ring.readLast(2, new Float32Array(3)))).toBe('INVALID_ARGUMENT');
    expect(code(() => ring.push(new Float32Array(3)))).toBe('SHAPE_MISMATCH');
    expect(code(() => ring.push(new Float32Array(4), 3))).toBe('SHAPE_MISMATCH');
  });
});
