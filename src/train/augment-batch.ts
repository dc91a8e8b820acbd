/**
 * Per-batch data augmentation for keyword-spotting training, seeded through one {@link Rng}:
 * random time shift and background-noise mixing on the waveform (then log-mel features are
 * recomputed with the kws-kit front end), and SpecAugment masks on the features.
 *
 * The front end used for recomputation is the pure-TypeScript {@link logMelSpectrogram}: it takes
 * ≈ 1.2 ms per 1 s clip here, against ≈ 7 ms per clip for the batched `LogMelOp` on the wasm
 * backend and ≈ 70 ms on cpu (batch 100, measured on a 2-core machine), so the tfjs op is not
 * worth it for training.
 *
 * @packageDocumentation
 */
import type { Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import {
  type FrontEndOptions,
  logMelSpectrogram,
  mixNoise,
  resolveFrontEnd,
  type SpecAugmentOptions,
  specAugment,
  timeShift,
} from '../features/index.js';
import type { Rng } from '../random.js';
import { checkFinite, checkNumber, checkOptions } from '../validate.js';

/** Background-noise mixing: `x + g·noise`, g ~ U(0, maxGain), with some probability. */
export interface NoiseAugmentOptions {
  /** Probability that an example gets noise, in [0, 1]. Default 0.8. */
  probability?: number;
  /** Largest noise gain (linear factor), ≥ 0. The gain is drawn from U(0, maxGain). Default 0.1. */
  maxGain?: number;
  /**
   * Noise recordings at the clips' sample rate (e.g. `loadSpeechCommands(...).backgroundNoise`);
   * at least one, each non-empty and finite. A clip is drawn uniformly, then a segment at a
   * uniform offset (noise shorter than the example is looped).
   */
  clips: Float32Array[];
}

/** Augmentation applied to every training batch. Every part is optional; none is on by default. */
export interface AugmentOptions {
  /**
   * Largest time shift in milliseconds (≥ 0): each example's audio is shifted by an integer
   * number of samples drawn uniformly from ±round(timeShiftMs·sampleRate/1000), zero fill.
   * The gsc-dev reference recipe uses 100. Needs `split.audio`.
   */
  timeShiftMs?: number;
  /** Background-noise mixing. Needs `split.audio`. */
  noise?: NoiseAugmentOptions;
  /** SpecAugment masks on the (possibly recomputed) features; its `seed` and `inPlace` are ignored. */
  specAugment?: SpecAugmentOptions;
  /**
   * Front end that recomputes features from augmented audio; it must produce the split's
   * `frames × bins`. Default: the kws-kit default front end (the loader's default).
   */
  frontEnd?: FrontEndOptions;
}

/** A validated augmentation, ready to apply to batches of one split. */
export interface BatchAugmenter {
  /** Whether the waveform is augmented (features are then recomputed from audio). */
  readonly usesAudio: boolean;
  /**
   * The augmented features `[indices.length, frames, bins]` of examples `indices` of the split,
   * as a new array. Draws from `rng` in a fixed order, example by example: time shift, then
   * noise (decision, clip, gain, offset), then the SpecAugment masks.
   */
  apply(indices: ArrayLike<number>, rng: Rng): Float32Array;
}

interface ResolvedNoise {
  probability: number;
  maxGain: number;
  clips: Float32Array[];
}

function resolveNoise(value: unknown): ResolvedNoise {
  const o = checkOptions('augment.noise', value as NoiseAugmentOptions);
  const probability = checkNumber('augment.noise.probability', o.probability ?? 0.8, 0, 1);
  const maxGain = checkNumber('augment.noise.maxGain', o.maxGain ?? 0.1, 0);
  const clips = o.clips;
  if (!Array.isArray(clips) || clips.length === 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'augment.noise.clips must be a non-empty array of Float32Array noise recordings (e.g. data.backgroundNoise)',
    );
  }
  clips.forEach((c, i) => {
    if (!(c instanceof Float32Array) || c.length === 0) {
      throw new KwsError('INVALID_ARGUMENT', `augment.noise.clips[${i}] must be a non-empty Float32Array`);
    }
    checkFinite(`augment.noise.clips[${i}]`, c);
  });
  return { probability, maxGain, clips };
}

