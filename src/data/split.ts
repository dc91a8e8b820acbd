/**
 * The Speech Commands hash split: which of training / validation / test a clip belongs to,
 * decided from its file name alone so that the assignment never changes when files are added,
 * and so that every clip of one speaker lands in the same split.
 *
 * Rule (TensorFlow `speech_commands/input_data.py`, `which_set`, described in the data set's
 * README and in Warden, "Speech Commands", arXiv:1804.03209, 2018):
 *
 * 1. key = base name of the file with everything from `_nohash_` on removed
 *    (`c50f55b8_nohash_1.wav` → `c50f55b8`, the speaker id); a name without `_nohash_` is
 *    hashed whole, extension included.
 * 2. h = SHA-1(UTF-8 bytes of key), read as a 160-bit unsigned integer.
 * 3. p = (h mod 2^27) · 100 / (2^27 − 1), a percentage in [0, 100].
 *    (TensorFlow writes `h % (MAX_NUM_WAVS_PER_CLASS + 1) * (100.0 / MAX_NUM_WAVS_PER_CLASS)`
 *    with `MAX_NUM_WAVS_PER_CLASS = 2^27 − 1`: the modulus is 2^27, the scale 1/(2^27 − 1).)
 * 4. validation if p < validationPercentage, test if p < validationPercentage +
 *    testingPercentage, otherwise training.
 *
 * The arithmetic is the same float64 product as in Python, so the percentages agree bit for bit.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkNumber, checkOptions } from '../validate.js';
import { sha1 } from './sha1.js';

/** Names of the three splits. */
export type SplitName = 'train' | 'validation' | 'test';

/** Options of {@link whichSet}. */
export interface WhichSetOptions {
  /** Percentage of keys (speakers) in validation, in [0, 100]. Default 10. */
  validationPercentage?: number;
  /** Percentage of keys (speakers) in test, in [0, 100 − validationPercentage]. Default 10. */
  testingPercentage?: number;
}

/** 2^27 − 1, TensorFlow's `MAX_NUM_WAVS_PER_CLASS`. */
const MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1;

/**
 * The part of a clip's file name that the hash split uses: the base name (after the last `/`
 * or `\`) with `_nohash_` and everything after it removed. For Speech Commands file names this
 * is the speaker id.
 *
 * @param fileName - a file name or path, e.g. `yes/c50f55b8_nohash_1.wav`.
 * @returns e.g. `c50f55b8`.
 * @throws {@link KwsError} `INVALID_ARGUMENT` unless `fileName` is a non-empty string.
 */
export function splitKey(fileName: string): string {
  if (typeof fileName !== 'string' || fileName.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', `fileName must be a non-empty string; got ${typeof fileName}`);
  }
  const slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
  const base = fileName.slice(slash + 1);
  const at = base.indexOf('_nohash_');
  return at < 0 ? base : base.slice(0, at);
}

/**
 * The hash percentage of a clip, `(SHA-1(key) mod 2^27) · 100 / (2^27 − 1)` with
 * `key = splitKey(fileName)`; see the module notes.
 *
 * @param fileName - a file name or path.
 * @returns a percentage in [0, 100].
 */
export function splitPercentage(fileName: string): number {
  const key = splitKey(fileName);
  const digest = sha1(key);
  // h mod 2^27 is the low 27 bits of the big-endian 160-bit digest.
  const low = new DataView(digest.buffer).getUint32(16, false) & (2 ** 27 - 1);
  return low * (100 / MAX_NUM_WAVS_PER_CLASS);
}

/**
 * Which split the hash rule assigns to a clip (see the module notes). Every clip of a speaker
 * (same `splitKey`) gets the same answer, and the answer depends on nothing but the name and
 * the two percentages.
 *
 * @param fileName - a file name or path, e.g. `yes/c50f55b8_nohash_1.wav`.
 * @param options - split percentages; defaults 10 % validation, 10 % test.
 * @returns `'train'`, `'validation'` or `'test'`.
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a bad name or percentages outside [0, 100]
 *   or summing to more than 100.
 */
export function whichSet(fileName: string, options?: WhichSetOptions): SplitName {
  const { validationPercentage, testingPercentage } = resolveWhichSetOptions(options);
  const p = splitPercentage(fileName);
  if (p < validationPercentage) return 'validation';
  if (p < validationPercentage + testingPercentage) return 'test';
  return 'train';
}

/** Validates and completes {@link WhichSetOptions}. @internal */
export function resolveWhichSetOptions(options?: WhichSetOptions): Required<WhichSetOptions> {
  const o = checkOptions('options', options);
  const validationPercentage = checkNumber('validationPercentage', o.validationPercentage ?? 10, 0, 100);
  const testingPercentage = checkNumber('testingPercentage', o.testingPercentage ?? 10, 0, 100);
  if (validationPercentage + testingPercentage > 100) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `validationPercentage + testingPercentage must be <= 100; got ${validationPercentage} + ${testingPercentage}`,
    );
  }
  return { validationPercentage, testingPercentage };
}
