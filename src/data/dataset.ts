/**
 * The in-memory dataset: one split of examples stored compactly, and mini-batches of it.
 *
 * A {@link Split} keeps every example's features in one `Float32Array` (`[n, frames, bins]`,
 * example-major, frame-major inside an example) rather than one array per clip, so that tens of
 * thousands of clips cost little more than their float32 payload: with the default front end a
 * 1 s clip is 101 frames × 40 mels × 4 bytes = 16,160 bytes (≈ 16 KB), so 4,200 clips take
 * ≈ 68 MB and 100,000 clips ≈ 1.6 GB. Raw 1 s audio, if kept, adds 16,000 × 4 = 64,000 bytes
 * per clip.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import { checkBoolean, checkInt, checkNumber, checkOptions } from '../validate.js';

/**
 * One split (train, validation or test) of a labelled dataset.
 *
 * Example `i` has features `features[i·frames·bins … (i+1)·frames·bins)` (frame-major: value of
 * frame `t`, bin `m` at offset `t·bins + m`), class `labels[i]` (an index into `labelNames`)
 * and came from `files[i]`.
 */
export interface Split {
  /** All examples' `[frames × bins]` features concatenated, float32; length `n·frames·bins`. */
  features: Float32Array;
  /** Frames per example (101 for 1 s with the default front end); 0 when no features were computed. */
  frames: number;
  /** Bins (mels) per frame (40 by default); 0 when no features were computed. */
  bins: number;
  /** Class index of each example, `n` entries. */
  labels: Int32Array;
  /** Names of the classes, in output order (shared by every split of one dataset). */
  labelNames: readonly string[];
  /**
   * Where each example came from: a path relative to the data folder with `/` separators
   * (`yes/c50f55b8_nohash_1.wav`), or `<noise file>#<offset>` for a clip cut from a noise
   * recording at that sample offset (`_background_noise_/white_noise.wav#48213`).
   */
  files: string[];
  /** Each example's audio (mono, fixed length), when it was kept. */
  audio?: Float32Array[];
}

/** Number of examples in a split. */
export function splitSize(split: Pick<Split, 'labels'>): number {
  return split.labels.length;
}

/** Arguments of {@link createSplit}. */
export interface CreateSplitInput {
  /** `[n, frames, bins]` features, concatenated. */
  features: Float32Array;
  frames: number;
  bins: number;
  /** Class indices, `n` of them, each in `[0, labelNames.length)`. */
  labels: Int32Array | readonly number[];
  labelNames: readonly string[];
  /** Optional source names; default `'#0'`, `'#1'`, …. */
  files?: readonly string[];
  audio?: Float32Array[];
}

/**
 * Builds a {@link Split} from your own arrays (e.g. features computed elsewhere), after checking
 * that the shapes agree. The arrays are used as given, not copied (labels given as a plain array
 * are converted to `Int32Array`).
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad types or label values, `SHAPE_MISMATCH`
 *   when `features.length ≠ n·frames·bins` or `files`/`audio` have the wrong length.
 */
export function createSplit(input: CreateSplitInput): Split {
  const o = checkOptions('input', input);
  if (!(o.features instanceof Float32Array)) {
    throw new KwsError('INVALID_ARGUMENT', 'features must be a Float32Array of [n, frames, bins] values');
  }
  const frames = checkInt('frames', o.frames, 1);
  const bins = checkInt('bins', o.bins, 1);
  if (!Array.isArray(o.labelNames) || o.labelNames.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', 'labelNames must be a non-empty array of class names');
  }
  const labelNames = o.labelNames as readonly string[];
  const labels = o.labels instanceof Int32Array ? o.labels : toLabelArray(o.labels);
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    if (y < 0 || y >= labelNames.length) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `labels[${i}] is ${y}; class indices must lie in [0, ${labelNames.length - 1}]`,
      );
    }
  }
  if (o.features.length !== n * frames * bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `features has ${o.features.length} values; ${n} examples × ${frames} frames × ${bins} bins need ${n * frames * bins}`,
    );
  }
  const files = o.files === undefined ? Array.from({ length: n }, (_, i) => `#${i}`) : [...o.files];
  if (files.length !== n) {
    throw new KwsError('SHAPE_MISMATCH', `files has ${files.length} entries; labels has ${n}`);
  }
  const split: Split = { features: o.features, frames, bins, labels, labelNames, files };
  if (o.audio !== undefined) {
    if (!Array.isArray(o.audio) || o.audio.length !== n) {
      throw new KwsError('SHAPE_MISMATCH', `audio must be an array of ${n} Float32Array clips`);
    }
    split.audio = o.audio;
  }
  return split;
}

