/**
 * Errors thrown by kws-kit.
 *
 * Every public function validates its arguments at the boundary and throws a {@link KwsError}
 * whose `code` is stable across releases (match on `code`, not on the message) and whose
 * message says what was wrong and what is allowed.
 *
 * @packageDocumentation
 */

/**
 * Stable machine-readable error codes.
 *
 * - `INVALID_ARGUMENT`: an option or argument has the wrong type, or is out of its allowed range.
 * - `INVALID_SAMPLE_RATE`: a sample rate that is not a finite positive number.
 * - `EMPTY_INPUT`: an empty signal, spectrogram or list where at least one element is needed.
 * - `NON_FINITE_INPUT`: NaN or ±Infinity in audio or features.
 * - `SIGNAL_TOO_SHORT`: the signal is shorter than one analysis frame.
 * - `SHAPE_MISMATCH`: two inputs whose shapes (lengths, frames, bins) do not agree.
 * - `INVALID_FFT_SIZE`: an FFT size smaller than the window (`nFft < winLength`) or below 2.
 * - `EMPTY_MEL_FILTER`: a mel filterbank in which some filter covers no FFT bin (too many mels for
 *   the FFT size and frequency range).
 * - `WAV_INVALID`: bytes that are not a RIFF/WAVE file or whose header contradicts itself.
 * - `WAV_TRUNCATED`: a WAV file that ends before its header or declared data end.
 * - `WAV_UNSUPPORTED`: a well-formed WAV in an encoding kws-kit does not decode (e.g. ADPCM).
 * - `DISPOSED`: a stateful object was used after `dispose()`.
 * - `NOT_FOUND`: a file, folder or named item (pretrained model, label) that does not exist.
 * - `MODEL_INVALID`: a model or model configuration kws-kit cannot build, convert or profile.
 * - `MODEL_FILE_CORRUPT`: a saved model (model.json or weight shard) that is truncated,
 *   malformed or inconsistent with its manifest.
 * - `DATASET_INVALID`: a data folder that is not in the expected layout, or a dataset that
 *   would be empty or inconsistent (e.g. a label with no examples).
 * - `JOURNAL_CORRUPT`: a line of a tuning journal that cannot be read (the intact lines are kept).
 * - `UNSUPPORTED_ENVIRONMENT`: a Node-only function (file system) called where Node.js is not
 *   available, e.g. in a browser; the message names the browser alternative.
 */
export type KwsErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_SAMPLE_RATE'
  | 'EMPTY_INPUT'
  | 'NON_FINITE_INPUT'
  | 'SIGNAL_TOO_SHORT'
  | 'SHAPE_MISMATCH'
  | 'INVALID_FFT_SIZE'
  | 'EMPTY_MEL_FILTER'
  | 'WAV_INVALID'
  | 'WAV_TRUNCATED'
  | 'WAV_UNSUPPORTED'
  | 'DISPOSED'
  | 'NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_FILE_CORRUPT'
  | 'DATASET_INVALID'
  | 'JOURNAL_CORRUPT'
  | 'UNSUPPORTED_ENVIRONMENT';

/** Base class of every error kws-kit throws on bad input or misuse. */
export class KwsError extends Error {
  /** Stable machine-readable code; see {@link KwsErrorCode}. */
  readonly code: KwsErrorCode;

  constructor(code: KwsErrorCode, message: string) {
    super(message);
    this.name = 'KwsError';
    this.code = code;
  }
}

/** A WAV file that cannot be decoded: codes `WAV_INVALID`, `WAV_TRUNCATED` or `WAV_UNSUPPORTED`. */
export class WavDecodeError extends KwsError {
  constructor(code: 'WAV_INVALID' | 'WAV_TRUNCATED' | 'WAV_UNSUPPORTED', message: string) {
    super(code, message);
    this.name = 'WavDecodeError';
  }
}
