import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { type ResampleOptions, Resampler, resample, resampledLength } from '../../src/features/resample.js';
import { createRng } from '../../src/random.js';

function sine(freq: number, rate: number, length: number, phase = 0.3): Float32Array {
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = Math.sin((2 * Math.PI * freq * i) / rate + phase);
  return x;
}

function randomSignal(seed: number, length: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length }, () => rng.uniform(-1, 1));
}

/** Output samples to ignore at each end: one whole filter length, expressed at the output rate. */
function edgeSkip(from: number, to: number, options?: ResampleOptions): number {
  const half = new Resampler(from, to, options).lookahead;
  return Math.ceil(((2 * half + 1) * to) / from) + 2;
}

/** SNR in dB of `y` against `ideal`, ignoring `skip` samples at each end. */
function snrDb(y: Float32Array, ideal: Float32Array, skip: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = skip; i < y.length - skip; i++) {
    signal += ideal[i]! ** 2;
    noise += (y[i]! - ideal[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

function rms(x: Float32Array, skip: number): number {
  let s = 0;
  for (let i = skip; i < x.length - skip; i++) s += x[i]! ** 2;
  return Math.sqrt(s / (x.length - 2 * skip));
}

function expectKwsError(fn: () => unknown, code: string, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
  if (pattern) expect((caught as KwsError).message).toMatch(pattern);
}

function streamed(
  x: Float32Array,
  from: number,
  to: number,
  chunkSizes: () => number,
  options?: ResampleOptions,
): Float32Array {
  const rs = new Resampler(from, to, options);
  const parts: Float32Array[] = [];
  for (let pos = 0; pos < x.length; ) {
    const size = Math.min(chunkSizes(), x.length - pos);
    parts.push(rs.process(x.subarray(pos, pos + size)));
    pos += size;
  }
  parts.push(rs.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const RATIOS: ReadonlyArray<readonly [number, number]> = [
  [44100, 16000],
  [48000, 16000],
  [16000, 48000],
  [8000, 16000],
  [22050, 16000],
  [16000, 8000],
  [44100, 48000],
];

describe('resample: quality', () => {
  it.each(RATIOS)('keeps a 1 kHz sine at >= 60 dB SNR for %i -> %i Hz', (from, to) => {
    const x = sine(1000, from, from); // 1 s
    const y = resample(x, from, to);
    const ideal = sine(1000, to, y.length);
    const snr = snrDb(y, ideal, edgeSkip(from, to));
    console.log(`resample ${from} -> ${to}: 1 kHz sine SNR = ${snr.toFixed(1)} dB`);
    expect(snr).toBeGreaterThanOrEqual(60);
  });

  it('keeps a 3 kHz sine at >= 60 dB SNR for 44100 -> 16000 and 16000 -> 48000', () => {
    for (const [from, to] of [
      [44100, 16000],
      [16000, 48000],
    ] as const) {
      const y = resample(sine(3000, from, from), from, to);
      const snr = snrDb(y, sine(3000, to, y.length), edgeSkip(from, to));
      console.log(`resample ${from} -> ${to}: 3 kHz sine SNR = ${snr.toFixed(1)} dB`);
      expect(snr).toBeGreaterThanOrEqual(60);
    }
  });

  it.each([
    [44100, 10000],
    [44100, 12000],
    [48000, 10000],
    [48000, 12000],
    [48000, 9000],
    [44100, 20000],
  ])('attenuates content above the new Nyquist by >= 50 dB (%i Hz, %i Hz sine -> 16 kHz)', (from, freq) => {
    const x = sine(freq, from, from);
    const y = resample(x, from, 16000);
    const skip = edgeSkip(from, 16000);
    const attenuation = 20 * Math.log10(rms(x, 0) / rms(y, skip));
    console.log(`resample ${from} -> 16000: ${freq} Hz sine attenuated by ${attenuation.toFixed(1)} dB`);
    expect(attenuation).toBeGreaterThanOrEqual(50);
  });

  it('passes 6 kHz with < 0.1 dB loss going 48000 -> 16000 and 44100 -> 16000', () => {
    for (const from of [48000, 44100]) {
      const x = sine(6000, from, from);
      const y = resample(x, from, 16000);
      const gain = 20 * Math.log10(rms(y, edgeSkip(from, 16000)) / rms(x, 0));
      console.log(`resample ${from} -> 16000: 6 kHz sine gain = ${gain.toFixed(4)} dB`);
      expect(Math.abs(gain)).toBeLessThan(0.1);
    }
  });

  it('keeps a constant signal constant away from the edges (DC gain exactly 1 per phase)', () => {
    for (const [from, to] of RATIOS) {
      const y = resample(new Float32Array(4000).fill(0.5), from, to);
      const skip = edgeSkip(from, to);
      let err = 0;
      for (let i = skip; i < y.length - skip; i++) err = Math.max(err, Math.abs(y[i]! - 0.5));
      expect(err).toBeLessThan(1e-6);
    }
  });

  it('matches a direct double-precision evaluation of the windowed-sinc formula', () => {
    // y[n] = Σ_k x[k]·h(t_n − k) / Σ_j h(frac(t_n) − j), t_n = n·from/to, h = f_c·sinc(f_c·t)·kaiser(t/W)
    const i0 = (v: number): number => {
      let term = 1;
      let sum = 1;
      for (let k = 1; k < 200; k++) {
        term *= (v * v) / 4 / (k * k);
        sum += term;
      }
      return sum;
    };
    const cases = [
      [44100, 16000, {}],
      [16000, 48000, {}],
      [22050, 16000, { rolloff: 0.8, lowpassFilterWidth: 6, beta: 5 }],
    ] as const;
    for (const [from, to, options] of cases) {
      const rolloff = (options as ResampleOptions).rolloff ?? 0.945;
      const width = (options as ResampleOptions).lowpassFilterWidth ?? 24;
      const beta = (options as ResampleOptions).beta ?? 8.6;
      const fc = (rolloff * Math.min(from, to)) / from;
      const halfWidth = width / fc;
      const h = (t: number): number => {
        if (Math.abs(t) >= halfWidth) return 0;
        const s = t === 0 ? fc : Math.sin(Math.PI * fc * t) / (Math.PI * t);
        return (s * i0(beta * Math.sqrt(1 - (t / halfWidth) ** 2))) / i0(beta);
      };
      const x = randomSignal(7, 600);
      const y = resample(x, from, to, options);
      let err = 0;
      for (let n = 0; n < y.length; n++) {
        const t = (n * from) / to;
        let acc = 0;
        let norm = 0;
        for (let k = Math.floor(t - halfWidth) - 1; k <= Math.ceil(t + halfWidth) + 1; k++) {
          const w = h(t - k);
          norm += w;
          if (k >= 0 && k < x.length) acc += x[k]! * w;
        }
        err = Math.max(err, Math.abs(acc / norm - y[n]!));
      }
      expect(err).toBeLessThan(2e-6);
    }
  });

  it('handles ratios whose polyphase table is too large to cache (44100 -> 16001)', () => {
    const x = sine(1000, 44100, 22050);
    const y = resample(x, 44100, 16001);
    const snr = snrDb(y, sine(1000, 16001, y.length), edgeSkip(44100, 16001));
    console.log(`resample 44100 -> 16001 (taps computed per output): 1 kHz SNR = ${snr.toFixed(1)} dB`);
    expect(snr).toBeGreaterThanOrEqual(60);
    const rng = createRng(11);
    expect(streamed(x, 44100, 16001, () => 1 + rng.int(3000))).toEqual(y);
  });
});

describe('resample: lengths and trivial cases', () => {
  it('returns ceil(n * toRate / fromRate) samples', () => {
    const rng = createRng(3);
    for (const [from, to] of RATIOS) {
      for (const n of [1, 2, 3, 159, 160, 161, 440, 441, 442, 1000, 4410, 16000, 1 + rng.int(20000)]) {
        const expected = Number((BigInt(n) * BigInt(to) + BigInt(from - 1)) / BigInt(from));
        expect(resample(new Float32Array(n), from, to).length).toBe(expected);
        expect(resampledLength(n, from, to)).toBe(expected);
      }
    }
    expect(resample(new Float32Array(44100), 44100, 16000).length).toBe(16000);
    expect(resample(new Float32Array(1), 48000, 16000).length).toBe(1);
    expect(resample(new Float32Array(4), 48000, 16000).length).toBe(2);
    expect(resample(new Float32Array(3), 8000, 16000).length).toBe(6);
    expect(resampledLength(2 ** 40, 44100, 48000)).toBe(Math.ceil((2 ** 40 * 160) / 147));
    expect(resampledLength(0, 44100, 16000)).toBe(0);
  });

  it('returns an empty array for an empty signal and a copy for equal rates', () => {
    expect(resample(new Float32Array(0), 44100, 16000)).toEqual(new Float32Array(0));
    const x = randomSignal(1, 100);
    const y = resample(x, 16000, 16000);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    const rs = new Resampler(16000, 16000);
    expect(rs.process(x)).toEqual(x);
    expect(rs.flush().length).toBe(0);
  });

  it('is deterministic across calls (cached filter bank gives the same output)', () => {
    const x = randomSignal(2, 3000);
    const a = resample(x, 48000, 16000);
    for (let i = 0; i < 10; i++) resample(x, 8000 + i, 16000); // push the bank out of the cache
    expect(resample(x, 48000, 16000)).toEqual(a);
  });
});

describe('Resampler (streaming)', () => {
  it.each(RATIOS)(
    'equals offline resample bit for bit for random chunks of 1..5000 (%i -> %i)',
    (from, to) => {
      const x = randomSignal(from + to, 3 * from + 123);
      const offline = resample(x, from, to);
      const rng = createRng(to);
      const online = streamed(x, from, to, () => 1 + rng.int(5000));
      expect(online.length).toBe(offline.length);
      expect(maxAbsDiff(online, offline)).toBe(0);
      // Very small chunks too (each sample separately on a short piece).
      const short = x.subarray(0, 1500);
      expect(streamed(short, from, to, () => 1)).toEqual(resample(short, from, to));
    },
  );

  it('matches offline for short signals, empty chunks and non-default options', () => {
    const options: ResampleOptions = { rolloff: 0.9, lowpassFilterWidth: 8, beta: 6 };
    const rng = createRng(5);
    for (const n of [1, 2, 5, 17, 100]) {
      const x = randomSignal(n, n);
      for (const [from, to] of RATIOS) {
        const offline = resample(x, from, to, options);
        const online = streamed(x, from, to, () => rng.int(4), options); // 0-size chunks included
        expect(online).toEqual(offline);
      }
    }
  });

  it('keeps only the filter history between calls and emits output progressively', () => {
    const rs = new Resampler(44100, 16000);
    const x = randomSignal(9, 44100);
    let emitted = 0;
    for (let pos = 0; pos < x.length; pos += 441) {
      emitted += rs.process(x.subarray(pos, pos + 441)).length;
      // Output n (centre floor(n·441/160)) is ready once the input reaches centre + lookahead.
      const lastCentre = pos + 441 - 1 - rs.lookahead;
      const expectedReady = Math.floor(((lastCentre + 1) * 160 - 1) / 441) + 1;
      expect(emitted).toBe(expectedReady);
      const held = (rs as unknown as { bufLength: number }).bufLength;
      expect(held).toBeLessThanOrEqual(2 * rs.lookahead + 1);
    }
    expect(emitted + rs.flush().length).toBe(16000);
  });

  it('starts a new stream after flush() and after reset()', () => {
    const x = randomSignal(4, 5000);
    const expected = resample(x, 48000, 16000);
    const rs = new Resampler(48000, 16000);
    rs.process(randomSignal(5, 777));
    rs.flush();
    const a = rs.process(x);
    const b = rs.flush();
    expect(Float32Array.from([...a, ...b])).toEqual(expected);
    rs.process(randomSignal(6, 999));
    rs.reset();
    const c = rs.process(x);
    const d = rs.flush();
    expect(Float32Array.from([...c, ...d])).toEqual(expected);
    expect(rs.flush().length).toBe(0);
  });
});

describe('resample: validation', () => {
  const x = new Float32Array(100);
  const badRates: unknown[] = [0, -16000, Number.NaN, Number.POSITIVE_INFINITY, 44100.5, '16000', null];

  it.each(badRates)('rejects rate %s with INVALID_SAMPLE_RATE', (rate) => {
    expectKwsError(() => resample(x, rate as number, 16000), 'INVALID_SAMPLE_RATE', /fromRate/);
    expectKwsError(() => resample(x, 16000, rate as number), 'INVALID_SAMPLE_RATE', /toRate/);
    expectKwsError(() => new Resampler(rate as number, 16000), 'INVALID_SAMPLE_RATE', /fromRate/);
    expectKwsError(() => new Resampler(16000, rate as number), 'INVALID_SAMPLE_RATE', /toRate/);
    expectKwsError(() => resampledLength(10, rate as number, 16000), 'INVALID_SAMPLE_RATE');
  });

  it('explains non-integer rates', () => {
    expectKwsError(() => resample(x, 44100.5, 16000), 'INVALID_SAMPLE_RATE', /positive integer/);
  });

  it('rejects ratios needing an absurdly long filter', () => {
    expectKwsError(() => resample(x, 100_000_000, 1), 'INVALID_SAMPLE_RATE', /tap filter/);
  });

  it('rejects non-finite samples with NON_FINITE_INPUT', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const y = new Float32Array(50);
      y[17] = bad;
      expectKwsError(() => resample(y, 48000, 16000), 'NON_FINITE_INPUT', /index 17/);
      expectKwsError(() => new Resampler(48000, 16000).process(y), 'NON_FINITE_INPUT', /index 17/);
    }
  });

  it('rejects signals that are not Float32Array with INVALID_ARGUMENT', () => {
    for (const bad of [new Float64Array(10), [0, 1, 2], null, undefined, 'abc'] as unknown[]) {
      expectKwsError(() => resample(bad as Float32Array, 48000, 16000), 'INVALID_ARGUMENT', /Float32Array/);
      expectKwsError(() => new Resampler(48000, 16000).process(bad as Float32Array), 'INVALID_ARGUMENT');
    }
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      { rolloff: 0 },
      { rolloff: 1.2 },
      { rolloff: Number.NaN },
      { lowpassFilterWidth: 0 },
      { lowpassFilterWidth: 2.5 },
      { lowpassFilterWidth: 1000 },
      { beta: -1 },
      { beta: Number.POSITIVE_INFINITY },
      'fast',
      [1],
    ];
    for (const options of bad) {
      expectKwsError(
        () => resample(x, 48000, 16000, options as ResampleOptions),
        'INVALID_ARGUMENT',
        /options/,
      );
      expectKwsError(() => new Resampler(48000, 16000, options as ResampleOptions), 'INVALID_ARGUMENT');
    }
  });
});

describe('resample: speed (printed, not asserted)', () => {
  it('times 1 s of 44.1 kHz -> 16 kHz', () => {
    const x = randomSignal(8, 44100);
    for (let i = 0; i < 10; i++) resample(x, 44100, 16000);
    const runs = 30;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) resample(x, 44100, 16000);
    const offlineMs = (performance.now() - t0) / runs;
    const t1 = performance.now();
    const rs = new Resampler(44100, 16000);
    for (let i = 0; i < runs; i++) {
      for (let pos = 0; pos < x.length; pos += 441) rs.process(x.subarray(pos, pos + 441));
      rs.flush();
    }
    const streamMs = (performance.now() - t1) / runs;
    console.log(
      `speed: 1 s 44.1 kHz -> 16 kHz: offline ${offlineMs.toFixed(2)} ms, streaming (10 ms chunks) ${streamMs.toFixed(2)} ms`,
    );
    expect(offlineMs).toBeGreaterThan(0);
  });
});
