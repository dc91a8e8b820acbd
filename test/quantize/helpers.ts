import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet, crnn } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';

/** Seeded N(0, σ²) values. */
export function normals(n: number, seed: number, sigma = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * rng.normal();
  return out;
}

/** Seeded random inputs `[n, ...shape]`. */
export function randomInputs(n: number, shape: readonly number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, n);
  return tf.tensor(normals(size, seed), [n, ...shape]);
}

/**
 * Inputs `[n, frames, mels]` that differ per example like words do: N(0, 1) noise plus a seeded
 * per-example spectral profile N(0, 2²) held over time.
 */
export function spectra(n: number, [frames, mels]: readonly [number, number], seed: number): tf.Tensor {
  const x = normals(n * frames * mels, seed);
  const profile = normals(n * mels, seed + 1000, 2);
  for (let a = 0; a < n; a++) {
    for (let t = 0; t < frames; t++) {
      for (let f = 0; f < mels; f++) {
        const i = (a * frames + t) * mels + f;
        x[i] = (x[i] as number) + (profile[a * mels + f] as number);
      }
    }
  }
  return tf.tensor(x, [n, frames, mels]);
}

/** Sets every weight of a model to seeded random values (moving variances positive). */
export function randomizeWeights(model: tfl.LayersModel, seed: number, sigma = 0.5): void {
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const positive = w.originalName.includes('moving_variance');
    for (let i = 0; i < n; i++) data[i] = positive ? rng.uniform(0.5, 1.5) : sigma * rng.normal();
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Dense 20 → 64 (relu) → 32 (relu) → 5: kernels dominate the bytes (3,488 of 3,589 weights). */
export function mlp(seed = 1): tfl.LayersModel {
  const model = tfl.sequential({
    name: 'mlp',
    layers: [
      tfl.layers.dense({ inputShape: [20], units: 64, activation: 'relu', name: 'fc1' }),
      tfl.layers.dense({ units: 32, activation: 'relu', name: 'fc2' }),
      tfl.layers.dense({ units: 5, name: 'out' }),
    ],
  });
  randomizeWeights(model, seed, 0.3);
  return model;
}

/** Conv2D + BatchNormalization + Dense on [6, 8, 1] inputs, every weight seeded random. */
export function convNet(seed = 2): tfl.LayersModel {
  const model = tfl.sequential({
    name: 'convnet',
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.reLU({ name: 'relu' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 3, name: 'logits' }),
    ],
  });
  randomizeWeights(model, seed);
  return model;
}

/** Frames of the small BC-ResNet used in tests (any length works: time padding is 'same'). */
export const BC_FRAMES = 16;

/**
 * Gives every normalization weight trained-looking seeded values (γ, σ² in [0.5, 1.5], β and μ
 * N(0, 0.1²)) and leaves the kernels at their seeded initialisation.
 */
export function perturbNorms(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    if (!['gamma', 'beta', 'moving_mean', 'moving_variance'].includes(kind)) return tf.clone(w.read());
    const data = new Float32Array(n);
    const scale = kind === 'gamma' || kind === 'moving_variance';
    for (let i = 0; i < n; i++) data[i] = scale ? rng.uniform(0.5, 1.5) : 0.1 * rng.normal();
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/**
 * BC-ResNet τ = 0.25 on [16, 40] inputs, He-initialised kernels, trained-looking norms. With
 * `spreadOn`, the classifier's batch norm takes the statistics of those inputs and the logits are
 * centred on them, so that predictions spread over several classes as a trained model's do (an
 * untrained one predicts the same class for every input, which makes top-1 agreement vacuous).
 */
export function smallBcResNet(spreadOn?: tf.Tensor): tfl.LayersModel {
  const model = bcResNet({ width: 0.25, seed: 3, inputShape: [BC_FRAMES, 40], dropout: 0 });
  perturbNorms(model, 4);
  if (spreadOn !== undefined) {
    tf.tidy(() => {
      const bn = model.getLayer('classifier_bn');
      const bnInput = bn.inboundNodes[0]?.inputTensors[0] as tfl.SymbolicTensor;
      const h = tfl.model({ inputs: model.inputs, outputs: bnInput }).predict(spreadOn) as tf.Tensor;
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const [gamma, beta] = bn.getWeights();
      bn.setWeights([gamma as tf.Tensor, beta as tf.Tensor, mean, variance]);
      const pooled = model.getLayer('classifier_time_mean').output as tfl.SymbolicTensor;
      const features = tfl.model({ inputs: model.inputs, outputs: pooled }).predict(spreadOn) as tf.Tensor;
      const logits = model.getLayer('logits');
      const [kernel] = logits.getWeights();
      const centre = tf.matMul(tf.mean(features, 0, true), kernel as tf.Tensor2D);
      logits.setWeights([kernel as tf.Tensor, tf.reshape(tf.neg(centre), [-1])]);
    });
  }
  return model;
}

/** Input shape of {@link smallCrnn}. */
export const CRNN_INPUT = [40, 20] as const;

/** A small CRNN: conv 4 channels, GRU 8 units × 2, attention, 12 classes. */
export function smallCrnn(): tfl.LayersModel {
  return crnn({
    hiddenSize: 8,
    convChannels: 4,
    inputShape: [...CRNN_INPUT],
    kernelSize: [8, 5],
    stride: [4, 2],
    seed: 5,
  });
}

/** Predictions of a model as a plain array (no tensors left behind). */
export function predictData(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array).slice();
}

/** Reads a saved model folder into artifacts exactly as a browser fetch would hand them to tfjs. */
export async function readModelFolder(dir: string): Promise<tf.io.ModelArtifacts> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const group = json.weightsManifest[0] as { paths: string[]; weights: tf.io.WeightsManifestEntry[] };
  const parts = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
  const all = Buffer.concat(parts);
  return {
    modelTopology: json.modelTopology,
    weightSpecs: group.weights,
    // A Node Buffer must not be handed to tfjs: copy into a plain ArrayBuffer.
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  };
}
