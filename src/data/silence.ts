/**
 * Cutting the long `_background_noise_` recordings into clip-length "silence" examples at
 * seeded random offsets.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { type Rng, toRng } from '../random.js';
import { checkInt } from '../validate.js';

/** Where a silence clip was cut: recording `noiseIndex`, samples `[offset, offset + length)`. */
export interface NoiseCut {
  /** Index into the recordings passed to {@link planNoiseCuts}. */
  noiseIndex: number;
  /** First sample of the clip in that recording. */
  offset: number;
}

/**
 * Draws `count` cuts of `clipSamples` samples from `noise`: each picks a recording uniformly
 * among those at least `clipSamples` long, then a start offset uniformly in
 * `[0, length − clipSamples]`, so every cut lies inside its recording. Reproducible from the
 * seed (or generator) given.
 *
 * @param noise - the recordings (mono samples at the target rate).
 * @param count - number of clips, an integer ≥ 0.
 * @param clipSamples - clip length in samples, an integer ≥ 1.
 * @param seed - a seed or an {@link Rng} (which is advanced). Default 0.
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad counts; `DATASET_INVALID` if `count > 0`
 *   and no recording is long enough.
 */
export function planNoiseCuts(
  noise: readonly Float32Array[],
  count: number,
  clipSamples: number,
  seed?: number | Rng,
): NoiseCut[] {
  checkInt('count', count, 0);
  checkInt('clipSamples', clipSamples, 1);
  if (count === 0) return [];
  const usable: number[] = [];
  noise.forEach((n, i) => {
    if (n.length >= clipSamples) usable.push(i);
  });
  if (usable.length === 0) {
    throw new KwsError(
      'DATASET_INVALID',
      `cannot cut ${count} silence clip(s) of ${clipSamples} samples: no background-noise recording is ` +
        `that long (${noise.length} recording(s))`,
    );
  }
  const rng = toRng(seed);
  const cuts: NoiseCut[] = [];
  for (let k = 0; k < count; k++) {
    const noiseIndex = usable[rng.int(usable.length)] as number;
    const length = (noise[noiseIndex] as Float32Array).length;
    cuts.push({ noiseIndex, offset: rng.int(length - clipSamples + 1) });
  }
  return cuts;
}

/** The samples of one cut (a copy). */
export function cutNoise(noise: readonly Float32Array[], cut: NoiseCut, clipSamples: number): Float32Array {
  const source = noise[cut.noiseIndex];
  if (source === undefined || cut.offset < 0 || cut.offset + clipSamples > source.length) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `cut {noiseIndex: ${cut.noiseIndex}, offset: ${cut.offset}} of ${clipSamples} samples lies outside the recordings`,
    );
  }
  return source.slice(cut.offset, cut.offset + clipSamples);
}
