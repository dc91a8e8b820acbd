/** Tiny synthetic data and models for the training tests (no files, fast on cpu). */
import * as tfl from '@tensorflow/tfjs-layers';
import { createSplit, type Split } from '../../src/data/index.js';
import { createRng } from '../../src/random.js';

export const LABELS = ['low', 'mid', 'high'];

/**
 * `n` examples of `frames × bins` features: noise N(0, noise²) plus +1 over a band of bins that
 * depends on the class (class c lights bins [c·bins/3, (c+1)·bins/3)), in every frame.
 */
export function bandSplit(n: number, seed: number, frames = 6, bins = 9, noise = 0.5): Split {
  const rng = createRng(seed);
  const features = new Float32Array(n * frames * bins);
  const labels = new Int32Array(n);
  const band = Math.floor(bins / 3);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let t = 0; t < frames; t++) {
      for (let m = 0; m < bins; m++) {
        const on = m >= c * band && m < (c + 1) * band ? 1 : 0;
        features[(i * frames + t) * bins + m] = on + noise * rng.normal();
      }
    }
  }
  return createSplit({ features, frames, bins, labels, labelNames: LABELS });
}

/** Dense per frame → mean over frames → logits. Input `[batch, frames, bins]`. */
export function denseModel(frames = 6, bins = 9, seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [frames, bins] });
  let x = tfl.layers
    .dense({ units: 8, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling1d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** 3×3 conv + batch norm + ReLU → global mean → logits. Input `[batch, frames, bins, 1]`. */
export function convModel(frames = 6, bins = 9, seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [frames, bins, 1] });
  let x = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: tfl.initializers.heNormal({ seed }),
    })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Every weight of a model as plain arrays (for bit-exact comparisons). */
export function weightValues(model: tfl.LayersModel): Float32Array[] {
  return model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
}
