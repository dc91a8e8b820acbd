import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { createOptimizer, type OptimizerOptions, type TrainingOptimizer } from '../../src/train/optimizer.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

/** Loss Σ c·w has the constant gradient c, so each update can be computed by hand. */
const C = [0.5, 3];
const W0 = [1, -2];

function run(options: OptimizerOptions, rates: number[], w0 = W0): number[] {
  const w = tf.tidy(() => tf.variable(tf.tensor1d(w0)));
  const c = tf.tensor1d(C);
  const opt = createOptimizer(options);
  for (const lr of rates) {
    opt.learningRate = lr;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(w, c)), [w]);
    opt.applyGradients([w], grads);
    value.dispose();
    tf.dispose(grads);
  }
  const out = Array.from(w.dataSync());
  opt.dispose();
  w.dispose();
  c.dispose();
  return out;
}

function expectClose(actual: number[], expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  for (const [i, a] of actual.entries()) expect(a).toBeCloseTo(expected[i] as number, digits);
}

describe('sgd (PyTorch SGD with momentum and weight decay)', () => {
  it('matches two hand-computed steps with a changing learning rate', () => {
    const wd = 0.01;
    const mu = 0.9;
    // Step 1 (lr 0.1): g = c + λw0, buffer = g, w1 = w0 − lr·buffer.
    const g1 = C.map((c, i) => c + wd * (W0[i] as number));
    const w1 = W0.map((w, i) => w - 0.1 * (g1[i] as number));
    // Step 2 (lr 0.05): g = c + λw1, buffer = μ·buffer + g.
    const b2 = C.map((c, i) => mu * (g1[i] as number) + c + wd * (w1[i] as number));
    const w2 = w1.map((w, i) => w - 0.05 * (b2[i] as number));
    expectClose(w1, [0.949, -2.298], 12);
    expectClose(w2, [0.9005755, -2.580951], 12);
    expectClose(run({ optimizer: 'sgd', momentum: mu, weightDecay: wd }, [0.1]), w1);
    expectClose(run({ optimizer: 'sgd', momentum: mu, weightDecay: wd }, [0.1, 0.05]), w2);
  });

  it('without momentum and decay is plain gradient descent', () => {
    expectClose(run({ optimizer: 'sgd', momentum: 0 }, [0.1, 0.1]), [1 - 0.1, -2 - 0.6]);
  });
});

describe('adam and adamw', () => {
  /** PyTorch's Adam/AdamW update in double precision, one learning rate per step. */
  function adamByHand(decoupled: boolean, rates: number[], wd: number): number[] {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const w = [...W0];
    const m = [0, 0];
    const v = [0, 0];
    rates.forEach((lr, k) => {
      const t = k + 1;
      for (let i = 0; i < 2; i++) {
        let g = C[i] as number;
        if (decoupled) w[i] = (w[i] as number) * (1 - lr * wd);
        else g += wd * (w[i] as number);
        m[i] = b1 * (m[i] as number) + (1 - b1) * g;
        v[i] = b2 * (v[i] as number) + (1 - b2) * g * g;
        const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - b2 ** t) + eps;
        w[i] = (w[i] as number) - (lr / (1 - b1 ** t)) * ((m[i] as number) / denom);
      }
    });
    return w;
  }

  it('adamw: decoupled decay w·(1 − lr·λ), then the Adam step (one step by hand)', () => {
    // m̂ = g and v̂ = g² after one step, so the Adam step is lr·g/(|g| + ε) ≈ lr·sign(g).
    const expected = [1 * (1 - 0.01 * 0.1) - 0.01, -2 * (1 - 0.01 * 0.1) - 0.01];
    expectClose(expected, [0.989, -2.008], 12);
    expectClose(run({ optimizer: 'adamw', weightDecay: 0.1 }, [0.01]), expected);
    expectClose(
      run({ optimizer: 'adamw', weightDecay: 0.1 }, [0.01, 0.005, 0.01]),
      adamByHand(true, [0.01, 0.005, 0.01], 0.1),
    );
  });

  it('adam: L2 decay coupled into the gradient, with bias correction over several steps', () => {
    expectClose(run({ optimizer: 'adam', weightDecay: 0.1 }, [0.01]), adamByHand(false, [0.01], 0.1));
    expectClose(
      run({ optimizer: 'adam', weightDecay: 0.1 }, [0.01, 0.01, 0.01, 0.01]),
      adamByHand(false, [0.01, 0.01, 0.01, 0.01], 0.1),
    );
    expectClose(run({ optimizer: 'adam' }, [0.01, 0.01]), adamByHand(false, [0.01, 0.01], 0));
    // Coupled and decoupled decay differ.
    expect(run({ optimizer: 'adam', weightDecay: 0.1 }, [0.01])[0]).not.toBeCloseTo(0.989, 6);
  });
});

describe('optimizer state', () => {
  for (const name of ['sgd', 'adam', 'adamw'] as const) {
    it(`${name}: getWeights → setWeights on a fresh optimizer continues bit-exactly`, async () => {
      const c = tf.tensor1d(C);
      const step = (opt: TrainingOptimizer, w: tf.Variable, lr: number): void => {
        opt.learningRate = lr;
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.square(w), c)), [w]);
        opt.applyGradients([w], grads);
        value.dispose();
        tf.dispose(grads);
      };
      const options: OptimizerOptions = { optimizer: name, weightDecay: 0.05 };
      const a = tf.tidy(() => tf.variable(tf.tensor1d(W0)));
      const optA = createOptimizer(options);
      for (const lr of [0.1, 0.05, 0.02, 0.01]) step(optA, a, lr);

      const b = tf.tidy(() => tf.variable(tf.tensor1d(W0)));
      const optB = createOptimizer(options);
      for (const lr of [0.1, 0.05]) step(optB, b, lr);
      const saved = await optB.getWeights();
      expect(saved[0]?.name).toBe('iter');
      expect(saved.length).toBe(name === 'sgd' ? 2 : 3);
      optB.dispose();
      const optC = createOptimizer(options);
      await optC.setWeights(saved);
      tf.dispose(saved.map((w) => w.tensor));
      expect(optC.iterations).toBe(2);
      for (const lr of [0.02, 0.01]) step(optC, b, lr);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      optA.dispose();
      optC.dispose();
      tf.dispose([a, b, c]);
    });
  }

  it('rejects a state that is not one', async () => {
    const opt = createOptimizer({ optimizer: 'adam' });
    const t = tf.scalar(1);
    await expect(opt.setWeights([{ name: 'm', tensor: t }])).rejects.toThrow(KwsError);
    const iter = tf.scalar(1, 'int32');
    await expect(
      opt.setWeights([
        { name: 'iter', tensor: iter },
        { name: 'x/m', tensor: t },
      ]),
    ).rejects.toThrow(KwsError);
    tf.dispose([t, iter]);
    opt.dispose();
  });
});

describe('createOptimizer validation', () => {
  it('throws KwsError for unknown names and out-of-range values', () => {
    const bad: unknown[] = [
      { optimizer: 'rmsprop' },
      { learningRate: -1 },
      { momentum: 1 },
      { momentum: -0.1 },
      { weightDecay: -1 },
      { optimizer: 'adam', beta1: 1 },
      { optimizer: 'adam', epsilon: 0 },
      'sgd',
    ];
    for (const o of bad) {
      let err: unknown;
      try {
        createOptimizer(o as OptimizerOptions);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KwsError);
      expect((err as KwsError).code).toBe('INVALID_ARGUMENT');
    }
  });
});
