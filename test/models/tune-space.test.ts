import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  checkSearchSpace,
  choiceParam,
  configKey,
  floatParam,
  intParam,
  sampleConfig,
  sampleParam,
} from '../../src/models/tune/search-space.js';
import { planSearch } from '../../src/models/tune/successive-halving.js';
import { tune } from '../../src/models/tune.js';
import { createRng } from '../../src/random.js';

async function expectKws(fn: () => unknown, code: string, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    expect((e as KwsError).code, (e as Error).message).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a KwsError');
}

const space = {
  width: floatParam(0.25, 1.5),
  learningRate: floatParam(1e-3, 0.3, { log: true }),
  nMels: choiceParam([40, 48, 80]),
  hiddenSize: intParam(4, 64, { log: true }),
  timeMasks: intParam(0, 2),
};

describe('search space', () => {
  it('samples reproducibly from a seed, differently from another seed, independent of key order', () => {
    const draw = (seed: number, s: typeof space) => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => configKey(sampleConfig(s, rng)));
    };
    const reordered = {
      timeMasks: space.timeMasks,
      nMels: space.nMels,
      width: space.width,
      hiddenSize: space.hiddenSize,
      learningRate: space.learningRate,
    };
    expect(draw(7, space)).toEqual(draw(7, space));
    expect(draw(7, reordered)).toEqual(draw(7, space));
    expect(draw(8, space)).not.toEqual(draw(7, space));
  });

  it('keeps every draw inside its range and type', () => {
    const rng = createRng(1);
    const seen = { int: new Set<number>(), lowLr: 0 };
    for (let i = 0; i < 2000; i++) {
      const c = sampleConfig(space, rng, { model: 'bc-resnet' });
      expect(c.model).toBe('bc-resnet');
      const w = c.width as number;
      expect(w >= 0.25 && w < 1.5).toBe(true);
      const lr = c.learningRate as number;
      expect(lr >= 1e-3 && lr <= 0.3).toBe(true);
      if (lr < 0.0173) seen.lowLr++; // below the geometric mean: half the mass on a log scale
      expect([40, 48, 80]).toContain(c.nMels);
      const h = c.hiddenSize as number;
      expect(Number.isInteger(h) && h >= 4 && h <= 64).toBe(true);
      seen.int.add(c.timeMasks as number);
    }
    expect([...seen.int].sort()).toEqual([0, 1, 2]);
    // Log-uniform: about half the draws fall below sqrt(1e-3 · 0.3) ≈ 0.0173.
    expect(seen.lowLr / 2000).toBeGreaterThan(0.45);
    expect(seen.lowLr / 2000).toBeLessThan(0.55);
  });

  it('int ranges of one value and log ints hit both ends', () => {
    const rng = createRng(3);
    expect(sampleParam(intParam(5, 5), rng)).toBe(5);
    expect(sampleParam(floatParam(2, 2), rng)).toBe(2);
    const values = new Set(
      Array.from({ length: 400 }, () => sampleParam(intParam(1, 4, { log: true }), rng)),
    );
    expect([...values].sort()).toEqual([1, 2, 3, 4]);
  });

  it('rejects empty, contradictory and unknown spaces with a KwsError naming the problem', async () => {
    await expectKws(() => checkSearchSpace({}), 'INVALID_ARGUMENT', /space is empty/);
    await expectKws(
      () => checkSearchSpace({ width: floatParam(1, 0.5) }),
      'INVALID_ARGUMENT',
      /width.*low \(1\) > high \(0.5\)/,
    );
    await expectKws(
      () => checkSearchSpace({ learningRate: floatParam(0, 0.1, { log: true }) }),
      'INVALID_ARGUMENT',
      /learningRate is log-scaled, so low must be > 0/,
    );
    await expectKws(
      () => checkSearchSpace({ nMels: choiceParam([]) }),
      'INVALID_ARGUMENT',
      /nMels is an empty choice/,
    );
    await expectKws(
      () => checkSearchSpace({ widht: floatParam(0, 1) }),
      'INVALID_ARGUMENT',
      /unknown option "widht"/,
    );
    await expectKws(
      () => checkSearchSpace({ nMels: intParam(32.5, 40) }),
      'INVALID_ARGUMENT',
      /must be integers/,
    );
    await expectKws(
      () => checkSearchSpace({ nMels: { type: 'normal', low: 1, high: 2 } }),
      'INVALID_ARGUMENT',
      /type "normal"/,
    );
    await expectKws(
      () =>
        checkSearchSpace({ x: floatParam(0, 1) }, ['x', 'y']).x &&
        checkSearchSpace({ z: floatParam(0, 1) }, ['x']),
      'INVALID_ARGUMENT',
      /unknown option "z"/,
    );
  });

  it('rejects a budget below one trial and epochs searched under halving', async () => {
    await expectKws(() => planSearch('random', { trials: 0 }), 'INVALID_ARGUMENT', /below one trial/);
    await expectKws(
      () => planSearch('halving', { trials: 9, minEpochs: 4, maxEpochs: 2 }),
      'INVALID_ARGUMENT',
      /maxEpochs \(2\) must be >= budget.minEpochs \(4\)/,
    );
    await expectKws(() => planSearch('halving', { trials: 9, eta: 1 }), 'INVALID_ARGUMENT', /eta/);
    await expectKws(
      () => planSearch('random', { trials: 2, eta: 3 }),
      'INVALID_ARGUMENT',
      /budget.eta does not apply/,
    );
    const objective = () => ({ accuracy: 0.5 });
    await expectKws(
      () => tune({ space: { width: floatParam(0.5, 1) }, budget: { trials: 0 }, objective, measure: false }),
      'INVALID_ARGUMENT',
      /below one trial/,
    );
    await expectKws(
      () => tune({ space: { epochs: intParam(1, 3) }, budget: { trials: 3 }, objective, measure: false }),
      'INVALID_ARGUMENT',
      /epochs cannot be searched or fixed under successive halving/,
    );
    await expectKws(
      () =>
        tune({
          space: { width: floatParam(0.5, 1) },
          base: { colour: 'red' },
          budget: { trials: 1 },
          objective,
        }),
      'INVALID_ARGUMENT',
      /base has an unknown option "colour"/,
    );
    await expectKws(
      () => tune({ space: { width: floatParam(0.5, 1) }, budget: { trials: 1 } }),
      'INVALID_ARGUMENT',
      /give data/,
    );
  });
});
