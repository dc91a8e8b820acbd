import { describe, expect, it } from 'vitest';
import { choiceParam, floatParam, type TrialConfig } from '../../src/models/tune/search-space.js';
import { planSearch, promote } from '../../src/models/tune/successive-halving.js';
import { type TrialBudget, type TuneOptions, tune } from '../../src/models/tune.js';

/** Known optimum at x = 0.3, y = 'b'; more epochs raise every configuration alike (ranks kept). */
function quality(config: TrialConfig): number {
  const x = config.x as number;
  return 1 - (x - 0.3) ** 2 - (config.y === 'b' ? 0 : 0.1);
}

function synthetic() {
  const calls: { trial: number; budget: TrialBudget }[] = [];
  const objective: TuneOptions['objective'] = (config, budget, ctx) => {
    calls.push({ trial: ctx.trial, budget });
    return { accuracy: quality(config) * (1 - 1 / (budget.epochs + 1)) };
  };
  return { calls, objective };
}

const base: Omit<TuneOptions, 'objective'> = {
  space: { x: floatParam(0, 1), y: choiceParam(['a', 'b', 'c']) },
  extraOptionNames: ['x', 'y'],
  budget: { trials: 27, minEpochs: 1, maxEpochs: 9, eta: 3 },
  measure: false,
  logger: 'silent',
};

describe('successive halving', () => {
  it('plans rungs n/η^k at minEpochs·η^k and counts continued epochs only', () => {
    const plan = planSearch('halving', { trials: 27, minEpochs: 1, maxEpochs: 9, eta: 3 });
    expect(plan.rungs).toEqual([
      { epochs: 1, trials: 27 },
      { epochs: 3, trials: 9 },
      { epochs: 9, trials: 3 },
    ]);
    expect(plan.totalEpochs).toBe(27 * 1 + 9 * 2 + 3 * 6);
    expect(planSearch('halving', { trials: 10, minEpochs: 2, maxEpochs: 10, eta: 2 }).rungs).toEqual([
      { epochs: 2, trials: 10 },
      { epochs: 4, trials: 5 },
      { epochs: 8, trials: 2 },
      { epochs: 10, trials: 1 },
    ]);
    expect(planSearch('random', { trials: 5, epochs: 4 })).toMatchObject({
      totalEpochs: 20,
      rungs: [{ epochs: 4, trials: 5 }],
    });
    expect(
      promote(
        [
          { trial: 0, accuracy: 0.5 },
          { trial: 1, accuracy: 0.9 },
          { trial: 2, accuracy: 0.5 },
          { trial: 3, accuracy: null },
        ],
        2,
      ),
    ).toEqual([1, 0]);
  });

  it('promotes the best third of each rung, spends exactly the plan and finds the optimum region', async () => {
    const { calls, objective } = synthetic();
    const result = await tune({ ...base, objective, seed: 11 });
    expect(result.objectiveCalls).toBe(27 + 9 + 3);
    expect(calls.reduce((a, c) => a + c.budget.epochs - c.budget.previousEpochs, 0)).toBe(
      result.plan.totalEpochs,
    );
    expect(result.plan.totalEpochs).toBe(63);
    for (let rung = 1; rung < 3; rung++) {
      const previous = result.evaluations.filter((e) => e.rung === rung - 1);
      const expected = [...previous]
        .sort((a, b) => (b.accuracy as number) - (a.accuracy as number) || a.trial - b.trial)
        .slice(0, rung === 1 ? 9 : 3)
        .map((e) => e.trial)
        .sort((a, b) => a - b);
      const promoted = result.evaluations.filter((e) => e.rung === rung).map((e) => e.trial);
      expect(promoted).toEqual(expected);
      // A promoted trial continues from the epochs of its previous rung.
      for (const c of calls.filter((c) => c.budget.rung === rung)) {
        expect(c.budget.previousEpochs).toBe(rung === 1 ? 1 : 3);
      }
    }
    const best = result.best!;
    expect(best.epochs).toBe(9);
    expect(best.config.y).toBe('b');
    expect(Math.abs((best.config.x as number) - 0.3)).toBeLessThan(0.1);
    // The best of all 27 sampled configurations by the known quality is the one found.
    const all = result.trials.map((t) => ({ id: t.id, q: quality(t.config) })).sort((a, b) => b.q - a.q);
    expect(best.id).toBe(all[0]!.id);
    expect(result.trials).toHaveLength(27);
    expect(result.trials.filter((t) => t.epochs === 9)).toHaveLength(3);
  });

  it('same seed gives the same sequence and result; another seed another sequence', async () => {
    const a = await tune({ ...base, objective: synthetic().objective, seed: 5 });
    const b = await tune({ ...base, objective: synthetic().objective, seed: 5 });
    const c = await tune({ ...base, objective: synthetic().objective, seed: 6 });
    const seq = (r: typeof a) => r.evaluations.map((e) => [e.trial, e.rung, e.config, e.accuracy]);
    expect(seq(b)).toEqual(seq(a));
    expect(b.best?.config).toEqual(a.best?.config);
    expect(seq(c)).not.toEqual(seq(a));
  });

  it('random search trains every trial for budget.epochs', async () => {
    const { calls, objective } = synthetic();
    const result = await tune({
      ...base,
      strategy: 'random',
      budget: { trials: 6, epochs: 2 },
      objective,
      seed: 1,
    });
    expect(calls.map((c) => c.budget)).toEqual(
      Array.from({ length: 6 }, () => ({ epochs: 2, previousEpochs: 0, rung: 0 })),
    );
    expect(result.trials.every((t) => t.epochs === 2 && t.status === 'ok')).toBe(true);
    const top = Math.max(...result.trials.map((t) => t.accuracy as number));
    expect(result.best?.accuracy).toBe(top);
  });

  it('stops between trials when the signal aborts, and reports progress as JSON lines', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const streams = {
      stdout: { write: (t: string) => lines.push(t) },
      stderr: { write: () => true, isTTY: false },
    };
    let n = 0;
    const result = await tune({
      ...base,
      logger: 'auto',
      streams,
      signal: controller.signal,
      objective: (config) => {
        if (++n === 4) controller.abort();
        return { accuracy: quality(config) };
      },
    });
    expect(result.stopped).toBe(true);
    expect(result.evaluations).toHaveLength(3);
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ type: 'trial', id: 't0000', rung: 0, done: 1, total: 39, status: 'ok' });
  });
});
