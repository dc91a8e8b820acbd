/**
 * Trained-looking weights for a freshly built model, shared by the inference bench and the
 * compiled-runtime tests (bench/bc-resnet-inference.ts, test/models/conv-runtime.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/random.js';

/**
 * Gives a model's normalisations trained-looking statistics so that folding them is exercised
 * (a fresh model's are 0 and 1): moving means ~ N(0, 0.5²), moving variances uniform in
 * [0.3, 2], γ ~ 1 + N(0, 0.3²), β and biases ~ N(0, 0.2²). With `kernelNoise` > 0, also adds
 * N(0, kernelNoise²) to every other weight (the kernels). Seeded: the same `seed` gives the same
 * weights.
 */
export function randomStatistics(model: tfl.LayersModel, seed: number, kernelNoise = 0): void {
  const rng = createRng(seed);
  for (const w of model.weights) {
    const name = w.originalName;
    const values = Float32Array.from(w.read().dataSync() as Float32Array);
    for (let i = 0; i < values.length; i++) {
      if (name.endsWith('moving_mean')) values[i] = 0.5 * rng.normal();
      else if (name.endsWith('moving_variance')) values[i] = rng.uniform(0.3, 2);
      else if (name.endsWith('gamma')) values[i] = 1 + 0.3 * rng.normal();
      else if (name.endsWith('beta') || name.endsWith('bias')) values[i] = 0.2 * rng.normal();
      else if (kernelNoise > 0) values[i] = (values[i] as number) + kernelNoise * rng.normal();
    }
    const t = tf.tensor(values, w.shape as number[]);
    w.write(t);
    t.dispose();
  }
}
