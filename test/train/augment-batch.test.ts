import { describe, expect, it } from 'vitest';
import { createSplit, type Split } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';
import {
  applySpecAugmentMasks,
  drawSpecAugmentMasks,
  logMelSpectrogram,
  timeShift,
} from '../../src/features/index.js';
import { createRng } from '../../src/random.js';
import { createBatchAugmenter } from '../../src/train/augment-batch.js';

const N = 1600; // 0.1 s at 16 kHz → 11 frames × 40 mels with the default front end

function tone(freq: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(N);
  for (let i = 0; i < N; i++) a[i] = 0.3 * Math.sin((2 * Math.PI * freq * i) / 16000) + 0.01 * rng.normal();
  return a;
}

function audioSplit(): Split {
  const audio = [tone(300, 1), tone(1200, 2), tone(3000, 3)];
  const specs = audio.map((a) => logMelSpectrogram(a));
  const { frames, bins } = specs[0]!;
  const features = new Float32Array(3 * frames * bins);
  for (const [i, s] of specs.entries()) features.set(s.data, i * frames * bins);
  return createSplit({ features, frames, bins, labels: [0, 1, 2], labelNames: ['a', 'b', 'c'], audio });
}

function noiseClips(): Float32Array[] {
  const rng = createRng(9);
  return [5000, 800].map((n) => Float32Array.from({ length: n }, () => rng.normal()));
}

describe('createBatchAugmenter', () => {
  const split = audioSplit();
  const size = split.frames * split.bins;

  it('time shift: reproducible from the generator and equal to timeShift + front end', () => {
    const aug = createBatchAugmenter(split, { timeShiftMs: 5 });
    expect(aug.usesAudio).toBe(true);
    const a = aug.apply([2, 0], createRng(4));
    const b = aug.apply([2, 0], createRng(4));
    expect(a).toEqual(b);
    expect(aug.apply([2, 0], createRng(5))).not.toEqual(a);
    // Same draws by hand: one shift per example, in batch order, up to ±80 samples (5 ms).
    const rng = createRng(4);
    for (const [k, i] of [2, 0].entries()) {
      const shifted = timeShift(split.audio![i]!, { maxShift: 80, seed: rng });
      expect(a.subarray(k * size, (k + 1) * size)).toEqual(logMelSpectrogram(shifted).data);
    }
    // A shift happened: the features differ from the precomputed ones.
    expect(a.subarray(size, 2 * size)).not.toEqual(split.features.subarray(0, size));
  });

  it('noise: x + g·segment with the documented draws (decision, clip, gain, offset)', () => {
    const clips = noiseClips();
    const aug = createBatchAugmenter(split, { noise: { probability: 1, maxGain: 0.05, clips } });
    const out = aug.apply([0, 1, 2], createRng(11));
    const rng = createRng(11);
    for (let i = 0; i < 3; i++) {
      expect(rng.next()).toBeLessThan(1);
      const clip = clips[rng.int(2)]!;
      const gain = rng.uniform(0, 0.05);
      const mixed = new Float32Array(N);
      const offset = clip.length >= N ? rng.int(clip.length - N + 1) : rng.int(clip.length);
      for (let j = 0; j < N; j++) mixed[j] = split.audio![i]![j]! + gain * clip[(offset + j) % clip.length]!;
      expect(out.subarray(i * size, (i + 1) * size)).toEqual(logMelSpectrogram(mixed).data);
    }
    // Probability 0: the audio is untouched, so the features are the precomputed ones.
    const none = createBatchAugmenter(split, { noise: { probability: 0, clips } });
    expect(none.apply([0, 1, 2], createRng(1))).toEqual(split.features);
  });

  it('SpecAugment alone uses the stored features and needs no audio', () => {
    const { audio: _audio, ...noAudio } = split;
    const opts = { freqMasks: 1, freqMaskWidth: 6, timeMasks: 1, timeMaskWidth: 3 };
    const aug = createBatchAugmenter(noAudio, { specAugment: opts });
    expect(aug.usesAudio).toBe(false);
    const out = aug.apply([1], createRng(3));
    const masks = drawSpecAugmentMasks(split.frames, split.bins, { ...opts, seed: createRng(3) });
    const expected = applySpecAugmentMasks(
      { data: split.features.slice(size, 2 * size), frames: split.frames, bins: split.bins },
      masks,
    );
    expect(out).toEqual(expected.data);
    // The split itself is not modified.
    expect(split.features.subarray(size, 2 * size)).toEqual(logMelSpectrogram(split.audio![1]!).data);
  });

  it('rejects waveform augmentation without audio, a mismatched front end and bad options', () => {
    const { audio: _audio, ...noAudio } = split;
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        return (e as KwsError).code;
      }
      return undefined;
    };
    expect(codeOf(() => createBatchAugmenter(noAudio, { noise: { clips: noiseClips() } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => createBatchAugmenter(noAudio, { timeShiftMs: 100 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createBatchAugmenter(split, { timeShiftMs: 10, frontEnd: { nMels: 20 } }))).toBe(
      'SHAPE_MISMATCH',
    );
    expect(codeOf(() => createBatchAugmenter(split, { noise: { clips: [] } }))).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => createBatchAugmenter(split, { noise: { clips: noiseClips(), probability: 2 } })),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createBatchAugmenter(split, { timeShiftMs: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => createBatchAugmenter(split, { specAugment: { freqMasks: -1 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => createBatchAugmenter(split, { shift: 3 } as never))).toBe('INVALID_ARGUMENT');
  });
});
