/**
 * The contract between {@link StreamingKWS} and a way of running the model on a stream of
 * feature frames. `window` mode re-runs the model on a sliding window; a later `stateful` mode
 * will carry recurrent/convolutional state from frame to frame.
 *
 * @packageDocumentation
 */
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
