/**
 * Data augmentation for keyword-spotting training: SpecAugment masking on (log-)mel features,
 * additive noise at a gain or a target SNR, and time shifting of the waveform.
 *
 * Every function is seeded through {@link toRng}: the same seed gives the same output. A training
 * loop should pass one {@link Rng} (not a number) so that successive examples draw different
 * augmentations while the whole run stays reproducible from that generator's seed.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { type Rng, toRng } from '../random.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions, checkSignal } from '../validate.js';
import { checkSpectrogram } from './check-spectrogram.js';
import type { Spectrogram } from './types.js';

// ---------------------------------------------------------------------------------------------
// SpecAugment
// ---------------------------------------------------------------------------------------------

/** Options of {@link specAugment} and {@link drawSpecAugmentMasks}. */
export interface SpecAugmentOptions {
  /** Number of frequency masks (the paper's mF). Default 2. */
  freqMasks?: number;
  /**
   * Largest frequency-mask width F, in bins; each width is drawn uniformly from the integers
   * [0, F] and is further capped at the number of bins. Default 8 (a fifth of 40 mel bands).
   */
  freqMaskWidth?: number;
  /** Number of time masks (the paper's mT). Default 2. */
  timeMasks?: number;
  /**
   * Largest time-mask width T, in frames; each width is drawn uniformly from the integers [0, T']
   * where T' = min(T, ⌊p·frames⌋, frames) with p = `maxTimeMaskFraction`. Default 10 (a tenth
   * of a 1 s clip at a 10 ms hop).
   */
  timeMaskWidth?: number;
  /**
   * The paper's upper bound p: no time mask is wider than `p · frames`. A number in [0, 1];
   * default 1 (no cap beyond `timeMaskWidth`).
   */
  maxTimeMaskFraction?: number;
  /**
   * Value written into masked cells. Default 0: SpecAugment is defined on mean-normalised log-mel
   * features, where 0 *is* the mean. For features that are not normalised use `'mean'`, which
   * writes the mean of the input spectrogram (taken before masking), so a mask reads as "average
   * energy" rather than as an unnaturally loud or silent band.
   */
  maskValue?: number | 'mean';
  /** Seed or generator for the mask draws. Default 0. A passed {@link Rng} is advanced. */
  seed?: number | Rng;
  /** Mask `spec.data` itself and return `spec` instead of a copy. Default false. */
  inPlace?: boolean;
}

/** A run of masked bins (frequency mask) or frames (time mask): `[start, start + width)`. */
export interface MaskInterval {
  /** First masked bin or frame. */
  start: number;
  /** Number of masked bins or frames; 0 means the mask was drawn empty. */
  width: number;
}

/** The masks one SpecAugment draw applies, in draw order. Masks may overlap, as in the paper. */
export interface SpecAugmentMasks {
  /** Frequency masks: intervals of bins, masked in every frame. */
  freq: MaskInterval[];
  /** Time masks: intervals of frames, masked in every bin. */
  time: MaskInterval[];
}

interface ResolvedMaskOptions {
  freqMasks: number;
  freqMaskWidth: number;
  timeMasks: number;
  timeMaskWidth: number;
  maxTimeMaskFraction: number;
}

// Generous caps that still keep the mask loops from being asked for absurd work by mistake.
const MAX_MASKS = 1_000_000;

function resolveMaskOptions(o: Partial<SpecAugmentOptions>): ResolvedMaskOptions {
  return {
    freqMasks: checkInt('freqMasks', o.freqMasks ?? 2, 0, MAX_MASKS),
    freqMaskWidth: checkInt('freqMaskWidth', o.freqMaskWidth ?? 8, 0),
    timeMasks: checkInt('timeMasks', o.timeMasks ?? 2, 0, MAX_MASKS),
    timeMaskWidth: checkInt('timeMaskWidth', o.timeMaskWidth ?? 10, 0),
    maxTimeMaskFraction: checkNumber('maxTimeMaskFraction', o.maxTimeMaskFraction ?? 1, 0, 1),
  };
}

