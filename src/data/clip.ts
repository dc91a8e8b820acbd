/**
 * Fixing a clip's length, as Speech Commands loaders do before the front end.
 *
 * @packageDocumentation
 */
import { checkInt, checkSignal } from '../validate.js';

/**
 * `signal` cut or zero-padded to exactly `length` samples: the first `length` samples are kept
 * and missing ones are zeros at the end (TensorFlow's `decode_wav(desired_samples=…)`
 * convention). Always a new array.
 *
 * @param signal - mono samples.
 * @param length - wanted number of samples, an integer ≥ 1 (16000 for 1 s at 16 kHz).
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a non-Float32Array or bad length.
 */
export function fitClip(signal: Float32Array, length: number): Float32Array {
  checkSignal('signal', signal, true);
  checkInt('length', length, 1);
  const out = new Float32Array(length);
  out.set(signal.length > length ? signal.subarray(0, length) : signal);
  return out;
}
