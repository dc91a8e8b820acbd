/**
 * A fixed-capacity ring buffer of feature frames: the only history a windowed detector needs.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt } from '../validate.js';

/**
 * Keeps the last `capacity` frames of `bins` values each, frame-major. Pushing past the
 * capacity overwrites the oldest frames, so memory is `capacity · bins` floats for the whole
 * life of a stream, whatever is pushed.
 *
 * @example
 * ```ts
 * const ring = new FrameRingBuffer(101, 40);
 * ring.push(features.data, features.frames);
 * if (ring.length === 101) model.predict(tf.tensor3d(ring.readLast(101), [1, 101, 40]));
 * ```
 */
export class FrameRingBuffer {
  /** Frames the buffer holds at most. */
  readonly capacity: number;
  /** Values per frame. */
  readonly bins: number;
  private readonly store: Float32Array;
  /** Slot the next frame goes to. */
  private head = 0;
  private held = 0;
  private pushed = 0;

  /**
   * @param capacity frames to keep, an integer ≥ 1.
   * @param bins values per frame, an integer ≥ 1.
   * @throws KwsError `INVALID_ARGUMENT` for a non-integer or non-positive size.
   */
  constructor(capacity: number, bins: number) {
    this.capacity = checkInt('capacity', capacity, 1);
    this.bins = checkInt('bins', bins, 1);
    this.store = new Float32Array(capacity * bins);
  }

  /** Frames currently held, `min(capacity, frames pushed since the last clear)`. */
  get length(): number {
    return this.held;
  }

  /** Frames pushed since creation or the last {@link FrameRingBuffer.clear} (held or overwritten). */
  get framesPushed(): number {
    return this.pushed;
  }

  /**
   * Appends `frames` frames read from `data` (frame-major, `frames · bins` values). When more
   * than `capacity` frames arrive at once only the last `capacity` are copied.
   *
   * @param data frame-major values; only the first `frames · bins` are read.
   * @param frames frames to append; default `data.length / bins`.
   * @throws KwsError `SHAPE_MISMATCH` when `data` holds fewer than `frames · bins` values or
   *   (without `frames`) a length that is not a multiple of `bins`.
   */
  push(data: Float32Array, frames?: number): void {
    const { bins, capacity } = this;
    if (frames === undefined && data.length % bins !== 0) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `data has ${data.length} values, not a multiple of ${bins} bins per frame`,
      );
    }
    const count = frames === undefined ? data.length / bins : checkInt('frames', frames, 0);
    if (count * bins > data.length) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `data has ${data.length} values, fewer than ${count} frames × ${bins} bins`,
      );
    }
    this.pushed += count;
    // Frames that would be overwritten within this call are never copied.
    const skip = Math.max(0, count - capacity);
    let remaining = count - skip;
    let source = skip * bins;
    this.head = (this.head + skip) % capacity;
    while (remaining > 0) {
      const run = Math.min(remaining, capacity - this.head);
      this.store.set(data.subarray(source, source + run * bins), this.head * bins);
      source += run * bins;
      remaining -= run;
      this.head = (this.head + run) % capacity;
      this.held = Math.min(capacity, this.held + run);
    }
  }

  /**
   * Copies the last `n` frames, oldest first, into `out[offset ..]` (a new array when `out` is
   * omitted) and returns `out`.
   *
   * @param n frames to read, an integer in [0, length].
   * @param out destination with room for `n · bins` values from `offset`.
   * @param offset first index of `out` written. Default 0.
   * @throws KwsError `INVALID_ARGUMENT` when `n` exceeds the frames held or `out` is too short.
   */
  readLast(n: number, out?: Float32Array, offset = 0): Float32Array {
    const { bins, capacity } = this;
    checkInt('n', n, 0, this.held);
    const target = out ?? new Float32Array(n * bins);
    checkInt('offset', offset, 0);
    if (offset + n * bins > target.length) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `out has ${target.length} values; ${offset + n * bins} are needed to write ${n} frames at offset ${offset}`,
      );
    }
    const first = (this.head - n + capacity) % capacity;
    const run = Math.min(n, capacity - first);
    target.set(this.store.subarray(first * bins, (first + run) * bins), offset);
    if (run < n) target.set(this.store.subarray(0, (n - run) * bins), offset + run * bins);
    return target;
  }

  /** Forgets every frame; capacity and memory stay. */
  clear(): void {
    this.head = 0;
    this.held = 0;
    this.pushed = 0;
  }
}
