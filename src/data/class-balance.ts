/**
 * Class imbalance: counts, loss weights and a class-balanced sampling order.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { createRng, type Rng } from '../random.js';
import { checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import type { Split } from './dataset.js';

/** The part of a {@link Split} the functions here need. */
export type LabelledSet = Pick<Split, 'labels' | 'labelNames'>;

function checkLabelled(split: LabelledSet): number {
  if (
    split === null ||
    typeof split !== 'object' ||
    !(split.labels instanceof Int32Array) ||
    !Array.isArray(split.labelNames)
  ) {
    throw new KwsError('INVALID_ARGUMENT', 'split must have labels (Int32Array) and labelNames (array)');
  }
  return split.labelNames.length;
}

/**
 * Number of examples of each class: `counts[c]` = how many `labels` equal `c`, for every class
 * of `labelNames` (0 for classes without examples).
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a label outside `[0, labelNames.length)`.
 */
export function classCounts(split: LabelledSet): number[] {
  const classes = checkLabelled(split);
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < split.labels.length; i++) {
    const y = split.labels[i] as number;
    if (y < 0 || y >= classes) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `labels[${i}] is ${y}; class indices must lie in [0, ${classes - 1}]`,
      );
    }
    counts[y] = (counts[y] as number) + 1;
  }
  return counts;
}

/** Options of {@link classWeights}. */
export interface ClassWeightOptions {
  /**
   * `'inverse'` (default): w_c ∝ 1/n_c, which makes every class contribute equally to a
   * weighted loss. `'sqrt-inverse'`: w_c ∝ 1/√n_c, a milder correction.
   */
  scheme?: 'inverse' | 'sqrt-inverse';
}

/**
 * Per-class loss weights from the class counts n_c: w_c = r_c / mean(r) with r_c = 1/n_c
 * (`'inverse'`) or 1/√n_c (`'sqrt-inverse'`), the mean taken over classes that have examples,
 * so the weights of those classes average exactly 1. Classes without examples get weight 0
 * (they never occur in the loss).
 *
 * Example: counts [10, 30, 60] → inverse r = [0.1, 0.0333, 0.01667], mean 0.05, weights
 * [2, 0.6667, 0.3333].
 *
 * @returns one weight per class of `labelNames`.
 * @throws {@link KwsError} `EMPTY_INPUT` if the split has no examples, `INVALID_ARGUMENT` for a bad scheme.
 */
export function classWeights(split: LabelledSet, options?: ClassWeightOptions): number[] {
  const o = checkOptions('options', options);
  const scheme = checkChoice('scheme', o.scheme ?? 'inverse', ['inverse', 'sqrt-inverse'] as const);
  const counts = classCounts(split);
  const raw = counts.map((n) => (n === 0 ? 0 : scheme === 'inverse' ? 1 / n : 1 / Math.sqrt(n)));
  const present = counts.filter((n) => n > 0).length;
  if (present === 0) throw new KwsError('EMPTY_INPUT', 'the split has no examples to weight');
  const mean = raw.reduce((a, r) => a + r, 0) / present;
  return raw.map((r) => r / mean);
}

/** Options of {@link balancedSampler}. */
export interface BalancedSamplerOptions {
  /** Seed of the draws. Default 0. */
  seed?: number;
  /** Indices per epoch, an integer ≥ 1. Default: the split's size. */
  epochSize?: number;
}

/** Returns the next epoch's example indices each time it is called. */
export type BalancedSampler = () => Int32Array;

/**
 * A class-balanced sampler: each call returns one epoch of `epochSize` example indices in which
 * every class that has examples appears equally often (counts differ by at most one; the
 * classes that get the extra one are drawn at random), in shuffled order.
 *
 * Within a class, examples are drawn without replacement from a shuffled pool that is refilled
 * when used up, so small classes are repeated (oversampled) and large classes rotate through
 * all their examples over successive epochs (undersampled per epoch, not discarded). Feed an
 * epoch to {@link batches} as `order`.
 *
 * @throws {@link KwsError} `EMPTY_INPUT` for a split without examples, `INVALID_ARGUMENT` for bad options.
 */
export function balancedSampler(split: LabelledSet, options?: BalancedSamplerOptions): BalancedSampler {
  const o = checkOptions('options', options);
  const seed = checkNumber('seed', o.seed ?? 0);
  const counts = classCounts(split);
  const n = split.labels.length;
  if (n === 0) throw new KwsError('EMPTY_INPUT', 'the split has no examples to sample');
  const epochSize = checkInt('epochSize', o.epochSize ?? n, 1);
  const rng = createRng(seed);
  const pools: Int32Array[] = counts.map((c) => new Int32Array(c));
  const fill = new Array<number>(counts.length).fill(0);
  for (let i = 0; i < n; i++) {
    const y = split.labels[i] as number;
    (pools[y] as Int32Array)[fill[y] as number] = i;
    fill[y] = (fill[y] as number) + 1;
  }
  const classes = counts.flatMap((c, k) => (c > 0 ? [k] : []));
  // cursor[k] = next unused position in pool k; a full cursor triggers a reshuffle.
  const cursor = counts.map((c) => c);

  return () => {
    const base = Math.floor(epochSize / classes.length);
    const extra = epochSize - base * classes.length;
    const lucky = new Set(rng.shuffle([...classes]).slice(0, extra));
    const out = new Int32Array(epochSize);
    let at = 0;
    for (const k of classes) {
      const pool = pools[k] as Int32Array;
      const quota = base + (lucky.has(k) ? 1 : 0);
      for (let q = 0; q < quota; q++) {
        if ((cursor[k] as number) >= pool.length) {
          shuffleInPlace(pool, rng);
          cursor[k] = 0;
        }
        out[at++] = pool[cursor[k] as number] as number;
        cursor[k] = (cursor[k] as number) + 1;
      }
    }
    shuffleInPlace(out, rng);
    return out;
  };
}

function shuffleInPlace(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}
