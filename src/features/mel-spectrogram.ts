/**
 * Mel spectrogram: STFT → |X|^power → mel filterbank, as `torchaudio.transforms.MelSpectrogram`.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkChoice, checkOptions, checkSignal } from '../validate.js';
import type { RealFft } from './fft.js';
import { type MelFilterbank, type MelFilterbankOptions, melFilterbank } from './mel.js';
import {
  frameCount,
  framePower,
  padForStft,
  type ResolvedStft,
  realFftPlan,
  resolveStftOptions,
  type StftOptions,
} from './stft.js';
import type { Spectrogram } from './types.js';

/**
 * Options of {@link melSpectrogram}: STFT options plus filterbank options plus `power`.
 * Defaults are torchaudio's `MelSpectrogram` defaults (sampleRate 16000, nFft 400, hop
 * winLength/2, 128 mels, HTK scale, no norm, power 2, center with reflect padding). For the KWS
 * front end of the BC-ResNet paper use {@link DEFAULT_FRONT_END}.
 */
export interface MelSpectrogramOptions extends StftOptions, MelFilterbankOptions {
  /** Exponent of the magnitude before the filterbank: 2 (power, default) or 1 (magnitude). */
  power?: 1 | 2;
}

/** Everything needed to turn frames into mel bands, built once per option set. @internal */
export interface MelPlan {
  stft: ResolvedStft;
  filterbank: MelFilterbank;
  power: 1 | 2;
  fft: RealFft;
  /** Reused buffer for the padded signal; grows to the longest clip seen. */
  padScratch: Float32Array;
  /**
   * Frame buffers of the offline path, reused across calls (which are synchronous, so never
   * overlap); the streaming extractor keeps its own from {@link melScratch}.
   */
  scratch: MelScratch;
}

const plans = new Map<string, MelPlan>();

/** Validates options and returns a cached plan (window, FFT and filterbank). @internal */
export function melPlan(options: MelSpectrogramOptions | undefined): MelPlan {
  // A frozen options object (DEFAULT_FRONT_END, the common case) cannot change, so its plan can
  // be remembered by identity and the per-call key string below is skipped. Not with an explicit
  // window: freezing the object does not freeze the samples of its Float32Array.
  const byIdentity =
    typeof options === 'object' &&
    options !== null &&
    Object.isFrozen(options) &&
    !(options.window instanceof Float32Array);
  const known = byIdentity ? frozenPlans.get(options) : undefined;
  if (known) return known;
  const plan = melPlanByKey(options);
  if (byIdentity) frozenPlans.set(options, plan);
  return plan;
}

const frozenPlans = new WeakMap<object, MelPlan>();

function melPlanByKey(options: MelSpectrogramOptions | undefined): MelPlan {
  const o = checkOptions('options', options);
  // Keyed on the options as given (validated the first time they were seen), so that a cache
  // hit costs one small string build instead of re-making the window and filterbank.
  const key =
    o.window instanceof Float32Array
      ? null
      : `${o.nFft},${o.winLength},${o.hopLength},${o.center},${o.padMode},${o.window},${o.power},${o.sampleRate},${o.nMels},${o.fMin},${o.fMax},${o.melScale},${o.norm}`;
  const cached = key === null ? undefined : plans.get(key);
  if (cached) return cached;
  const stft = resolveStftOptions(o);
  const power = checkChoice<1 | 2>('power', o.power ?? 2, [1, 2]);
  const filterbank = melFilterbank({ ...o, nFft: stft.nFft });
  const plan: MelPlan = {
    stft,
    filterbank,
    power,
    fft: realFftPlan(stft.nFft),
    padScratch: new Float32Array(0),
    scratch: frameScratch(stft.nFft),
  };
  if (key !== null) {
    if (plans.size >= 32) plans.clear();
    plans.set(key, plan);
  }
  return plan;
}

/**
 * Mel spectrogram, frame-major `[frames, nMels]`:
 * `M_t[m] = Σ_k |X_t[k]|^power · fb[k][m]` with X the STFT ({@link stft}) and fb the
 * triangular filterbank ({@link melFilterbank}). Matches `torchaudio.transforms.MelSpectrogram`
 * (transposed) to ≤ 1e-4 relative error.
 *
 * For 1 s at 16 kHz with {@link DEFAULT_FRONT_END}: 101 frames × 40 bins.
 *
 * @throws KwsError `EMPTY_INPUT`, `NON_FINITE_INPUT`, `INVALID_ARGUMENT`,
 *   `INVALID_SAMPLE_RATE`, `INVALID_FFT_SIZE`, `EMPTY_MEL_FILTER`, `SIGNAL_TOO_SHORT`.
 */
export function melSpectrogram(signal: Float32Array, options?: MelSpectrogramOptions): Spectrogram {
  checkSignal('signal', signal);
  const plan = melPlan(options);
  const { stft, filterbank } = plan;
  const bins = filterbank.nMels;
  const frames = frameCount(signal.length, stft.nFft, stft.hopLength, stft.center);
  if (frames === 0) {
    throw new KwsError(
      'SIGNAL_TOO_SHORT',
      `signal has ${signal.length} samples, fewer than one frame of nFft=${stft.nFft}`,
    );
  }
  const data = new Float32Array(frames * bins);
  const paddedLength = signal.length + (stft.center ? 2 * Math.floor(stft.nFft / 2) : 0);
  // Keep at most ~1 M samples (4 MB) alive in the plan cache; longer signals get their own buffer.
  if (stft.center && plan.padScratch.length < paddedLength && paddedLength <= 1 << 20) {
    plan.padScratch = new Float32Array(paddedLength);
  }
  const padded = padForStft(signal, stft, plan.padScratch);
  const scratch = plan.scratch;
  for (let t = 0; t < frames; t++) melFrame(plan, padded, t * stft.hopLength, data, t * bins, scratch);
  return { data, frames, bins };
}

/** Per-caller scratch buffers of {@link melFrame}. @internal */
export interface MelScratch {
  power: Float64Array;
  re: Float64Array;
  im: Float64Array;
}

/** @internal */
export function melScratch(plan: MelPlan): MelScratch {
  return frameScratch(plan.stft.nFft);
}

function frameScratch(nFft: number): MelScratch {
  const n = Math.floor(nFft / 2) + 1;
  return { power: new Float64Array(n), re: new Float64Array(n), im: new Float64Array(n) };
}

/**
 * Mel bands of the frame `buffer[start .. start + nFft)` into `out[outOffset ..]`: the one
 * kernel behind the offline and the streaming front end, so both give identical numbers.
 * @internal
 */
export function melFrame(
  plan: MelPlan,
  buffer: Float32Array,
  start: number,
  out: Float32Array,
  outOffset: number,
  scratch: MelScratch,
): void {
  framePower(buffer, start, plan.stft, plan.fft, plan.power, scratch.power, scratch.re, scratch.im);
  plan.filterbank.apply(scratch.power, 0, out, outOffset);
}
