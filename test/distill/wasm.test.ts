import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attentionKdLoss,
  createHintProjection,
  hintLoss,
  kdLoss,
  logitMse,
  mixedKdLoss,
  softCrossEntropy,
} from '../../src/distill/index.js';
import { maxAbsDiff, useCpu } from './helpers.js';

/** Every loss's value and gradient w.r.t. its student input, on the current backend. */
function valuesAndGrads(): number[] {
  return tf.tidy(() => {
    const s = tf.tensor2d([
      [1, 2, 3],
      [0.5, -1, 2],
    ]);
    const t = tf.tensor2d([
      [3, 1, 0],
      [1, 1, 1],
    ]);
    const sa = tf.tensor2d([
      [0.2, 0.3, 0.5],
      [0.6, 0.3, 0.1],
    ]);
    const ta = tf.tensor2d([
      [0.1, 0.2, 0.3, 0.2, 0.2],
      [0.5, 0.1, 0.1, 0.1, 0.2],
    ]);
    const proj = createHintProjection(3, 3, { seed: 1 });
    const cases: [tf.Tensor, (x: tf.Tensor) => tf.Scalar][] = [
      [s, (x) => kdLoss(x, t)],
      [s, (x) => mixedKdLoss(x, t, [2, 0], { classWeights: [1, 2, 3], labelSmoothing: 0.1 })],
      [s, (x) => softCrossEntropy(x, t, { temperature: 2 })],
      [s, (x) => logitMse(x, t)],
      [sa, (x) => attentionKdLoss(x, ta, { resample: 'linear' })],
      [sa, (x) => attentionKdLoss(x, ta)],
      [s, (x) => hintLoss(x, t, proj)],
    ];
    const out = cases.flatMap(([x, f]) => {
      const { value, grad } = tf.valueAndGrad(f)(x);
      return [value.dataSync()[0] as number, ...grad.dataSync()];
    });
    proj.dispose();
    return out;
  });
}

afterAll(useCpu);

describe('losses on the wasm backend', () => {
  it('give the same values and gradients as on cpu', async () => {
    await useCpu();
    const cpu = valuesAndGrads();
    expect(await tf.setBackend('wasm')).toBe(true);
    const before = tf.memory().numTensors;
    const wasm = valuesAndGrads();
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-5);
  });
});
