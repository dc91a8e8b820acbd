/**
 * Mel scales and triangular mel filterbanks with torchaudio's semantics
 * (`torchaudio.functional.melscale_fbanks`), stored sparsely: each filter keeps only the FFT
 * bins where it is non-zero (at most two filters overlap any bin), so applying the bank costs
 * about 2·(nFft/2 + 1) multiply-adds per frame instead of nMels·(nFft/2 + 1).
 *
 * @packageDocumentation
 */
import { KwsError } from '../../src/errors.js';
import type { MelNorm, MelScale } from '../../src/features/types.js';
import { checkChoice, checkInt, checkNumber, checkOptions, checkSampleRate } from '../../src/validate.js';
import { dot } from './dot.js';

const SLANEY_F_SP = 200 / 3;
const SLANEY_MIN_LOG_HZ = 1000;
const SLANEY_MIN_LOG_MEL = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
const SLANEY_LOG_STEP = Math.log(6.4) / 27;

/**
 * Hertz to mel. HTK: `2595·log10(1 + f/700)`. Slaney (Auditory Toolbox): linear `3f/200`
 * below 1 kHz, logarithmic above with 27 mels per factor 6.4.
 */
export function hzToMel(hz: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + hz / 700);
  if (hz < SLANEY_MIN_LOG_HZ) return hz / SLANEY_F_SP;
  return SLANEY_MIN_LOG_MEL + Math.log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOG_STEP;
}

/** Mel to hertz, the inverse of {@link hzToMel}. */
export function melToHz(mel: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  if (mel < SLANEY_MIN_LOG_MEL) return mel * SLANEY_F_SP;
  return SLANEY_MIN_LOG_HZ * Math.exp(SLANEY_LOG_STEP * (mel - SLANEY_MIN_LOG_MEL));
}

/** Options of {@link melFilterbank}; defaults follow torchaudio's `MelSpectrogram`. */
export interface MelFilterbankOptions {
  /** Sample rate in Hz. Default 16000. */
  sampleRate?: number;
  /** FFT size; the bank spans nFft/2 + 1 bins from 0 to ⌊sampleRate/2⌋ Hz. Default 400. */
  nFft?: number;
  /** Number of mel bands. Default 128. */
  nMels?: number;
  /** Lowest edge in Hz. Default 0. */
  fMin?: number;
  /** Highest edge in Hz, ≤ sampleRate/2. Default sampleRate/2. */
  fMax?: number;
  /** Default `'htk'`. */
  melScale?: MelScale;
  /** `'slaney'` scales each triangle by 2/(f_{m+2} − f_m) (equal area); `null` (default) keeps peak 1. */
  norm?: MelNorm;
}

/**
 * A sparse triangular mel filterbank. Filter m is non-zero on FFT bins
 * `[starts[m], starts[m] + lengths[m])` with weights `weights[offsets[m] + i]`.
 */
export class MelFilterbank {
  constructor(
    /** Number of FFT bins the bank reads: nFft/2 + 1. */
    readonly nFreqs: number,
    /** Number of mel bands. */
    readonly nMels: number,
    /** First non-zero bin of each filter. */
    readonly starts: Int32Array,
    /** Number of non-zero bins of each filter. */
    readonly lengths: Int32Array,
    /** Where each filter's weights begin in {@link MelFilterbank.weights}. */
    readonly offsets: Int32Array,
    /** All filters' non-zero weights, concatenated. */
    readonly weights: Float64Array,
  ) {}

  /**
   * `out[outOffset + m] = Σ_k power[offset + k]·fb[k][m]` for every band m: one frame of a
   * (power) spectrum to mel bands.
   */
  apply(power: Float64Array, offset: number, out: Float32Array, outOffset: number): void {
    const { starts, lengths, offsets, weights } = this;
    for (let m = 0; m < this.nMels; m++) {
      const s = offset + (starts[m] as number);
      out[outOffset + m] = dot(power, s, weights, offsets[m] as number, lengths[m] as number);
    }
  }

