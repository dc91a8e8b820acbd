import { checkSpectrogram } from '../../src/features/check-spectrogram.js';
import type { Spectrogram } from '../../src/features/types.js';
import { checkNumber, checkOptions } from '../../src/validate.js';

/** Options of {@link logMel}. */
export interface LogMelOptions {
  /** Offset added before the log, so silence maps to ln(eps) instead of −∞. Default 1e-6. */
  eps?: number;
}

/**
 * Natural log with an offset, `ln(x + eps)`, element-wise: the log-mel of the BC-ResNet paper
 * and most KWS recipes (eps = 1e-6). Same shape as the input.
 *
 * @throws KwsError `INVALID_ARGUMENT` for eps ≤ 0, `NON_FINITE_INPUT`, `SHAPE_MISMATCH`.
 */
export function logMel(spectrogram: Spectrogram, options?: LogMelOptions): Spectrogram {
  const spec = checkSpectrogram('spectrogram', spectrogram);
  const eps = checkNumber(
    'eps',
    checkOptions('options', options).eps ?? 1e-6,
    0,
    Number.POSITIVE_INFINITY,
    true,
  );
  const data = new Float32Array(spec.data.length);
  logInto(spec.data, eps, data);
  return { data, frames: spec.frames, bins: spec.bins };
}

/** `out[i] = ln(values[i] + eps)`; negative sums (impossible for power values) give NaN. @internal */
export function logInto(values: ArrayLike<number>, eps: number, out: Float32Array, outOffset = 0): void {
  for (let i = 0; i < values.length; i++) out[outOffset + i] = Math.log((values[i] as number) + eps);
}

/** Options of {@link powerToDb} and {@link amplitudeToDb}; defaults are torchaudio's. */
export interface DbOptions {
  /** Reference value mapped to 0 dB. Default 1. */
  ref?: number;
  /** Floor applied to values (and ref) before the log. Default 1e-10. */
  amin?: number;
  /** If set, values are clamped to (max − topDb), max taken over the whole spectrogram. Default null. */
  topDb?: number | null;
}

function toDb(spectrogram: Spectrogram, options: DbOptions | undefined, multiplier: number): Spectrogram {
  const spec = checkSpectrogram('spectrogram', spectrogram);
  const o = checkOptions('options', options);
  const amin = checkNumber('amin', o.amin ?? 1e-10, 0, Number.POSITIVE_INFINITY, true);
  const ref = checkNumber('ref', o.ref ?? 1, 0, Number.POSITIVE_INFINITY, true);
  const topDb = o.topDb == null ? null : checkNumber('topDb', o.topDb, 0);
  const offset = multiplier * Math.log10(Math.max(amin, ref));
  const data = new Float32Array(spec.data.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = multiplier * Math.log10(Math.max(spec.data[i] as number, amin)) - offset;
    data[i] = v;
    if (v > max) max = v;
  }
  if (topDb !== null) {
    const floor = max - topDb;
    for (let i = 0; i < data.length; i++) if ((data[i] as number) < floor) data[i] = floor;
  }
  return { data, frames: spec.frames, bins: spec.bins };
}

/**
 * Power to decibels, `10·log10(max(x, amin)) − 10·log10(max(ref, amin))`, optionally clamped
 * to `max − topDb`; `torchaudio.transforms.AmplitudeToDB(stype='power')` for one spectrogram.
 */
export function powerToDb(spectrogram: Spectrogram, options?: DbOptions): Spectrogram {
  return toDb(spectrogram, options, 10);
}

/** Magnitude to decibels: as {@link powerToDb} with multiplier 20 (`stype='magnitude'`). */
export function amplitudeToDb(spectrogram: Spectrogram, options?: DbOptions): Spectrogram {
  return toDb(spectrogram, options, 20);
}
