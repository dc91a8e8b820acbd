/**
 * Analysis windows, with torch's conventions: a *periodic* window of length N is the first N
 * points of the symmetric window of length N + 1 (what `torch.hann_window(N)` returns and what
 * spectral analysis wants); a *symmetric* window is symmetric about its centre
 * (`periodic=False`, what filter design wants).
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt } from '../validate.js';
import type { WindowName } from './types.js';

const WINDOW_NAMES: readonly WindowName[] = [
  'hann',
  'hann-symmetric',
  'hamming',
  'hamming-symmetric',
  'povey',
  'rectangular',
];

/** Generalised cosine window `a − (1 − a)·cos(2πn / D)` for n in [0, length). */
function cosineWindow(length: number, a: number, denominator: number): Float64Array {
  const w = new Float64Array(length);
  if (length === 1) {
    w[0] = 1;
    return w;
  }
  for (let n = 0; n < length; n++) w[n] = a - (1 - a) * Math.cos((2 * Math.PI * n) / denominator);
  return w;
}

/**
 * Hann window `0.5 − 0.5·cos(2πn / D)`, with D = `length` when periodic (default, as
 * `torch.hann_window`) and D = `length − 1` when symmetric.
 */
export function hannWindow(length: number, periodic = true): Float32Array {
  return Float32Array.from(windowValues(periodic ? 'hann' : 'hann-symmetric', length));
}

/**
 * Hamming window `0.54 − 0.46·cos(2πn / D)`, with D = `length` when periodic (default, as
 * `torch.hamming_window`) and D = `length − 1` when symmetric.
 */
export function hammingWindow(length: number, periodic = true): Float32Array {
  return Float32Array.from(windowValues(periodic ? 'hamming' : 'hamming-symmetric', length));
}

/**
 * Povey window (Kaldi's default for MFCC/fbank): a symmetric Hann window raised to the power
 * 0.85, `(0.5 − 0.5·cos(2πn / (length − 1)))^0.85`. Like Hann but not quite zero at the edges'
 * neighbours, which Kaldi found slightly better for ASR features.
 */
export function poveyWindow(length: number): Float32Array {
  return Float32Array.from(windowValues('povey', length));
}

/**
 * A window by name: `'hann'` (periodic), `'hann-symmetric'`, `'hamming'` (periodic),
 * `'hamming-symmetric'`, `'povey'` or `'rectangular'` (all ones).
 *
 * @param length window length in samples (≥ 1).
 */
export function makeWindow(name: WindowName, length: number): Float32Array {
  return Float32Array.from(windowValues(name, length));
}

/**
 * The window in double precision. The STFT uses these values directly: rounding the window to
 * float32 would leak ~1e-7 of a loud bin's energy into quiet ones, which is the whole error
 * budget of torchaudio parity at 1e-7 of the peak. @internal
 */
export function windowValues(name: WindowName, length: number): Float64Array {
  switch (name) {
    case 'hann':
    case 'hann-symmetric':
      checkInt('length', length, 1);
      return cosineWindow(length, 0.5, name === 'hann' ? length : length - 1);
    case 'hamming':
    case 'hamming-symmetric':
      checkInt('length', length, 1);
      return cosineWindow(length, 0.54, name === 'hamming' ? length : length - 1);
    case 'povey': {
      checkInt('length', length, 1);
      const w = cosineWindow(length, 0.5, length - 1);
      for (let n = 0; n < length; n++) w[n] = (w[n] as number) ** 0.85;
      return w;
    }
    case 'rectangular':
      return new Float64Array(checkInt('length', length, 1)).fill(1);
    default:
      throw new KwsError(
        'INVALID_ARGUMENT',
        `window must be one of ${WINDOW_NAMES.map((n) => `'${n}'`).join(', ')}; got ${JSON.stringify(name)}`,
      );
  }
}

/** The accepted window names. */
export function windowNames(): readonly WindowName[] {
  return WINDOW_NAMES;
}