function checkAudio(split: Split, why: string): void {
  const n = split.labels.length;
  if (!Array.isArray(split.audio) || split.audio.length !== n) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${why} needs each example's audio (split.audio); load the data with keepAudio: true`,
    );
  }
  split.audio.forEach((a, i) => {
    if (!(a instanceof Float32Array) || a.length === 0) {
      throw new KwsError('INVALID_ARGUMENT', `split.audio[${i}] must be a non-empty Float32Array`);
    }
  });
}

/** Adds g·noise to `signal` with the draws documented on {@link BatchAugmenter.apply}. */
function addNoise(signal: Float32Array, noise: ResolvedNoise, rng: Rng): Float32Array {
  if (!(rng.next() < noise.probability)) return signal;
  const clip = noise.clips[rng.int(noise.clips.length)] as Float32Array;
  const gain = rng.uniform(0, noise.maxGain);
  const n = signal.length;
  // Cut the segment here so mixNoise checks n samples, not the whole (minutes-long) recording.
  if (clip.length >= n) {
    const offset = rng.int(clip.length - n + 1);
    return mixNoise(signal, clip.subarray(offset, offset + n), { gain, offset: 0 });
  }
  return mixNoise(signal, clip, { gain, offset: rng.int(clip.length) });
}

/**
 * Validates `options` against `split` and returns the augmenter of its batches.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad options, or time shift / noise without
 *   `split.audio`; `SHAPE_MISMATCH` when the front end does not produce the split's
 *   `frames × bins`.
 */
export function createBatchAugmenter(split: Split, options: AugmentOptions): BatchAugmenter {
  const o = checkOptions('augment', options);
  for (const key of Object.keys(o)) {
    if (!['timeShiftMs', 'noise', 'specAugment', 'frontEnd'].includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `unknown augment option ${JSON.stringify(key)}; allowed: timeShiftMs, noise, specAugment, frontEnd`,
      );
    }
  }
  const { frames, bins } = split;
  const size = frames * bins;
  const timeShiftMs = o.timeShiftMs === undefined ? 0 : checkNumber('augment.timeShiftMs', o.timeShiftMs, 0);
  const noise = o.noise === undefined ? null : resolveNoise(o.noise);
  const usesAudio = timeShiftMs > 0 || noise !== null;
  const frontEnd = resolveFrontEnd(checkOptions('augment.frontEnd', o.frontEnd));
  const maxShift = Math.round((timeShiftMs * frontEnd.sampleRate) / 1000);
  let spec: SpecAugmentOptions | null = null;
  if (o.specAugment !== undefined) {
    spec = { ...checkOptions('augment.specAugment', o.specAugment), inPlace: true };
    // Validate the options once, on a throwaway spectrogram.
    specAugment({ data: new Float32Array(size), frames, bins }, { ...spec, seed: 0 });
  }
  if (usesAudio) {
    checkAudio(split, noise !== null ? 'augment.noise' : 'augment.timeShiftMs');
    const probe = logMelSpectrogram(split.audio?.[0] as Float32Array, frontEnd);
    if (probe.frames !== frames || probe.bins !== bins) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `augment.frontEnd makes ${probe.frames} frames × ${probe.bins} bins from the split's audio, ` +
          `but the split's features are ${frames} × ${bins}; pass the front end the data was loaded with`,
      );
    }
  }

  return {
    usesAudio,
    apply(indices: ArrayLike<number>, rng: Rng): Float32Array {
      const out = new Float32Array(indices.length * size);
      for (let b = 0; b < indices.length; b++) {
        const i = indices[b] as number;
        const view = out.subarray(b * size, (b + 1) * size);
        if (usesAudio) {
          let audio = (split.audio as Float32Array[])[i] as Float32Array;
          if (maxShift > 0) audio = timeShift(audio, { maxShift, seed: rng });
          if (noise !== null) audio = addNoise(audio, noise, rng);
          const features = logMelSpectrogram(audio, frontEnd);
          if (features.data.length !== size) {
            throw new KwsError(
              'SHAPE_MISMATCH',
              `split.audio[${i}] gives ${features.frames} frames; the split's features have ${frames}`,
            );
          }
          view.set(features.data);
        } else {
          view.set(split.features.subarray(i * size, (i + 1) * size));
        }
        if (spec !== null) specAugment({ data: view, frames, bins }, { ...spec, seed: rng });
      }
      return out;
    },
  };
}
