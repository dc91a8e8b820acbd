/**
 * Learning-rate schedules, evaluated per optimisation step (not per epoch): a linear warm-up
 * from about 0 to the peak rate, then either a cosine decay towards 0 or a constant rate.
 * This is the schedule of the BC-ResNet paper's recipe (warm-up over 5 epochs, then cosine).
 *
 * @packageDocumentation
 */
import { checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';

/** Shape of the rate after the warm-up. */
export type ScheduleKind = 'cosine' | 'constant';

/** Options of {@link learningRateSchedule}. */
export interface LearningRateScheduleOptions {
  /** Peak learning rate η, reached at the end of the warm-up; a finite number > 0. */
  peak: number;
  /** Total optimisation steps of the run, T (epochs × batches per epoch); an integer ≥ 1. */
  totalSteps: number;
  /**
   * Warm-up steps W, an integer ≥ 0 (clamped to T). Default 0. A warm-up given in epochs is
   * `round(warmupEpochs × stepsPerEpoch)`.
   */
  warmupSteps?: number;
  /** `'cosine'` (default) or `'constant'` after the warm-up. */
  kind?: ScheduleKind;
}

/** Learning rate of step `s` (0-based, `0 ≤ s < totalSteps`). */
export type LearningRateSchedule = (step: number) => number;

/**
 * A per-step learning-rate schedule. For step s = 0 … T−1 with warm-up W:
 *
 * - warm-up, s < W: η·(s + 1)/W (the first step uses η/W, the last warm-up step η);
 * - `'cosine'`, s ≥ W: η·½·(1 + cos(π·(s − W)/(T − W))): η at the first step after the
 *   warm-up, falling along a half cosine to η·½·(1 + cos(π·(T−W−1)/(T−W))) ≈ η·π²/(4(T−W)²) at
 *   the last step, i.e. reaching 0 exactly one step after the end (no step is wasted at rate 0);
 * - `'constant'`, s ≥ W: η.
 *
 * Steps past the end are clamped to the last step.
 *
 * @example
 * ```ts
 * const lr = learningRateSchedule({ peak: 0.1, totalSteps: 100, warmupSteps: 10 });
 * lr(0); // 0.01
 * lr(9); // 0.1
 * lr(10); // 0.1
 * lr(55); // 0.05
 * ```
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a bad option.
 */
export function learningRateSchedule(options: LearningRateScheduleOptions): LearningRateSchedule {
  const o = checkOptions('options', options);
  const peak = checkNumber('peak', o.peak, 0, Number.POSITIVE_INFINITY, true);
  const total = checkInt('totalSteps', o.totalSteps, 1);
  const warmup = Math.min(total, checkInt('warmupSteps', o.warmupSteps ?? 0, 0));
  const kind = checkChoice<ScheduleKind>('kind', o.kind ?? 'cosine', ['cosine', 'constant']);
  return (step: number): number => {
    const s = Math.min(Math.max(0, Math.floor(step)), total - 1);
    if (s < warmup) return (peak * (s + 1)) / warmup;
    if (kind === 'constant') return peak;
    return 0.5 * peak * (1 + Math.cos((Math.PI * (s - warmup)) / (total - warmup)));
  };
}
