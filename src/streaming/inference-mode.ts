/**
 * The contract between {@link StreamingKWS} and a way of running the model on a stream of
 * feature frames. `window` mode re-runs the model on a sliding window; the `stateful` modes carry
 * recurrent (CRNN) or convolutional (causal BC-ResNet) state from frame to frame.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import type { Spectrogram } from '../features/index.js';

/** Class probabilities computed for one point of the stream. */
export interface Posterior {
  /**
   * Frames of the stream (counted from its start) that these probabilities are based on: they
   * describe the audio up to the end of frame `endFrame − 1`.
   */
  endFrame: number;
  /** One probability per class, in the model's output order. */
  scores: Float32Array;
}

/** A strategy that turns new feature frames into class probabilities. */
export interface InferenceMode {
  /** Feature frames the mode keeps between steps (its whole history of the stream). */
  readonly bufferedFrames: number;
  /**
   * Consumes the frames that follow the ones given before (frame-major, `bins` per frame) and
   * resolves with the probabilities they complete, in stream order (possibly none). Calls must
   * not overlap: the caller awaits each before the next.
   */
  step(frames: Spectrogram): Promise<Posterior[]>;
  /** Forgets the stream; a step still awaiting its model output resolves with no posteriors. */
  reset(): void;
  /** Releases tensors and buffers; later calls throw `DISPOSED`. */
  dispose(): void;
}

/**
 * Checks that `frames` is a spectrogram of `bins` bins per frame with enough values, the input
 * contract of every {@link InferenceMode.step}.
 *
 * @throws KwsError `INVALID_ARGUMENT` for anything that is not a `{ data: Float32Array, frames,
 *   bins }`, `SHAPE_MISMATCH` for the wrong number of bins or too few values.
 */
export function checkFrames(frames: Spectrogram, bins: number): void {
  const f = frames as Partial<Spectrogram> | null;
  if (
    f === null ||
    typeof f !== 'object' ||
    !(f.data instanceof Float32Array) ||
    !Number.isSafeInteger(f.frames) ||
    (f.frames as number) < 0
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'frames must be a Spectrogram { data: Float32Array, frames, bins }',
    );
  }
  if (frames.bins !== bins || frames.data.length < frames.frames * bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `frames have ${frames.bins} bins and ${frames.data.length} values for ${frames.frames} frames; ` +
        `the model takes ${bins} bins per frame`,
    );
  }
}
