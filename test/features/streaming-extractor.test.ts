import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { DEFAULT_FRONT_END } from '../../src/features/front-end.js';
import { melSpectrogram } from '../../src/features/mel-spectrogram.js';
import { logMel } from '../../src/features/scale.js';
import { StreamingFeatureExtractor } from '../../src/features/streaming-extractor.js';
import type { Spectrogram } from '../../src/features/types.js';
import { createRng } from '../../src/random.js';

function speechLike(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const envelope = Math.max(0, Math.sin((2 * Math.PI * i) / 7000));
    x[i] = envelope * (0.3 * Math.sin(i * 0.07 + 0.00001 * i * i) + 0.05 * rng.normal());
  }
  return x;
}

function concat(parts: Spectrogram[], bins: number): Spectrogram {
  const frames = parts.reduce((n, p) => n + p.frames, 0);
  const data = new Float32Array(frames * bins);
  let offset = 0;
  for (const p of parts) {
    expect(p.bins).toBe(bins);
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, frames, bins };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function runChunked(x: Float32Array, sizes: () => number, extractor: StreamingFeatureExtractor): Spectrogram {
  const parts: Spectrogram[] = [];
  for (let i = 0; i < x.length; ) {
    const n = Math.min(sizes(), x.length - i);
    parts.push(extractor.push(x.subarray(i, i + n)));
    i += n;
  }
  return concat(parts, extractor.bins);
}

describe('StreamingFeatureExtractor', () => {
  const audio = speechLike(48_000 + 123, 1);
  const offline = melSpectrogram(audio, { ...DEFAULT_FRONT_END, center: false });

  it('equals the offline mel spectrogram (center=false) for seeded random chunk sizes 1..5000', () => {
    for (const seed of [1, 2, 3]) {
      const rng = createRng(seed);
      const streamed = runChunked(
        audio,
        () => 1 + rng.int(5000),
        new StreamingFeatureExtractor({ output: 'mel' }),
      );
      expect(streamed.frames).toBe(offline.frames);
      expect(maxAbsDiff(streamed.data, offline.data)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('equals the offline mel spectrogram for chunks of exactly one hop, and of one sample', () => {
    const hop = new StreamingFeatureExtractor({ output: 'mel' });
    const byHop = runChunked(audio, () => hop.hopLength, hop);
    expect(maxAbsDiff(byHop.data, offline.data)).toBeLessThanOrEqual(1e-6);
    const short = audio.subarray(0, 3000);
    const single = runChunked(short, () => 1, new StreamingFeatureExtractor({ output: 'mel' }));
    const ref = melSpectrogram(short, { ...DEFAULT_FRONT_END, center: false });
    expect(maxAbsDiff(single.data, ref.data)).toBeLessThanOrEqual(1e-6);
  });

  it('gives log-mels by default, equal to logMel of the offline mels', () => {
    const rng = createRng(9);
    const streamed = runChunked(audio, () => 1 + rng.int(800), new StreamingFeatureExtractor());
    const ref = logMel(offline, { eps: 1e-6 });
    expect(maxAbsDiff(streamed.data, ref.data)).toBeLessThanOrEqual(1e-6);
  });

  it('handles a hop longer than the frame and custom front ends', () => {
    const options = { nFft: 256, winLength: 200, hopLength: 300, nMels: 20, fMax: 8000 };
    const ref = melSpectrogram(audio, { ...DEFAULT_FRONT_END, ...options, center: false });
    const rng = createRng(4);
    const streamed = runChunked(
      audio,
      () => 1 + rng.int(700),
      new StreamingFeatureExtractor({ ...options, output: 'mel' }),
    );
    expect(streamed.frames).toBe(ref.frames);
    expect(maxAbsDiff(streamed.data, ref.data)).toBeLessThanOrEqual(1e-6);
  });

  it('one minute in a single push, then reset starts a new stream', () => {
    const minute = speechLike(16000 * 60, 2);
    const extractor = new StreamingFeatureExtractor({ output: 'mel' });
    const all = extractor.push(minute);
    expect(all.frames).toBe(1 + Math.floor((minute.length - 480) / 160));
    expect(extractor.framesEmitted).toBe(all.frames);
    extractor.reset();
    expect(extractor.framesEmitted).toBe(0);
    const again = extractor.push(audio);
    expect(maxAbsDiff(again.data, offline.data)).toBe(0);
  });

  it('rejects bad chunks without losing what it already accepted', () => {
    const extractor = new StreamingFeatureExtractor({ output: 'mel' });
    const first = extractor.push(audio.subarray(0, 1000));
    const bad = Float32Array.of(0.1, Number.NaN);
    expect(() => extractor.push(bad)).toThrowError(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(() => extractor.push([1, 2] as unknown as Float32Array)).toThrowError(KwsError);
    const rest = extractor.push(audio.subarray(1000));
    const joined = concat([first, rest], extractor.bins);
    expect(maxAbsDiff(joined.data, offline.data)).toBe(0);
    expect(() => new StreamingFeatureExtractor({ output: 'db' as never })).toThrowError(KwsError);
    expect(() => new StreamingFeatureExtractor({ sampleRate: -1 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_SAMPLE_RATE' }),
    );
  });
});
