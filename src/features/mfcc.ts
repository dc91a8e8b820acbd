/**
 * Mel-frequency cepstral coefficients: a DCT-II over the (log or dB) mel bands of each frame,
 * as `torchaudio.transforms.MFCC`.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { checkSpectrogram } from './check-spectrogram.js';
import { type MelSpectrogramOptions, melSpectrogram } from './mel-spectrogram.js';
import { logMel, powerToDb } from './scale.js';
import type { Spectrogram } from './types.js';

/**
 * DCT-II basis as `torchaudio.functional.create_dct`, laid out `[nMfcc, nMels]` row-major:
 * `D[k][n] = cos(π/nMels · (n + ½) · k)`, times `√(2/nMels)` with row 0 further scaled by `1/√2`
 * when `norm` is `'ortho'` (an orthonormal transform), or times 2 when `norm` is null.
 */
export function dctMatrix(nMfcc: number, nMels: number, norm: 'ortho' | null = 'ortho'): Float64Array {
  checkInt('nMels', nMels, 1, 4096);
  checkInt('nMfcc', nMfcc, 1, nMels);
  checkChoice('norm', norm, ['ortho', null]);
  const d = new Float64Array(nMfcc * nMels);
  const s = Math.sqrt(2 / nMels);
  for (let k = 0; k < nMfcc; k++) {
    for (let n = 0; n < nMels; n++) {
      const c = Math.cos((Math.PI / nMels) * (n + 0.5) * k);
      d[k * nMels + n] = norm === 'ortho' ? c * s * (k === 0 ? Math.SQRT1_2 : 1) : 2 * c;
    }
  }
  return d;
}

/** Options of {@link cepstrum}. */
export interface CepstrumOptions {
  /** Number of coefficients kept, ≤ bins. Default 40 (or bins if fewer). */
  nMfcc?: number;
  /** DCT normalisation. Default `'ortho'`. */
  norm?: 'ortho' | null;
}

/**
 * DCT-II of every frame of an already log-compressed spectrogram: `C_t[k] = Σ_n D[k][n]·S_t[n]`
 * with D from {@link dctMatrix}. Output `[frames, nMfcc]`.
 */
export function cepstrum(spectrogram: Spectrogram, options?: CepstrumOptions): Spectrogram {
  const spec = checkSpectrogram('spectrogram', spectrogram);
  const o = checkOptions('options', options);
  const nMfcc = checkInt('nMfcc', o.nMfcc ?? Math.min(40, spec.bins), 1, spec.bins);
  const d = dctMatrix(nMfcc, spec.bins, o.norm === undefined ? 'ortho' : o.norm);
  const { frames, bins } = spec;
  const data = new Float32Array(frames * nMfcc);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < nMfcc; k++) {
      let acc = 0;
      for (let n = 0; n < bins; n++) acc += (d[k * bins + n] as number) * (spec.data[t * bins + n] as number);
      data[t * nMfcc + k] = acc;
    }
  }
  return { data, frames, bins: nMfcc };
}

/** Options of {@link mfcc}: mel-spectrogram options plus the cepstral ones (torchaudio defaults). */
export interface MfccOptions extends MelSpectrogramOptions {
  /** Coefficients per frame, ≤ nMels. Default 40. */
  nMfcc?: number;
  /** DCT normalisation. Default `'ortho'`. */
  dctNorm?: 'ortho' | null;
  /** Use ln(mel + 1e-6) instead of decibels before the DCT. Default false. */
  logMels?: boolean;
  /** Dynamic range kept by the dB conversion (ignored with `logMels`). Default 80. */
  topDb?: number | null;
}

/**
 * MFCCs as `torchaudio.transforms.MFCC`: mel spectrogram ({@link melSpectrogram}), then dB
 * (`10·log10(max(x, 1e-10))` clamped to max − topDb) or, with `logMels`, ln(x + 1e-6), then
 * a DCT-II ({@link cepstrum}). Output `[frames, nMfcc]`.
 *
 * @throws KwsError as {@link melSpectrogram}, and `INVALID_ARGUMENT` for nMfcc > nMels.
 */
export function mfcc(signal: Float32Array, options?: MfccOptions): Spectrogram {
  const o = checkOptions('options', options);
  const nMels = o.nMels ?? 128;
  const nMfcc = o.nMfcc ?? 40;
  if (typeof nMels === 'number' && typeof nMfcc === 'number' && nMfcc > nMels) {
    throw new KwsError('INVALID_ARGUMENT', `nMfcc (${nMfcc}) must be <= nMels (${nMels})`);
  }
  const logMels = checkBoolean('logMels', o.logMels ?? false);
  const topDb = o.topDb === null ? null : checkNumber('topDb', o.topDb ?? 80, 0);
  const mel = melSpectrogram(signal, { ...o, nMels });
  const compressed = logMels ? logMel(mel, { eps: 1e-6 }) : powerToDb(mel, { topDb });
  return cepstrum(compressed, { nMfcc, norm: o.dctNorm === undefined ? 'ortho' : o.dctNorm });
}
