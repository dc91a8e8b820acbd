import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { bcResNet } from '../../src/models/index.js';
import { foldBatchNorm } from '../../src/quantize/bn-fold.js';
import { createRng } from '../../src/random.js';
import { predictData, randomInputs, randomizeWeights, smallCrnn, spectra } from './helpers.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** Largest |a − b| relative to the largest |a|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let top = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    top = Math.max(top, Math.abs(a[i] as number));
  }
  return diff / top;
}

/** Trained-looking norm statistics: γ ∈ [0.5, 2], β, μ ~ N(0, 0.5²), σ² ∈ [0.2, 3]. */
function randomizeNorms(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    if (!['gamma', 'beta', 'moving_mean', 'moving_variance'].includes(kind)) return tf.clone(w.read());
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (kind === 'gamma') data[i] = rng.uniform(0.5, 2);
      else if (kind === 'moving_variance') data[i] = rng.uniform(0.2, 3);
      else data[i] = 0.5 * rng.normal();
    }
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

describe('foldBatchNorm', () => {
  it('folds a Conv2D + BN exactly as the formula says (hand-checked channel)', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [3, 3, 1], filters: 2, kernelSize: 1, useBias: false, name: 'conv' }),
        tfl.layers.batchNormalization({ epsilon: 0.25, name: 'bn' }),
      ],
    });
    const w = [
      tf.tensor([2, -3], [1, 1, 1, 2]),
      tf.tensor([3, 1]),
      tf.tensor([1, 0.5]),
      tf.tensor([4, 5]),
      tf.tensor([0.75, 3.75]),
    ];
    model.getLayer('conv').setWeights([w[0] as tf.Tensor]);
    model.getLayer('bn').setWeights(w.slice(1));
    tf.dispose(w);
    const before = tf.memory().numTensors;
    const { model: folded, folded: merged, unfolded } = foldBatchNorm(model);
    expect(merged).toEqual([{ norm: 'bn', into: 'conv', className: 'Conv2D' }]);
    expect(unfolded).toEqual([]);
    expect(folded.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D']);
    const [kernel, bias] = folded.getLayer('conv').getWeights();
    // a = γ/√(σ² + ε): channel 0: 3/√1 = 3, channel 1: 1/√4 = 0.5.
    expect(Array.from((kernel as tf.Tensor).dataSync())).toEqual([6, -1.5]);
    // b' = a·(0 − μ) + β: 3·(−4) + 1 = −11, 0.5·(−5) + 0.5 = −2.
    expect(Array.from((bias as tf.Tensor).dataSync())).toEqual([-11, -2]);
    folded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('keeps seeded BC-ResNet-1 predictions within 1e-5 relative and lists the SubSpectralNorms', () => {
    const model = bcResNet({ width: 1, seed: 7, inputShape: [24, 40], dropout: 0 });
    randomizeNorms(model, 8);
    const x = spectra(3, [24, 40], 9);
    const before = tf.memory().numTensors;
    const result = foldBatchNorm(model);
    const bnCount = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    expect(result.folded.length).toBe(bnCount);
    expect(result.folded).toContainEqual({ norm: 'stem_bn', into: 'stem_conv', className: 'SpectralConv' });
    expect(result.folded).toContainEqual({
      norm: 'classifier_bn',
      into: 'classifier_pw',
      className: 'Dense',
    });
    expect(result.folded).toContainEqual({
      norm: 'stage1_block1_time_bn',
      into: 'stage1_block1_time_conv',
      className: 'TemporalConv',
    });
    const ssn = model.layers.filter((l) => l.getClassName() === 'SubSpectralNorm').map((l) => l.name);
    expect(ssn.length).toBeGreaterThan(0);
    expect(result.unfolded.map((u) => u.layer)).toEqual(ssn);
    expect(result.unfolded[0]?.reason).toMatch(/sub-band/);
    expect(result.model.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    const a = predictData(model, x);
    const b = predictData(result.model, x);
    expect(relativeError(a, b)).toBeLessThan(1e-5);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('passes a CRNN (no batch norm) through with identical predictions', () => {
    const model = smallCrnn();
    const x = spectra(2, [40, 20], 3);
    const result = foldBatchNorm(model);
    expect(result.folded).toEqual([]);
    expect(result.unfolded).toEqual([]);
    expect(Array.from(predictData(result.model, x))).toEqual(Array.from(predictData(model, x)));
    result.model.dispose();
    x.dispose();
    model.dispose();
  });

  it('folds a CRNN with batch norms after its conv and its logits layer, within 1e-5', () => {
    const input = tfl.input({ shape: [12, 10] });
    let h = tfl.layers.reshape({ targetShape: [12, 10, 1] }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers
      .conv2d({ filters: 4, kernelSize: [3, 3], strides: [2, 2], name: 'conv' })
      .apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization({ name: 'conv_bn' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reshape({ targetShape: [5, 16] }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers
      .gru({ units: 6, returnSequences: false, recurrentInitializer: 'glorotUniform', name: 'gru' })
      .apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.dense({ units: 3, name: 'logits' }).apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.batchNormalization({ name: 'logits_bn' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 4);
    randomizeNorms(model, 5);
    const x = randomInputs(4, [12, 10], 6);
    const result = foldBatchNorm(model);
    expect(result.folded.map((f) => f.norm)).toEqual(['conv_bn', 'logits_bn']);
    expect(relativeError(predictData(model, x), predictData(result.model, x))).toBeLessThan(1e-5);
    result.model.dispose();
    x.dispose();
    model.dispose();
  });

  it('folds DepthwiseConv2D with a depth multiplier, and leaves norms that do not follow a linear layer', () => {
    const input = tfl.input({ shape: [5, 5, 3] });
    let h = tfl.layers
      .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' })
      .apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization({ name: 'dw_bn' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU({ name: 'relu' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.batchNormalization({ name: 'after_relu_bn' }).apply(h) as tfl.SymbolicTensor;
    const c = tfl.layers
      .conv2d({ filters: 2, kernelSize: 1, activation: 'relu', name: 'conv_relu' })
      .apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.batchNormalization({ name: 'after_act_bn' }).apply(c) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 10);
    randomizeNorms(model, 11);
    const x = randomInputs(2, [5, 5, 3], 12);
    const result = foldBatchNorm(model);
    expect(result.folded).toEqual([{ norm: 'dw_bn', into: 'dw', className: 'DepthwiseConv2D' }]);
    expect(result.unfolded.map((u) => u.layer)).toEqual(['after_relu_bn', 'after_act_bn']);
    expect(result.unfolded[0]?.reason).toMatch(/relu \(ReLU\)/);
    expect(result.unfolded[1]?.reason).toMatch(/activation relu/);
    expect(relativeError(predictData(model, x), predictData(result.model, x))).toBeLessThan(1e-5);
    result.model.dispose();
    x.dispose();
    model.dispose();
  });

  it('does not fold when the conv output is read elsewhere too', () => {
    const input = tfl.input({ shape: [4] });
    const d = tfl.layers.dense({ units: 3, name: 'fc' }).apply(input) as tfl.SymbolicTensor;
    const n = tfl.layers.batchNormalization({ name: 'bn' }).apply(d) as tfl.SymbolicTensor;
    const out = tfl.layers.add().apply([d, n]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const result = foldBatchNorm(model);
    expect(result.folded).toEqual([]);
    expect(result.unfolded[0]?.reason).toMatch(/read elsewhere/);
    result.model.dispose();
    model.dispose();
  });

  it('rejects a non-model with a KwsError', () => {
    expect(() => foldBatchNorm({} as tfl.LayersModel)).toThrow(KwsError);
    try {
      foldBatchNorm(null as unknown as tfl.LayersModel);
    } catch (e) {
      expect((e as KwsError).code).toBe('INVALID_ARGUMENT');
    }
  });
});
