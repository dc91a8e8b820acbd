/**
 * Shapes shared across the front end.
 *
 * @packageDocumentation
 */

/**
 * A time–frequency matrix laid out frame-major: the value of bin `b` in frame `t` is
 * `data[t * bins + b]`. Returned by {@link spectrogram}, {@link melSpectrogram}, {@link logMel},
 * {@link powerToDb} and {@link mfcc}.
 */
export interface Spectrogram {
  /** Values, `frames * bins` long, frame-major. */
  data: Float32Array;
  /** Number of frames (time steps). */
  frames: number;
  /** Values per frame (FFT bins, mel bands or cepstral coefficients). */
  bins: number;
}

/** Padding applied at both ends of the signal when `center` is true (torchaudio's `pad_mode`). */
export type PadMode = 'reflect' | 'constant';

/** Names of the analysis windows; see {@link makeWindow}. */
export type WindowName =
  | 'hann'
  | 'hann-symmetric'
  | 'hamming'
  | 'hamming-symmetric'
  | 'povey'
  | 'rectangular';

/** Mel scale formula: HTK `2595·log10(1 + f/700)` or Slaney's (linear below 1 kHz, log above). */
export type MelScale = 'htk' | 'slaney';

/** Filter normalisation: `'slaney'` divides each triangle by its width in Hz (equal area); `null` keeps peak 1. */
export type MelNorm = 'slaney' | null;