function toLabelArray(labels: unknown): Int32Array {
  if (!Array.isArray(labels) || !labels.every((y) => Number.isInteger(y))) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'labels must be an Int32Array or an array of integer class indices',
    );
  }
  return Int32Array.from(labels as number[]);
}

/**
 * The features of example `index` as a `[frames × bins]` view into the split (not a copy).
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an index outside `[0, n)` or a split without
 *   features.
 */
export function exampleFeatures(split: Split, index: number): Float32Array {
  const n = splitSize(split);
  checkInt('index', index, 0, Math.max(0, n - 1));
  if (n === 0) throw new KwsError('INVALID_ARGUMENT', 'the split is empty');
  const size = checkFeatureShape(split);
  return split.features.subarray(index * size, (index + 1) * size);
}

/** One mini-batch from {@link batches}. */
export interface Batch {
  /** Features `[b, frames, bins]`, a fresh array (safe to hand to `tf.tensor3d`). */
  x: Float32Array;
  /** Class index of each example, `b` entries. */
  y: Int32Array;
  /** Which examples of the split these are. */
  indices: Int32Array;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Examples per batch, an integer ≥ 1. Default 32. */
  batchSize?: number;
  /** Shuffle the order (Fisher–Yates, seeded). Default `false`: examples in order. */
  shuffle?: boolean;
  /** Seed of the shuffle. Default 0; use a different seed per epoch (e.g. `seed + epoch`). */
  seed?: number;
  /** Drop the last batch if it is smaller than `batchSize`. Default `false`. */
  dropLast?: boolean;
  /**
   * The example indices to batch, in order (e.g. one epoch of a {@link balancedSampler});
   * may repeat indices. Default `0 … n−1`. `shuffle` applies on top.
   */
  order?: ArrayLike<number>;
}

/**
 * Mini-batches over one epoch of a split: every index of the order (by default each example
 * exactly once) lands in exactly one batch, except the tail when `dropLast` is set. Plain typed
 * arrays, no tensors: the training loop makes tensors (e.g. `tf.tensor3d(x, [b, frames, bins])`).
 *
 * @example
 * ```ts
 * for (const { x, y } of batches(data.splits.train!, { batchSize: 64, shuffle: true, seed: epoch })) {
 *   const xs = tf.tensor3d(x, [y.length, train.frames, train.bins]);
 * }
 * ```
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad options or indices, or a split without
 *   features.
 */
export function batches(split: Split, options?: BatchOptions): IterableIterator<Batch> {
  const o = checkOptions('options', options);
  const batchSize = checkInt('batchSize', o.batchSize ?? 32, 1);
  const shuffle = checkBoolean('shuffle', o.shuffle ?? false);
  const seed = checkNumber('seed', o.seed ?? 0);
  const dropLast = checkBoolean('dropLast', o.dropLast ?? false);
  const n = splitSize(split);
  const size = checkFeatureShape(split);
  let order: Int32Array;
  if (o.order === undefined) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    order = Int32Array.from(o.order as ArrayLike<number>);
    for (let k = 0; k < order.length; k++) {
      const i = o.order[k] as number;
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `order[${k}] is ${i}; indices must be integers in [0, ${n - 1}]`,
        );
      }
    }
  }
  if (shuffle) {
    const rng = createRng(seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
  }
  return iterateBatches(split, order, batchSize, dropLast, size);
}

function* iterateBatches(
  split: Split,
  order: Int32Array,
  batchSize: number,
  dropLast: boolean,
  size: number,
): Generator<Batch, void, undefined> {
  const end = dropLast ? order.length - (order.length % batchSize) : order.length;
  for (let start = 0; start < end; start += batchSize) {
    const indices = order.slice(start, Math.min(end, start + batchSize));
    const x = new Float32Array(indices.length * size);
    const y = new Int32Array(indices.length);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b] as number;
      x.set(split.features.subarray(i * size, (i + 1) * size), b * size);
      y[b] = split.labels[i] as number;
    }
    yield { x, y, indices };
  }
}

/** frames·bins, after checking the split has features consistent with its labels. */
function checkFeatureShape(split: Split): number {
  if (split === null || typeof split !== 'object' || !(split.labels instanceof Int32Array)) {
    throw new KwsError('INVALID_ARGUMENT', 'split must be a Split ({ features, frames, bins, labels, … })');
  }
  const size = split.frames * split.bins;
  if (!(split.features instanceof Float32Array) || !(size > 0)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'the split has no features (it was loaded with features: false); compute features first',
    );
  }
  if (split.features.length !== split.labels.length * size) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `split.features has ${split.features.length} values; ${split.labels.length} examples × ${split.frames} × ${split.bins} need ${split.labels.length * size}`,
    );
  }
  return size;
}