function drawMasks(frames: number, bins: number, o: ResolvedMaskOptions, rng: Rng): SpecAugmentMasks {
  // Order of draws (fixed, so a batched implementation can reproduce it): for each frequency mask
  // its width then its start; then the same for each time mask.
  const freqMax = Math.min(o.freqMaskWidth, bins);
  const timeMax = Math.min(o.timeMaskWidth, Math.floor(o.maxTimeMaskFraction * frames), frames);
  const freq: MaskInterval[] = new Array(o.freqMasks);
  for (let i = 0; i < o.freqMasks; i++) {
    const width = rng.int(freqMax + 1);
    // The paper draws the start from [0, ν − f); including ν − f lets the top bin be masked too.
    freq[i] = { start: rng.int(bins - width + 1), width };
  }
  const time: MaskInterval[] = new Array(o.timeMasks);
  for (let i = 0; i < o.timeMasks; i++) {
    const width = rng.int(timeMax + 1);
    time[i] = { start: rng.int(frames - width + 1), width };
  }
  return { freq, time };
}

/**
 * Draws SpecAugment masks for a `frames × bins` spectrogram without touching any data: the draws
 * {@link specAugment} makes with the same options and seed. Useful for inspecting augmentation
 * and for applying identical masks elsewhere (e.g. a batched tensor implementation).
 *
 * Following Park et al., "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
 * Recognition" (Interspeech 2019): each frequency mask has width f ~ U{0, …, F} and start
 * f0 ~ U{0, …, bins − f}; each time mask has width t ~ U{0, …, T'} and start t0 ~ U{0, …, frames − t},
 * where T' = min(T, ⌊p·frames⌋). Draw order: all frequency masks (width, then start), then all
 * time masks.
 *
 * @param frames - number of frames, an integer >= 1.
 * @param bins - values per frame, an integer >= 1.
 * @param options - mask counts, widths, cap and seed; see {@link SpecAugmentOptions}
 *   (`maskValue` and `inPlace` are ignored here).
 * @returns the frequency and time mask intervals, in draw order.
 */
export function drawSpecAugmentMasks(
  frames: number,
  bins: number,
  options?: SpecAugmentOptions,
): SpecAugmentMasks {
  checkInt('frames', frames, 1);
  checkInt('bins', bins, 1);
  const o = checkOptions('options', options);
  const resolved = resolveMaskOptions(o);
  return drawMasks(frames, bins, resolved, toRng(o.seed));
}

function resolveMaskValue(value: unknown, data: Float32Array): number {
  if (value === undefined) return 0;
  if (value === 'mean') {
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i] as number;
    return sum / data.length;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `maskValue must be a finite number or 'mean'; got ${String(value)}`,
    );
  }
  return value;
}

