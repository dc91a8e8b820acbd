import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  applySpecAugmentMasks,
  drawSpecAugmentMasks,
  mixNoise,
  type SpecAugmentMasks,
  type SpecAugmentOptions,
  specAugment,
  timeShift,
} from '../../src/features/augment.js';
import type { Spectrogram } from '../../src/features/types.js';
import { createRng } from '../../src/random.js';

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
}

/** A spectrogram whose cells are all distinct and non-zero: data[i] = i + 1. */
function rampSpec(frames: number, bins: number): Spectrogram {
  const data = new Float32Array(frames * bins);
  for (let i = 0; i < data.length; i++) data[i] = i + 1;
  return { data, frames, bins };
}

function maskedSet(masks: SpecAugmentMasks, frames: number, bins: number): Uint8Array {
  const m = new Uint8Array(frames * bins);
  for (const { start, width } of masks.freq) {
    for (let t = 0; t < frames; t++) for (let b = start; b < start + width; b++) m[t * bins + b] = 1;
  }
  for (const { start, width } of masks.time) {
    for (let t = start; t < start + width; t++) for (let b = 0; b < bins; b++) m[t * bins + b] = 1;
  }
  return m;
}

function energy(x: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += (x[i] as number) ** 2;
  return e;
}

describe('specAugment', () => {
  const opts: SpecAugmentOptions = {
    freqMasks: 2,
    freqMaskWidth: 6,
    timeMasks: 2,
    timeMaskWidth: 8,
    maskValue: -3,
    seed: 7,
  };

  it('writes maskValue exactly in the drawn intervals and leaves every other cell untouched', () => {
    const spec = rampSpec(50, 20);
    const before = spec.data.slice();
    const masks = drawSpecAugmentMasks(50, 20, opts);
    expect(masks.freq).toHaveLength(2);
    expect(masks.time).toHaveLength(2);
    const out = specAugment(spec, opts);
    const m = maskedSet(masks, 50, 20);
    let maskedCount = 0;
    for (let i = 0; i < out.data.length; i++) {
      if (m[i]) {
        maskedCount++;
        expect(out.data[i]).toBe(-3);
      } else {
        expect(out.data[i]).toBe(before[i]);
      }
    }
    // The seed is chosen so that the masks are not all empty; the count follows from the intervals.
    expect(maskedCount).toBeGreaterThan(0);
    expect(maskedCount).toBe(m.reduce((a, b) => a + b, 0));
    expect(out.frames).toBe(50);
    expect(out.bins).toBe(20);
    // Input not mutated, output is a new buffer.
    expect(spec.data).toEqual(before);
    expect(out.data).not.toBe(spec.data);
  });

  it('applies hand-written masks to a 4×5 spectrogram exactly', () => {
    const spec = rampSpec(4, 5);
    const out = applySpecAugmentMasks(
      spec,
      { freq: [{ start: 1, width: 2 }], time: [{ start: 2, width: 1 }] },
      { maskValue: 0 },
    );
    // biome-ignore format: one row per frame
    expect(Array.from(out.data)).toEqual([
       1, 0, 0,  4,  5,
       6, 0, 0,  9, 10,
       0, 0, 0,  0,  0,
      16, 0, 0, 19, 20,
    ]);
    expect(Array.from(spec.data)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('draws widths in [0, F] and starts that keep every mask inside the spectrogram, over many seeds', () => {
    const frames = 101;
    const bins = 40;
    const freqCounts = new Array(9).fill(0);
    const timeCounts = new Array(11).fill(0);
    let freqWidthSum = 0;
    let freqStartMin = Infinity;
    let freqEndMax = 0;
    let n = 0;
    for (let seed = 0; seed < 2000; seed++) {
      const masks = drawSpecAugmentMasks(frames, bins, { seed, freqMaskWidth: 8, timeMaskWidth: 10 });
      for (const { start, width } of masks.freq) {
        expect(width).toBeGreaterThanOrEqual(0);
        expect(width).toBeLessThanOrEqual(8);
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start + width).toBeLessThanOrEqual(bins);
        freqCounts[width]++;
        freqWidthSum += width;
        freqStartMin = Math.min(freqStartMin, start);
        freqEndMax = Math.max(freqEndMax, start + width);
        n++;
      }
      for (const { start, width } of masks.time) {
        expect(width).toBeLessThanOrEqual(10);
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start + width).toBeLessThanOrEqual(frames);
        timeCounts[width]++;
      }
    }
    // Every width 0..F occurs, with roughly uniform frequency (4000 draws, ~444 per width).
    for (const c of freqCounts) expect(c).toBeGreaterThan(330);
    for (const c of timeCounts) expect(c).toBeGreaterThan(270);
    expect(Math.abs(freqWidthSum / n - 4)).toBeLessThan(0.15);
    // Masks reach both edges: the first and the last bin can be masked.
    expect(freqStartMin).toBe(0);
    expect(freqEndMax).toBe(bins);
  });

  it('caps the time-mask width at ⌊p·frames⌋ and the frequency-mask width at the bin count', () => {
    let maxTime = 0;
    let maxFreq = 0;
    for (let seed = 0; seed < 500; seed++) {
      const masks = drawSpecAugmentMasks(101, 10, {
        seed,
        timeMaskWidth: 100,
        maxTimeMaskFraction: 0.05,
        freqMaskWidth: 50,
      });
      for (const { width } of masks.time) maxTime = Math.max(maxTime, width);
      for (const { width } of masks.freq) maxFreq = Math.max(maxFreq, width);
    }
    expect(maxTime).toBe(5); // ⌊0.05 · 101⌋
    expect(maxFreq).toBe(10);
    const none = drawSpecAugmentMasks(30, 10, { seed: 1, maxTimeMaskFraction: 0 });
    expect(none.time.every((m) => m.width === 0)).toBe(true);
  });

  it('is reproducible from a seed, differs across seeds, and advances a passed Rng', () => {
    const spec = rampSpec(60, 32);
    const a = specAugment(spec, { seed: 123 });
    const b = specAugment(spec, { seed: 123 });
    const c = specAugment(spec, { seed: 124 });
    expect(b.data).toEqual(a.data);
    expect(c.data).not.toEqual(a.data);
    // Default seed is 0: the same as passing 0 explicitly.
    expect(specAugment(spec).data).toEqual(specAugment(spec, { seed: 0 }).data);

    const rng = createRng(5);
    const first = specAugment(spec, { seed: rng });
    const second = specAugment(spec, { seed: rng });
    expect(second.data).not.toEqual(first.data);
    const replay = createRng(5);
    expect(specAugment(spec, { seed: replay }).data).toEqual(first.data);
    expect(specAugment(spec, { seed: replay }).data).toEqual(second.data);
  });

  it("uses the input's mean (before masking) for maskValue 'mean'", () => {
    const spec = rampSpec(20, 10); // values 1..200, mean 100.5
    const masks = drawSpecAugmentMasks(20, 10, { seed: 3, freqMaskWidth: 4, timeMaskWidth: 5 });
    const out = specAugment(spec, { seed: 3, freqMaskWidth: 4, timeMaskWidth: 5, maskValue: 'mean' });
    const m = maskedSet(masks, 20, 10);
    let masked = 0;
    for (let i = 0; i < out.data.length; i++) {
      if (m[i]) {
        masked++;
        expect(out.data[i]).toBe(100.5);
      } else expect(out.data[i]).toBe(i + 1);
    }
    expect(masked).toBeGreaterThan(0);
  });

  it('masks in place only when asked, returning the same object', () => {
    const spec = rampSpec(30, 16);
    const copy = spec.data.slice();
    const expected = specAugment(spec, { seed: 9 });
    expect(spec.data).toEqual(copy);
    const out = specAugment(spec, { seed: 9, inPlace: true });
    expect(out).toBe(spec);
    expect(spec.data).toEqual(expected.data);
    expect(spec.data).not.toEqual(copy);
  });

  it('with zero masks returns an equal copy', () => {
    const spec = rampSpec(10, 8);
    const out = specAugment(spec, { freqMasks: 0, timeMasks: 0 });
    expect(out.data).toEqual(spec.data);
    expect(out.data).not.toBe(spec.data);
  });

  it('throws KwsError with stable codes on bad input', () => {
    const good = rampSpec(10, 8);
    expectCode(() => specAugment({ data: new Float32Array(79), frames: 10, bins: 8 }), 'SHAPE_MISMATCH');
    expectCode(() => specAugment({ data: new Float32Array(0), frames: 0, bins: 8 }), 'EMPTY_INPUT');
    const nan = rampSpec(10, 8);
    nan.data[17] = Number.NaN;
    expectCode(() => specAugment(nan), 'NON_FINITE_INPUT');
    const inf = rampSpec(10, 8);
    inf.data[3] = -Infinity;
    expectCode(() => specAugment(inf), 'NON_FINITE_INPUT');
    expectCode(() => specAugment(null as unknown as Spectrogram), 'INVALID_ARGUMENT');
    expectCode(
      () => specAugment({ data: [1, 2], frames: 1, bins: 2 } as unknown as Spectrogram),
      'INVALID_ARGUMENT',
    );
    expectCode(() => specAugment({ data: new Float32Array(8), frames: 1.5, bins: 8 }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { freqMasks: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { timeMasks: 1.5 }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { freqMaskWidth: -2 }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { timeMaskWidth: Number.NaN }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { maxTimeMaskFraction: 1.5 }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { maskValue: 'median' as unknown as number }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { maskValue: Infinity }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { seed: 'x' as unknown as number }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, { inPlace: 'yes' as unknown as boolean }), 'INVALID_ARGUMENT');
    expectCode(() => specAugment(good, 5 as unknown as SpecAugmentOptions), 'INVALID_ARGUMENT');
    expectCode(() => drawSpecAugmentMasks(0, 8), 'INVALID_ARGUMENT');
    expectCode(
      () => applySpecAugmentMasks(good, { freq: [{ start: 6, width: 3 }], time: [] }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => applySpecAugmentMasks(good, { freq: [], time: [{ start: -1, width: 1 }] }),
      'INVALID_ARGUMENT',
    );
    expectCode(() => applySpecAugmentMasks(good, {} as SpecAugmentMasks), 'INVALID_ARGUMENT');
    // Nothing was mutated by the failed calls.
    expect(Array.from(good.data)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });
});

describe('mixNoise', () => {
  const sr = 16000;
  const signal = new Float32Array(sr);
  for (let i = 0; i < sr; i++) signal[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr);
  const noise = new Float32Array(20000);
  const g = createRng(42);
  for (let i = 0; i < noise.length; i++) noise[i] = 0.1 * g.normal();

  it('reaches the requested SNR to within 1e-3 dB (measured on the output)', () => {
    const signalCopy = signal.slice();
    const noiseCopy = noise.slice();
    for (const snrDb of [-10, 0, 5, 20, 40]) {
      const out = mixNoise(signal, noise, { snrDb, offset: 1234 });
      const residual = new Float64Array(sr);
      for (let i = 0; i < sr; i++) residual[i] = (out[i] as number) - (signal[i] as number);
      const measured = 10 * Math.log10(energy(signal) / energy(residual));
      expect(Math.abs(measured - snrDb)).toBeLessThan(1e-3);
      // The added noise is one fixed multiple of the segment noise[1234 .. 1234 + 16000).
      const k = (residual[100] as number) / (noise[1334] as number);
      for (const i of [0, 777, 9000, 15999]) {
        expect((residual[i] as number) / (noise[1234 + i] as number)).toBeCloseTo(k, 3);
      }
    }
    expect(signal).toEqual(signalCopy);
    expect(noise).toEqual(noiseCopy);
  });

  it('adds gain · noise exactly in gain mode', () => {
    const out = mixNoise(signal, noise, { gain: 0.3, offset: 4000 });
    for (let i = 0; i < sr; i++) {
      expect(out[i]).toBe(Math.fround((signal[i] as number) + 0.3 * (noise[4000 + i] as number)));
    }
    expect(mixNoise(signal, noise, { gain: 0 })).toEqual(signal);
  });

  it('loops noise shorter than the signal, starting at the offset', () => {
    const shortNoise = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const silent = new Float32Array(20);
    const out = mixNoise(silent, shortNoise, { gain: 1, offset: 3 });
    expect(Array.from(out)).toEqual([4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7, 1, 2]);
    // With a target SNR the power is measured over the looped segment actually added.
    const sig = signal.subarray(0, 1000);
    const loopNoise = noise.subarray(0, 300);
    const mixed = mixNoise(sig, loopNoise, { snrDb: 10, offset: 250 });
    const residual = Array.from(mixed, (v, i) => v - (sig[i] as number));
    expect(Math.abs(10 * Math.log10(energy(sig) / energy(residual)) - 10)).toBeLessThan(1e-3);
    const k = (residual[0] as number) / (loopNoise[250] as number);
    expect((residual[50] as number) / (loopNoise[0] as number)).toBeCloseTo(k, 4);
    expect((residual[350] as number) / (loopNoise[0] as number)).toBeCloseTo(k, 4);
  });

  it('draws a reproducible random offset within [0, noise.length − signal.length]', () => {
    const ramp = Float32Array.from({ length: 1000 }, (_, i) => i);
    const silent = new Float32Array(100);
    const offsets: number[] = [];
    for (let seed = 0; seed < 500; seed++) {
      const out = mixNoise(silent, ramp, { gain: 1, seed });
      const off = out[0] as number;
      // The segment is contiguous: out = ramp[off .. off + 100).
      expect(out[99]).toBe(off + 99);
      offsets.push(off);
      expect(mixNoise(silent, ramp, { gain: 1, seed, offset: 'random' })).toEqual(out);
    }
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(900);
    expect(Math.min(...offsets)).toBeLessThan(30);
    expect(Math.max(...offsets)).toBeGreaterThan(870);
    expect(new Set(offsets).size).toBeGreaterThan(300);
    // Shorter noise: the random phase covers [0, noise.length).
    const phases = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      phases.add(mixNoise(new Float32Array(50), ramp.subarray(0, 10), { gain: 1, seed })[0] as number);
    }
    expect([...phases].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // A passed Rng is advanced between calls.
    const rng = createRng(1);
    const a = mixNoise(silent, ramp, { gain: 1, seed: rng });
    const b = mixNoise(silent, ramp, { gain: 1, seed: rng });
    expect(a[0]).not.toBe(b[0]);
  });

  it('returns a copy of the signal when the SNR needs no noise or the noise segment is silent', () => {
    const zeros = new Float32Array(500);
    const out1 = mixNoise(zeros, noise, { snrDb: 10, offset: 0 });
    expect(out1).toEqual(zeros);
    expect(out1).not.toBe(zeros);
    const sig = signal.subarray(0, 500);
    const out2 = mixNoise(sig, new Float32Array(800), { snrDb: 10 });
    expect(out2).toEqual(sig);
  });

  it('throws KwsError with stable codes on bad input', () => {
    const s = signal.subarray(0, 100);
    expectCode(() => mixNoise(s, noise, { gain: 1, snrDb: 3 }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, {}), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, undefined as unknown as { gain: number }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, new Float32Array(0), { gain: 1 }), 'EMPTY_INPUT');
    expectCode(() => mixNoise(new Float32Array(0), noise, { gain: 1 }), 'EMPTY_INPUT');
    const bad = noise.slice(0, 200);
    bad[150] = Number.NaN;
    expectCode(() => mixNoise(s, bad, { gain: 1 }), 'NON_FINITE_INPUT');
    const badSignal = s.slice();
    badSignal[5] = Infinity;
    expectCode(() => mixNoise(badSignal, noise, { snrDb: 0 }), 'NON_FINITE_INPUT');
    expectCode(() => mixNoise(s, noise, { gain: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, { snrDb: Infinity }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, { gain: 1, offset: noise.length - 99 }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, { gain: 1, offset: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise, { gain: 1, offset: 2.5 }), 'INVALID_ARGUMENT');
    expectCode(() => mixNoise(s, noise.subarray(0, 10), { gain: 1, offset: 10 }), 'INVALID_ARGUMENT');
    expectCode(
      () => mixNoise(Array.from(s) as unknown as Float32Array, noise, { gain: 1 }),
      'INVALID_ARGUMENT',
    );
    expectCode(() => mixNoise(s, noise, { gain: 1, seed: Number.NaN }), 'INVALID_ARGUMENT');
    // Overflowing float32 is reported rather than returning Infinity.
    expectCode(() => mixNoise(s, Float32Array.from([1e30]), { gain: 1e10 }), 'INVALID_ARGUMENT');
    // The largest legal offset works.
    expect(mixNoise(s, noise, { gain: 1, offset: noise.length - 100 })).toHaveLength(100);
  });
});

describe('timeShift', () => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const shifted = (shift: number, fill?: 'zero' | 'wrap') => Array.from(timeShift(x, { shift, fill }));

  it('delays (positive) and advances (negative) with zero fill at exact sample positions', () => {
    expect(shifted(3)).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    expect(shifted(-2)).toEqual([3, 4, 5, 6, 7, 8, 0, 0]);
    expect(shifted(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(shifted(7)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(shifted(8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(shifted(-100)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rotates with wrap fill, taking the shift modulo the length', () => {
    expect(shifted(3, 'wrap')).toEqual([6, 7, 8, 1, 2, 3, 4, 5]);
    expect(shifted(-2, 'wrap')).toEqual([3, 4, 5, 6, 7, 8, 1, 2]);
    expect(shifted(11, 'wrap')).toEqual(shifted(3, 'wrap'));
    expect(shifted(-10, 'wrap')).toEqual(shifted(-2, 'wrap'));
    expect(shifted(8, 'wrap')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('draws shifts uniformly from [−maxShift, maxShift], covering both signs', () => {
    const impulse = new Float32Array(64);
    impulse[0] = 1;
    const counts = new Map<number, number>();
    let sum = 0;
    const draws = 3300;
    for (let seed = 0; seed < draws; seed++) {
      const out = timeShift(impulse, { maxShift: 5, fill: 'wrap', seed });
      const pos = out.indexOf(1);
      const shift = pos > 32 ? pos - 64 : pos;
      expect(Math.abs(shift)).toBeLessThanOrEqual(5);
      counts.set(shift, (counts.get(shift) ?? 0) + 1);
      sum += shift;
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
    for (const c of counts.values()) expect(Math.abs(c - 300)).toBeLessThan(75);
    expect(Math.abs(sum / draws)).toBeLessThan(0.2);
  });

  it('is reproducible from a seed and advances a passed Rng', () => {
    const ramp = Float32Array.from({ length: 400 }, (_, i) => i + 1);
    const a = timeShift(ramp, { maxShift: 100, seed: 11 });
    expect(timeShift(ramp, { maxShift: 100, seed: 11 })).toEqual(a);
    expect(timeShift(ramp, { maxShift: 100, seed: 12 })).not.toEqual(a);
    const rng = createRng(2);
    const first = timeShift(ramp, { maxShift: 100, seed: rng });
    const second = timeShift(ramp, { maxShift: 100, seed: rng });
    expect(second).not.toEqual(first);
    expect(timeShift(ramp, { maxShift: 0, seed: 3 })).toEqual(ramp);
  });

  it('throws KwsError with stable codes on bad input', () => {
    expectCode(() => timeShift(x, { shift: 1, maxShift: 2 }), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(x, {}), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(x, { shift: 1.5 }), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(x, { maxShift: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(x, { maxShift: 2 ** 31 }), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(x, { shift: 1, fill: 'reflect' as 'zero' }), 'INVALID_ARGUMENT');
    expectCode(() => timeShift(new Float32Array(0), { shift: 1 }), 'EMPTY_INPUT');
    expectCode(() => timeShift(Float32Array.from([1, Number.NaN]), { shift: 1 }), 'NON_FINITE_INPUT');
    expectCode(
      () => timeShift(new Float64Array(4) as unknown as Float32Array, { shift: 1 }),
      'INVALID_ARGUMENT',
    );
  });
});
