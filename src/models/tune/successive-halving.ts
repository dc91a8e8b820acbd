/**
 * Budget plans of the search strategies. Seeded random search trains every sampled
 * configuration for the same number of epochs. Successive halving (Jamieson & Talwalkar,
 * AISTATS 2016; the rung schedule of ASHA, Li et al., MLSys 2020) trains many configurations
 * briefly and promotes the best 1/η of each rung to an η times longer budget:
 *
 *   rung k: epochs r_k = min(maxEpochs, minEpochs·η^k), configurations n_k = max(1, ⌊n / η^k⌋),
 *
 * until r_k reaches `maxEpochs`. A promoted configuration continues its run from its checkpoint,
 * so rung k costs n_k·(r_k − r_{k−1}) epochs and the whole plan Σ_k n_k·(r_k − r_{k−1}).
 * The rungs here are filled one after the other (synchronous halving), which makes the trial
 * sequence a function of the seed and the results alone.
 *
 * @packageDocumentation
 */
import { KwsError } from '../../errors.js';
import { checkInt, checkNumber, checkOptions } from '../../validate.js';

/** Search strategies of {@link tune}. */
export type TuneStrategy = 'random' | 'halving';

/** How much the search may spend. */
export interface TuneBudget {
  /**
   * Configurations that train (configurations pruned by a constraint or that cannot be built
   * are recorded but not counted). With successive halving: the configurations of the first
   * rung. An integer ≥ 1.
   */
  trials: number;
  /** Random search: epochs of every trial. Default 1. */
  epochs?: number;
  /** Successive halving: epochs of the first rung. Default 1. */
  minEpochs?: number;
  /** Successive halving: epochs of the last rung (≥ minEpochs). Default minEpochs·η². */
  maxEpochs?: number;
  /** Successive halving: reduction factor η (> 1): the best 1/η of a rung is promoted. Default 3. */
  eta?: number;
}

/** One rung of a plan. */
export interface Rung {
  /** Epochs a configuration has trained when it leaves this rung. */
  epochs: number;
  /** Configurations evaluated at this rung. */
  trials: number;
}

/** A strategy's schedule. */
export interface TunePlan {
  strategy: TuneStrategy;
  rungs: Rung[];
  /** Epochs the whole plan trains, counting a promoted configuration's continuation only. */
  totalEpochs: number;
  eta: number;
}

/**
 * The rungs of `strategy` under `budget` (random search: one rung).
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a budget below one trial (trials < 1,
 *   epochs < 1), maxEpochs < minEpochs, η ≤ 1 or unknown budget fields.
 */
export function planSearch(strategy: TuneStrategy, budget: TuneBudget): TunePlan {
  const b = checkOptions('budget', budget);
  const allowed = strategy === 'random' ? ['trials', 'epochs'] : ['trials', 'minEpochs', 'maxEpochs', 'eta'];
  for (const key of Object.keys(b)) {
    if (!allowed.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `budget.${key} does not apply to the '${strategy}' strategy; allowed: ${allowed.join(', ')}`,
      );
    }
  }
  if (typeof b.trials !== 'number' || !(b.trials >= 1)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `budget.trials must be an integer >= 1 (a budget below one trial cannot search); got ${String(b.trials)}`,
    );
  }
  const trials = checkInt('budget.trials', b.trials, 1);
  if (strategy === 'random') {
    const epochs = checkInt('budget.epochs', b.epochs ?? 1, 1);
    return { strategy, rungs: [{ epochs, trials }], totalEpochs: trials * epochs, eta: 1 };
  }
  const eta = checkNumber('budget.eta', b.eta ?? 3, 1, Number.POSITIVE_INFINITY, true);
  const minEpochs = checkInt('budget.minEpochs', b.minEpochs ?? 1, 1);
  const maxEpochs = checkInt('budget.maxEpochs', b.maxEpochs ?? Math.round(minEpochs * eta * eta), 1);
  if (maxEpochs < minEpochs) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `budget.maxEpochs (${maxEpochs}) must be >= budget.minEpochs (${minEpochs})`,
    );
  }
  const rungs: Rung[] = [];
  for (let k = 0; ; k++) {
    const epochs = Math.min(maxEpochs, Math.round(minEpochs * eta ** k));
    const n = Math.max(1, Math.floor(trials / eta ** k + 1e-9));
    const previous = rungs[rungs.length - 1];
    // Stop when another rung would not train longer (η close to 1 with few epochs).
    if (previous !== undefined && epochs <= previous.epochs) break;
    rungs.push({ epochs, trials: n });
    if (epochs >= maxEpochs) break;
  }
  let totalEpochs = 0;
  let before = 0;
  for (const r of rungs) {
    totalEpochs += r.trials * (r.epochs - before);
    before = r.epochs;
  }
  return { strategy, rungs, totalEpochs, eta };
}

/** A finished evaluation as promotion sees it. */
export interface RungResult {
  /** Trial index (order of sampling). */
  trial: number;
  /** Objective value; null for a trial that did not train. */
  accuracy: number | null;
}

/**
 * The `count` trials to promote from a rung: the highest accuracies, ties broken by the earlier
 * trial; trials without an accuracy are never promoted.
 */
export function promote(results: readonly RungResult[], count: number): number[] {
  return results
    .filter(
      (r): r is { trial: number; accuracy: number } => r.accuracy !== null && Number.isFinite(r.accuracy),
    )
    .sort((a, b) => b.accuracy - a.accuracy || a.trial - b.trial)
    .slice(0, Math.max(0, count))
    .map((r) => r.trial);
}
