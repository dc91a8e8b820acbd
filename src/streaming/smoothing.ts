/**
 * Posterior smoothing: the moving average of the last few per-hop class probabilities, which
 * turns the jittery output of a sliding-window classifier into a score that stays up for the
 * length of a word (the "mean of the last N windows" of TensorFlow's `RecognizeCommands` and of
 * Chen, Parada, Heigold, "Small-footprint keyword spotting using deep neural networks", ICASSP 2014).
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt } from '../validate.js';

/**
 * Moving average over the last `length` score vectors:
 *
 *     smoothed_t[c] = (1 / n) · Σ_{i = t−n+1}^{t} scores_i[c],   n = min(length, vectors seen)
 *
 * so the first outputs of a stream average what has arrived so far rather than waiting. Each
 * output is recomputed from the stored vectors (in float64, rounded once to float32), so it does
 * not drift over a long stream and equals the hand-written formula exactly. Memory:
 * `length · classes` floats.
 */
export class PosteriorSmoother {
  /** Values per score vector. */
  readonly classes: number;
  /** Vectors averaged (the window of the moving average), ≥ 1; 1 means no smoothing. */
  readonly length: number;
  private readonly history: Float32Array;
  private readonly sums: Float64Array;
  private head = 0;
  private held = 0;

  /**
   * @param classes values per score vector, an integer ≥ 1.
   * @param length vectors to average, an integer ≥ 1.
   */
  constructor(classes: number, length: number) {
    this.classes = checkInt('classes', classes, 1);
    this.length = checkInt('length', length, 1);
    this.history = new Float32Array(this.length * this.classes);
    this.sums = new Float64Array(this.classes);
  }

  /**
   * Adds one score vector and returns the average of the last `min(length, seen)` vectors.
   *
   * @throws KwsError `SHAPE_MISMATCH` when `scores` does not have `classes` values.
   */
  push(scores: ArrayLike<number>): Float32Array {
    const { classes, length, history, sums } = this;
    if (scores.length !== classes) {
      throw new KwsError('SHAPE_MISMATCH', `scores has ${scores.length} values; ${classes} were expected`);
    }
    for (let c = 0; c < classes; c++) history[this.head * classes + c] = scores[c] as number;
    this.head = (this.head + 1) % length;
    this.held = Math.min(length, this.held + 1);
    sums.fill(0);
    for (let i = 0; i < this.held; i++) {
      const row = ((this.head - 1 - i + 2 * length) % length) * classes;
      for (let c = 0; c < classes; c++) sums[c] = (sums[c] as number) + (history[row + c] as number);
    }
    const out = new Float32Array(classes);
    for (let c = 0; c < classes; c++) out[c] = (sums[c] as number) / this.held;
    return out;
  }

  /** Forgets every vector: the next output is the next input. */
  reset(): void {
    this.head = 0;
    this.held = 0;
  }
}

/**
 * {@link PosteriorSmoother} applied to a whole sequence: the moving average of
 * `sequence[t − length + 1 .. t]` for every t (fewer vectors at the start).
 *
 * @param sequence score vectors of equal length, in time order.
 * @param length vectors to average, an integer ≥ 1.
 * @returns one smoothed vector per input vector.
 * @throws KwsError `SHAPE_MISMATCH` for vectors of different lengths, `INVALID_ARGUMENT` for a
 *   bad `length`.
 */
export function smoothPosteriors(sequence: readonly ArrayLike<number>[], length: number): Float32Array[] {
  checkInt('length', length, 1);
  const first = sequence[0];
  if (first === undefined) return [];
  const smoother = new PosteriorSmoother(Math.max(1, first.length), length);
  return sequence.map((scores) => smoother.push(scores));
}
