/**
 * Validation of spectrogram arguments, shared by every function that takes one.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkFinite, checkInt } from '../validate.js';
import type { Spectrogram } from './types.js';

/**
 * Throws unless `spec` is a well-formed, non-empty, finite {@link Spectrogram}: `INVALID_ARGUMENT`
 * (not one), `SHAPE_MISMATCH` (data length ≠ frames × bins), `EMPTY_INPUT`, `NON_FINITE_INPUT`.
 * @internal
 */
export function checkSpectrogram(name: string, spec: unknown): Spectrogram {
  if (spec === null || typeof spec !== 'object') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a Spectrogram {data, frames, bins}; got ${String(spec)}`,
    );
  }
  const s = spec as Partial<Spectrogram>;
  if (!(s.data instanceof Float32Array)) {
    throw new KwsError('INVALID_ARGUMENT', `${name}.data must be a Float32Array`);
  }
  const frames = checkInt(`${name}.frames`, s.frames, 0);
  const bins = checkInt(`${name}.bins`, s.bins, 0);
  if (s.data.length !== frames * bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${name}.data has ${s.data.length} values but frames × bins = ${frames} × ${bins} = ${frames * bins}`,
    );
  }
  if (frames === 0 || bins === 0) {
    throw new KwsError(
      'EMPTY_INPUT',
      `${name} is empty (${frames} frames × ${bins} bins); at least one value is needed`,
    );
  }
  checkFinite(`${name}.data`, s.data);
  return s as Spectrogram;
}