function checkInterval(name: string, interval: unknown, size: number): void {
  if (interval === null || typeof interval !== 'object') {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a {start, width} interval`);
  }
  const { start, width } = interval as Partial<MaskInterval>;
  checkInt(`${name}.start`, start, 0, size);
  checkInt(`${name}.width`, width, 0, size - (start as number));
}

function maskInto(data: Float32Array, bins: number, masks: SpecAugmentMasks, value: number): void {
  const frames = data.length / bins;
  for (const { start, width } of masks.freq) {
    if (width === 0) continue;
    for (let t = 0, row = 0; t < frames; t++, row += bins) data.fill(value, row + start, row + start + width);
  }
  // Frame-major layout makes a time mask one contiguous run.
  for (const { start, width } of masks.time) {
    if (width !== 0) data.fill(value, start * bins, (start + width) * bins);
  }
}

/**
 * Writes `maskValue` into every cell covered by `masks` (as returned by
 * {@link drawSpecAugmentMasks}); all other cells are left exactly as they are.
 *
 * @param spec - frame-major spectrogram, `data[frame * bins + bin]`; finite values.
 * @param masks - frequency intervals must lie in [0, bins], time intervals in [0, frames].
 * @param options - `maskValue` (number or `'mean'`, default 0) and `inPlace` (default false);
 *   see {@link SpecAugmentOptions}.
 * @returns a masked copy of `spec`, or `spec` itself when `inPlace`.
 */
export function applySpecAugmentMasks(
  spec: Spectrogram,
  masks: SpecAugmentMasks,
  options?: Pick<SpecAugmentOptions, 'maskValue' | 'inPlace'>,
): Spectrogram {
  const s = checkSpectrogram('spec', spec);
  const o = checkOptions('options', options);
  if (
    masks === null ||
    typeof masks !== 'object' ||
    !Array.isArray(masks.freq) ||
    !Array.isArray(masks.time)
  ) {
    throw new KwsError('INVALID_ARGUMENT', 'masks must be {freq: MaskInterval[], time: MaskInterval[]}');
  }
  for (let i = 0; i < masks.freq.length; i++) checkInterval(`masks.freq[${i}]`, masks.freq[i], s.bins);
  for (let i = 0; i < masks.time.length; i++) checkInterval(`masks.time[${i}]`, masks.time[i], s.frames);
  const inPlace = checkBoolean('inPlace', o.inPlace ?? false);
  const value = resolveMaskValue(o.maskValue, s.data);
  return applyResolved(s, masks, value, inPlace);
}

function applyResolved(
  s: Spectrogram,
  masks: SpecAugmentMasks,
  value: number,
  inPlace: boolean,
): Spectrogram {
  if (inPlace) {
    maskInto(s.data, s.bins, masks, value);
    return s;
  }
  const data = s.data.slice();
  maskInto(data, s.bins, masks, value);
  return { data, frames: s.frames, bins: s.bins };
}

/**
 * SpecAugment frequency and time masking (Park et al., Interspeech 2019) of a frame-major
 * spectrogram, usually log-mel features of one training example.
 *
 * Draws `freqMasks` frequency masks (each a run of up to `freqMaskWidth` bins, set in every frame)
 * and `timeMasks` time masks (each a run of up to min(`timeMaskWidth`, ⌊`maxTimeMaskFraction` ·
 * frames⌋) frames, set in every bin) exactly as {@link drawSpecAugmentMasks} does with the same
 * options, and writes `maskValue` into the masked cells. Time warping, the paper's third and least
 * effective policy, is not implemented.
 *
 * Cost: one copy of the data (none when `inPlace`), plus one pass for `maskValue: 'mean'`.
 *
 * @param spec - `{data, frames, bins}` with `data[frame * bins + bin]`; finite values, not empty.
 * @param options - see {@link SpecAugmentOptions}; defaults 2 frequency masks of width <= 8 bins,
 *   2 time masks of width <= 10 frames, mask value 0, seed 0, not in place.
 * @returns a new spectrogram, or `spec` itself (masked) when `inPlace`.
 * @throws KwsError `INVALID_ARGUMENT` for bad options, `SHAPE_MISMATCH` when `data.length` is not
 *   `frames · bins`, `EMPTY_INPUT` for zero frames or bins, `NON_FINITE_INPUT` for NaN/±Infinity.
 */
export function specAugment(spec: Spectrogram, options?: SpecAugmentOptions): Spectrogram {
  const s = checkSpectrogram('spec', spec);
  const o = checkOptions('options', options);
  const resolved = resolveMaskOptions(o);
  const inPlace = checkBoolean('inPlace', o.inPlace ?? false);
  // Resolve the value before masking: 'mean' is the mean of the unmasked input.
  const value = resolveMaskValue(o.maskValue, s.data);
  const masks = drawMasks(s.frames, s.bins, resolved, toRng(o.seed));
  return applyResolved(s, masks, value, inPlace);
}

// ---------------------------------------------------------------------------------------------
// Additive noise
// ---------------------------------------------------------------------------------------------

/** Options of {@link mixNoise}. Give exactly one of `gain` and `snrDb`. */
export interface MixNoiseOptions {
  /** Fixed linear factor applied to the noise, >= 0. */
  gain?: number;
  /**
   * Target signal-to-noise ratio in dB: the noise segment is scaled so that
   * `10·log10(P_signal / P_noise) = snrDb`, both powers being mean squares over the signal's length.
   */
  snrDb?: number;
  /**
   * Index of the noise sample added to `signal[0]`. When the noise is at least as long as the
   * signal, an integer in [0, noise.length − signal.length] (the segment never wraps); when it is
   * shorter, an integer in [0, noise.length) (the phase at which the looped noise starts).
   * Default `'random'`: drawn uniformly from that range.
   */
  offset?: number | 'random';
  /** Seed or generator for a random offset. Default 0. Only drawn from when `offset` is random. */
  seed?: number | Rng;
}

/**
 * Adds noise to a signal: `out[i] = signal[i] + k · noise[(offset + i) mod noise.length]`.
 *
 * Noise shorter than the signal is looped (tiled) to cover it; longer noise contributes the
 * `signal.length` samples starting at `offset`. The factor k is either `gain`, or, with `snrDb`,
 * `k = sqrt(P_s / (P_n · 10^(snrDb/10)))` where P_s and P_n are the mean squares of the signal and
 * of the noise segment actually added, so the mix has exactly the requested SNR.
 *
 * With `snrDb`, if the signal is all zeros the requested SNR needs zero noise power, and if the
 * noise segment is all zeros no factor can reach it; in both cases k = 0 and the result is a copy
 * of the signal. (Neither throws, so a silent clip or a silent stretch of a long noise recording
 * does not stop a training run.)
 *
 * @param signal - samples, non-empty, finite; not modified.
 * @param noise - samples, non-empty, finite; not modified.
 * @param options - exactly one of `gain` / `snrDb`, plus `offset` and `seed`; see {@link MixNoiseOptions}.
 * @returns a new Float32Array of `signal.length` samples.
 * @throws KwsError `INVALID_ARGUMENT` when neither or both of `gain`/`snrDb` are given, for a bad
 *   offset, or when the mix overflows float32; `EMPTY_INPUT` for an empty signal or noise;
 *   `NON_FINITE_INPUT` for NaN/±Infinity samples.
 */
export function mixNoise(signal: Float32Array, noise: Float32Array, options: MixNoiseOptions): Float32Array {
  checkSignal('signal', signal);
  checkSignal('noise', noise);
  const o = checkOptions('options', options);
  const hasGain = o.gain !== undefined;
  const hasSnr = o.snrDb !== undefined;
  if (hasGain === hasSnr) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `give exactly one of options.gain and options.snrDb; got ${hasGain ? 'both' : 'neither'}`,
    );
  }
  const gain = hasGain ? checkNumber('gain', o.gain, 0) : 0;
  const snrDb = hasSnr ? checkNumber('snrDb', o.snrDb) : 0;

  const n = signal.length;
  const m = noise.length;
  // Offsets past m − n would wrap a long noise and splice two unrelated points of it together.
  const offsetCount = m >= n ? m - n + 1 : m;
  let offset: number;
  if (o.offset === undefined || o.offset === 'random') {
    offset = toRng(o.seed).int(offsetCount);
  } else {
    offset = checkInt('offset', o.offset, 0, offsetCount - 1);
  }

  let k = gain;
  if (hasSnr) {
    let signalEnergy = 0;
    let noiseEnergy = 0;
    for (let i = 0, j = offset; i < n; i++) {
      const s = signal[i] as number;
      const v = noise[j] as number;
      signalEnergy += s * s;
      noiseEnergy += v * v;
      if (++j === m) j = 0;
    }
    // Equal lengths, so the ratio of energies is the ratio of mean squares.
    k =
      signalEnergy === 0 || noiseEnergy === 0
        ? 0
        : Math.sqrt(signalEnergy / (noiseEnergy * 10 ** (snrDb / 10)));
  }

  const out = new Float32Array(n);
  if (k === 0) {
    out.set(signal);
    return out;
  }
  let overflow = false;
  for (let i = 0, j = offset; i < n; i++) {
    const y = (signal[i] as number) + k * (noise[j] as number);
    out[i] = y;
    // Compare after the float32 store: values beyond ±3.4e38 become ±Infinity there.
    if ((out[i] as number) - (out[i] as number) !== 0) overflow = true;
    if (++j === m) j = 0;
  }
  if (overflow) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the mix overflows float32 (noise factor ${k}); use a smaller gain or a higher snrDb`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Time shift
// ---------------------------------------------------------------------------------------------

const FILL_MODES = ['zero', 'wrap'] as const;

/** Options of {@link timeShift}. Give exactly one of `shift` and `maxShift`. */
export interface TimeShiftOptions {
  /** Shift in samples, any integer; positive delays the signal (moves it later), negative advances it. */
  shift?: number;
  /** Draw the shift uniformly from the integers [−maxShift, maxShift]; an integer in [0, 2^31 − 1]. */
  maxShift?: number;
  /**
   * What enters at the edge: `'zero'` (default) fills with silence, so |shift| >= length gives all
   * zeros; `'wrap'` rotates the signal circularly (the shift is taken modulo the length).
   */
  fill?: 'zero' | 'wrap';
  /** Seed or generator for a random shift. Default 0. Only drawn from when `maxShift` is given. */
  seed?: number | Rng;
}

/**
 * Shifts a signal in time by a whole number of samples: with shift d,
 * `out[i] = signal[i − d]`, where an index outside [0, length) reads 0 (`fill: 'zero'`) or is
 * taken modulo the length (`fill: 'wrap'`). The usual KWS recipe is a random shift of up to
 * ±100 ms (`maxShift: 0.1 * sampleRate`) with zero fill.
 *
 * @param signal - samples, non-empty, finite; not modified.
 * @param options - exactly one of `shift` / `maxShift`, plus `fill` and `seed`; see {@link TimeShiftOptions}.
 * @returns a new Float32Array of `signal.length` samples.
 * @throws KwsError `INVALID_ARGUMENT` when neither or both of `shift`/`maxShift` are given or for bad
 *   values; `EMPTY_INPUT` for an empty signal; `NON_FINITE_INPUT` for NaN/±Infinity samples.
 */
export function timeShift(signal: Float32Array, options: TimeShiftOptions): Float32Array {
  checkSignal('signal', signal);
  const o = checkOptions('options', options);
  const hasShift = o.shift !== undefined;
  const hasMax = o.maxShift !== undefined;
  if (hasShift === hasMax) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `give exactly one of options.shift and options.maxShift; got ${hasShift ? 'both' : 'neither'}`,
    );
  }
  const fill = checkChoice('fill', o.fill ?? 'zero', FILL_MODES);
  let shift: number;
  if (hasShift) {
    shift = checkInt('shift', o.shift, -Number.MAX_SAFE_INTEGER);
  } else {
    const maxShift = checkInt('maxShift', o.maxShift, 0, 0x7fffffff);
    shift = toRng(o.seed).int(2 * maxShift + 1) - maxShift;
  }

  const n = signal.length;
  const out = new Float32Array(n);
  if (fill === 'wrap') {
    const d = ((shift % n) + n) % n;
    // Rotate right by d: the last d samples come round to the front.
    out.set(signal.subarray(n - d), 0);
    out.set(signal.subarray(0, n - d), d);
  } else if (shift >= 0) {
    if (shift < n) out.set(signal.subarray(0, n - shift), shift);
  } else if (-shift < n) {
    out.set(signal.subarray(-shift), 0);
  }
  return out;
}
