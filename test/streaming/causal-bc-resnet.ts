/**
 * Test fixtures for stateful conv streaming: a random BC-ResNet made to look trained, and
 * log-mel-like features.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/random.js';

export const MELS = 40;

/**
 * Makes a random model look trained, so that normalisation is not the identity and activations
 * have a trained network's scale: seeded noise on every kernel, then the moving statistics of
 * every BatchNormalization / SubSpectralNorm set from a training-mode pass over `x` (as training
 * would, momentum 0 for that pass), then perturbed (mean ± 0.3σ, variance × [0.6, 1.6]) with
 * γ ≈ 1 ± 0.3, β ± 0.2, biases ± 0.2.
 */
export function pretendTrained(model: tfl.LayersModel, seed: number, x: Float32Array, frames: number): void {
  const rng = createRng(seed);
  const edit = (
    keep: (name: string) => boolean,
    f: (name: string, v: number, i: number, all: Float32Array) => number,
  ) => {
    for (const w of model.weights) {
      if (!keep(w.originalName)) continue;
      const values = Float32Array.from(w.read().dataSync() as Float32Array);
      const old = values.slice();
      for (let i = 0; i < values.length; i++) values[i] = f(w.originalName, values[i] as number, i, old);
      const t = tf.tensor(values, w.shape as number[]);
      w.write(t);
      t.dispose();
    }
  };
  const isNorm = (name: string): boolean => /(gamma|beta|moving_mean|moving_variance)$/.test(name);
  edit(
    (n) => !isNorm(n),
    (n, v) => (n.endsWith('bias') ? 0.2 * rng.normal() : v + 0.05 * rng.normal()),
  );
  edit(isNorm, (n, v) =>
    n.endsWith('gamma') ? 1 + 0.3 * rng.normal() : n.endsWith('beta') ? 0.2 * rng.normal() : v,
  );
  type WithMomentum = { momentum: number };
  const norms = model.layers.filter((l) => /BatchNormalization|SubSpectralNorm/.test(l.getClassName()));
  const momenta = norms.map((l) => (l as unknown as WithMomentum).momentum);
  for (const l of norms) (l as unknown as WithMomentum).momentum = 0;
  tf.tidy(() => {
    model.apply(tf.tensor3d(x, [1, frames, MELS]), { training: true });
  });
  norms.forEach((l, i) => {
    (l as unknown as WithMomentum).momentum = momenta[i] as number;
  });
  const variances = new Map<string, Float32Array>();
  for (const w of model.weights) {
    if (w.originalName.endsWith('moving_variance')) {
      variances.set(w.originalName.replace(/moving_variance$/, ''), w.read().dataSync() as Float32Array);
    }
  }
  edit(
    (n) => /moving_(mean|variance)$/.test(n),
    (n, v, i) => {
      if (n.endsWith('moving_variance')) return v * rng.uniform(0.6, 1.6);
      const variance = variances.get(n.replace(/moving_mean$/, ''))?.[i] ?? 1;
      return v + 0.3 * Math.sqrt(variance) * rng.normal();
    },
  );
}

/** Log-mel-like features: seeded normal values around −4 with slow changes over time. */
export function features(frames: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(frames * MELS);
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < MELS; m++) x[t * MELS + m] = -4 + 2 * Math.sin(t / 7 + m / 5) + rng.normal();
  }
  return x;
}