  /** The dense matrix `[nFreqs, nMels]`, row-major, as `torchaudio.functional.melscale_fbanks`. */
  toDense(): Float32Array {
    const dense = new Float32Array(this.nFreqs * this.nMels);
    for (let m = 0; m < this.nMels; m++) {
      for (let i = 0; i < (this.lengths[m] as number); i++) {
        dense[((this.starts[m] as number) + i) * this.nMels + m] = this.weights[
          (this.offsets[m] as number) + i
        ] as number;
      }
    }
    return dense;
  }
}

/** Validated, defaulted filterbank options. @internal */
export interface ResolvedMelOptions {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  melScale: MelScale;
  norm: MelNorm;
}

/** @internal */
export function resolveMelOptions(options: MelFilterbankOptions | undefined): ResolvedMelOptions {
  const o = checkOptions('options', options);
  const sampleRate = checkSampleRate('sampleRate', o.sampleRate ?? 16000);
  const nFft = checkInt('nFft', o.nFft ?? 400, 2, 1 << 20);
  const nMels = checkInt('nMels', o.nMels ?? 128, 1, 4096);
  const nyquist = sampleRate / 2;
  const fMin = checkNumber('fMin', o.fMin ?? 0, 0, nyquist);
  const fMax = checkNumber('fMax', o.fMax ?? nyquist, 0, nyquist);
  if (fMin >= fMax) {
    throw new KwsError('INVALID_ARGUMENT', `fMin (${fMin} Hz) must be below fMax (${fMax} Hz)`);
  }
  const melScale = checkChoice<MelScale>('melScale', o.melScale ?? 'htk', ['htk', 'slaney']);
  const norm = checkChoice<MelNorm>('norm', o.norm === undefined ? null : o.norm, ['slaney', null]);
  return { sampleRate, nFft, nMels, fMin, fMax, melScale, norm };
}

/**
 * Triangular mel filterbank: `nMels` triangles whose corners are `nMels + 2` points equally
 * spaced on the mel scale between fMin and fMax, evaluated at the FFT bin frequencies
 * `linspace(0, ⌊sampleRate/2⌋, nFft/2 + 1)` (torchaudio's grid).
 *
 * @throws KwsError `EMPTY_MEL_FILTER` when some filter falls between FFT bins and would be all
 *   zeros (too many mels for this nFft and range; torchaudio only warns), and
 *   `INVALID_ARGUMENT`/`INVALID_SAMPLE_RATE` for out-of-range options.
 */
export function melFilterbank(options?: MelFilterbankOptions): MelFilterbank {
  const { sampleRate, nFft, nMels, fMin, fMax, melScale, norm } = resolveMelOptions(options);
  const nFreqs = Math.floor(nFft / 2) + 1;
  const topHz = Math.floor(sampleRate / 2);
  const freqs = new Float64Array(nFreqs);
  for (let k = 0; k < nFreqs; k++) freqs[k] = nFreqs === 1 ? 0 : (topHz * k) / (nFreqs - 1);
  const melMin = hzToMel(fMin, melScale);
  const melMax = hzToMel(fMax, melScale);
  const corners = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) {
    corners[i] = melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1), melScale);
  }
  const starts = new Int32Array(nMels);
  const lengths = new Int32Array(nMels);
  const offsets = new Int32Array(nMels);
  const weights: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const lo = corners[m] as number;
    const mid = corners[m + 1] as number;
    const hi = corners[m + 2] as number;
    const scale = norm === 'slaney' ? 2 / (hi - lo) : 1;
    offsets[m] = weights.length;
    let first = -1;
    let last = -1;
    for (let k = 0; k < nFreqs; k++) {
      const f = freqs[k] as number;
      const w = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
      if (w > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    if (first < 0) {
      throw new KwsError(
        'EMPTY_MEL_FILTER',
        `mel filter ${m} of ${nMels} (${lo.toFixed(1)}–${hi.toFixed(1)} Hz) covers no FFT bin at nFft=${nFft}, sampleRate=${sampleRate}; use fewer mels (nMels), a larger nFft, or a wider fMin–fMax range`,
      );
    }
    starts[m] = first;
    lengths[m] = last - first + 1;
    for (let k = first; k <= last; k++) {
      const f = freqs[k] as number;
      weights.push(Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))) * scale);
    }
  }
  return new MelFilterbank(nFreqs, nMels, starts, lengths, offsets, Float64Array.from(weights));
}
