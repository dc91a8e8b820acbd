import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSplit } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';
import {
  attentionWeights,
  type CrnnOptions,
  crnn,
  resolveCrnnConfig,
  withAttentionOutput,
} from '../../src/models/crnn.js';
import { AttentionPooling, attentionPool } from '../../src/models/layers/attention-pooling.js';
import { registerKwsLayers } from '../../src/models/layers/register.js';
import { createRng } from '../../src/random.js';
import { train } from '../../src/train/index.js';

const SMALL: CrnnOptions = {
  numClasses: 3,
  inputShape: [10, 6],
  convChannels: 2,
  kernelSize: [3, 2],
  stride: [2, 2],
  hiddenSize: 4,
  gruLayers: 1,
};

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );
}

function expectKwsError(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

function layerParams(model: tfl.LayersModel, name: string): number {
  return model.getLayer(name).countParams();
}

/** Float64 reference of additive attention pooling on row-major arrays. */
function referencePool(
  x: Float64Array | Float32Array,
  [batch, time, dim]: [number, number, number],
  w: Float32Array,
  b: Float32Array,
  v: Float32Array,
  c: number,
): { pooled: Float64Array; weights: Float64Array } {
  const units = b.length;
  const pooled = new Float64Array(batch * dim);
  const weights = new Float64Array(batch * time);
  for (let n = 0; n < batch; n++) {
    const e = new Float64Array(time);
    for (let t = 0; t < time; t++) {
      let score = c;
      for (let a = 0; a < units; a++) {
        let s = b[a] as number;
        for (let d = 0; d < dim; d++)
          s += (x[(n * time + t) * dim + d] as number) * (w[d * units + a] as number);
        score += Math.tanh(s) * (v[a] as number);
      }
      e[t] = score;
    }
    const peak = Math.max(...e);
    let sum = 0;
    for (let t = 0; t < time; t++) sum += Math.exp((e[t] as number) - peak);
    for (let t = 0; t < time; t++) {
      const alpha = Math.exp((e[t] as number) - peak) / sum;
      weights[n * time + t] = alpha;
      for (let d = 0; d < dim; d++) {
        pooled[n * dim + d] =
          (pooled[n * dim + d] as number) + alpha * (x[(n * time + t) * dim + d] as number);
      }
    }
  }
  return { pooled, weights };
}

/** Trainable variables of a model and the gradient of a cross-entropy loss for each. */
function lossGrads(model: tfl.LayersModel, x: tf.Tensor, labels: tf.Tensor): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, vars);
    for (const v of vars) out.set(v.name, (grads[v.name] as tf.Tensor).dataSync() as Float32Array);
  });
  return out;
}

function norm(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe('crnn: structure', () => {
  it('default config: 70,709 parameters, layer by layer (reference 71,093 less 2×3×64 PyTorch hidden biases)', () => {
    const model = crnn();
    expect(layerParams(model, 'crnn_conv')).toBe(8 * 5 * 20 + 8);
    // tfjs GRU (reset before): 3·(H·in + H·H + H)
    expect(layerParams(model, 'crnn_gru_1')).toBe(3 * (64 * 144 + 64 * 64 + 64));
    expect(layerParams(model, 'crnn_gru_2')).toBe(3 * (64 * 64 + 64 * 64 + 64));
    expect(layerParams(model, 'crnn_attention')).toBe(64 * 64 + 64 + 64 + 1);
    expect(layerParams(model, 'crnn_logits')).toBe(64 * 12 + 12);
    expect(model.countParams()).toBe(70_709);
    expect(model.countParams() + 2 * 3 * 64).toBe(71_093);
    expect(model.inputs[0]?.shape).toEqual([null, 101, 40]);
    expect(model.outputs[0]?.shape).toEqual([null, 12]);
    expect(model.getLayer('crnn_conv').outputShape).toEqual([null, 11, 18, 8]);
    model.dispose();
  });

  it('resolveCrnnConfig derives the conv output sizes', () => {
    const c = resolveCrnnConfig();
    expect(c.kernelSize).toEqual([20, 5]);
    expect(c.stride).toEqual([8, 2]);
    expect(c.convFrames).toBe(Math.floor((101 - 20) / 8) + 1);
    expect(c.convFrames).toBe(11);
    expect(c.convMels).toBe(Math.floor((40 - 5) / 2) + 1);
    expect(c.gruInputSize).toBe(18 * 8);
    expect(resolveCrnnConfig({ bidirectional: true }).attentionSize).toBe(128);
  });

  it('small configs: hand-computed parameter counts', () => {
    // T' = floor((10−3)/2)+1 = 4, M' = floor((6−2)/2)+1 = 3, GRU input 3·2 = 6.
    const small = crnn(SMALL);
    const conv = 2 * 3 * 2 + 2;
    const gru = 3 * (4 * 6 + 4 * 4 + 4);
    const attention = 4 * 4 + 4 + 4 + 1;
    const dense = 4 * 3 + 3;
    expect(conv + gru + attention + dense).toBe(186);
    expect(small.countParams()).toBe(186);
    expect(small.getLayer('crnn_flatten').outputShape).toEqual([null, 4, 6]);
    small.dispose();

    const bi = crnn({ ...SMALL, gruLayers: 2, bidirectional: true, attentionSize: 5 });
    const gru1 = 2 * 3 * (4 * 6 + 4 * 4 + 4);
    const gru2 = 2 * 3 * (4 * 8 + 4 * 4 + 4);
    const att = 8 * 5 + 5 + 5 + 1;
    const out = 8 * 3 + 3;
    expect(bi.countParams()).toBe(conv + gru1 + gru2 + att + out);
    expect(bi.countParams()).toBe(668);
    bi.dispose();
  });

  it('bidirectional default: 173,365 parameters and independent backward initialisation', () => {
    const model = crnn({ bidirectional: true });
    expect(model.countParams()).toBe(
      808 + 2 * 40_128 + 2 * 37_056 + (128 * 128 + 128 + 128 + 1) + (128 * 12 + 12),
    );
    expect(model.countParams()).toBe(173_365);
    const w = model.getLayer('crnn_gru_1').getWeights();
    expect(w.length).toBe(6);
    // forward kernel vs backward kernel: same shape, different draws
    expect(maxAbsDiff(w[0]!.dataSync(), w[3]!.dataSync())).toBeGreaterThan(0.01);
    expect(maxAbsDiff(w[2]!.dataSync(), new Float32Array(w[2]!.size))).toBe(0);
    model.dispose();
  });

  it('is reproducible from its seed', () => {
    const a = crnn({ ...SMALL, seed: 7 });
    const b = crnn({ ...SMALL, seed: 7 });
    const c = crnn({ ...SMALL, seed: 8 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    const wc = c.getWeights();
    for (let i = 0; i < wa.length; i++) expect(maxAbsDiff(wa[i]!.dataSync(), wb[i]!.dataSync())).toBe(0);
    // the conv kernel is the first weight; it differs between seeds
    expect(maxAbsDiff(wa[0]!.dataSync(), wc[0]!.dataSync())).toBeGreaterThan(0.01);
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('crnn: PyTorch initialisation', () => {
  it("init 'pytorch' draws every tensor, biases included, from U(±1/√fan_in), GRUs from U(±1/√hidden), seeded", () => {
    const a = crnn({ init: 'pytorch', seed: 4 });
    const b = crnn({ init: 'pytorch', seed: 4 });
    const glorot = crnn({ seed: 4 });
    expect(a.countParams()).toBe(70_709);
    const bound: Record<string, number> = {
      crnn_conv: 1 / Math.sqrt(20 * 5),
      crnn_gru_1: 1 / 8,
      crnn_gru_2: 1 / 8,
      crnn_attention: 1 / 8,
      crnn_logits: 1 / 8,
    };
    a.weights.forEach((w, i) => {
      const values = w.read().dataSync();
      const limit = bound[w.name.split('/')[0] as string] as number;
      let max = 0;
      for (const v of values) max = Math.max(max, Math.abs(v));
      expect(max, w.name).toBeLessThanOrEqual(limit);
      // Uniform draws reach close to the bound: P(max < 0.8·b) = 0.8^n, negligible from n = 8 on.
      if (values.length >= 8) expect(max, w.name).toBeGreaterThan(0.8 * limit);
      expect(maxAbsDiff(values, b.weights[i]!.read().dataSync()), w.name).toBe(0);
    });
    const bias = a.weights
      .find((w) => w.name.startsWith('crnn_gru_1/bias'))!
      .read()
      .dataSync();
    expect(bias.some((v) => v !== 0)).toBe(true);
    expect(maxAbsDiff(a.weights[2]!.read().dataSync(), glorot.weights[2]!.read().dataSync())).toBeGreaterThan(
      0,
    );
    for (const m of [a, b, glorot]) m.dispose();
  });
});

describe('crnn: forward pass', () => {
  it('gives [batch, numClasses] logits and attention [batch, 11] summing to 1', () => {
    const model = crnn();
    const x = randomTensor([3, 101, 40], 1);
    const before = tf.memory().numTensors;
    const logits = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    expect(logits.length).toBe(3 * 12);
    expect(logits.every(Number.isFinite)).toBe(true);

    const view = withAttentionOutput(model);
    const [viewLogits, alpha] = tf.tidy(() => {
      const [l, a] = view.predict(x) as tf.Tensor[];
      expect(l!.shape).toEqual([3, 12]);
      expect(a!.shape).toEqual([3, 11]);
      return [l!.dataSync(), a!.dataSync()];
    });
    expect(maxAbsDiff(viewLogits!, logits)).toBe(0);
    for (let n = 0; n < 3; n++) {
      let sum = 0;
      for (let t = 0; t < 11; t++) {
        const v = alpha![n * 11 + t] as number;
        expect(v).toBeGreaterThan(0);
        sum += v;
      }
      expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
    }
    const weights = attentionWeights(model, x);
    expect(weights.shape).toEqual([3, 11]);
    expect(maxAbsDiff(weights.dataSync(), alpha!)).toBe(0);
    weights.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('attention output equals attentionPool on the GRU output', () => {
    const model = crnn(SMALL);
    const x = randomTensor([2, 10, 6], 2);
    tf.tidy(() => {
      const gruOut = tfl.model({ inputs: model.inputs, outputs: model.getLayer('crnn_gru_1').output });
      const h = gruOut.predict(x) as tf.Tensor3D;
      const [w, b, v, c] = model.getLayer('crnn_attention').getWeights();
      const ref = attentionPool(h, w as tf.Tensor2D, b as tf.Tensor1D, v as tf.Tensor2D, c as tf.Tensor1D);
      const [logits, alpha] = withAttentionOutput(model).predict(x) as tf.Tensor[];
      expect(maxAbsDiff(alpha!.dataSync(), ref.weights.dataSync())).toBeLessThan(1e-7);
      const [k, bias] = model.getLayer('crnn_logits').getWeights();
      const refLogits = tf.add(tf.matMul(ref.pooled, k as tf.Tensor2D), bias as tf.Tensor1D);
      expect(maxAbsDiff(logits!.dataSync(), refLogits.dataSync())).toBeLessThan(1e-6);
    });
    x.dispose();
    model.dispose();
  });

  it('GRU follows the reset-before equations with sigmoid gates, gate order [z, r, h]', () => {
    const model = crnn({ ...SMALL, hiddenSize: 3 });
    const gru = model.getLayer('crnn_gru_1');
    const [time, inputs, units] = [4, 6, 3];
    const xs = randomArray(time * inputs, 3);
    const [kernel, recurrent] = gru.getWeights().map((t) => t.dataSync());
    gru.setWeights([
      tf.tensor(kernel!, [inputs, 3 * units]),
      tf.tensor(recurrent!, [units, 3 * units]),
      tf.tensor(randomArray(3 * units, 4, 0.3), [3 * units]),
    ]);
    const b = gru.getWeights()[2]!.dataSync();
    const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));
    const h = new Float64Array(units);
    const expected: number[] = [];
    for (let t = 0; t < time; t++) {
      const gate = (g: number, j: number, state: Float64Array) => {
        let s = b[g * units + j] as number;
        for (let i = 0; i < inputs; i++)
          s += (xs[t * inputs + i] as number) * (kernel![i * 3 * units + g * units + j] as number);
        for (let i = 0; i < units; i++)
          s += (state[i] as number) * (recurrent![i * 3 * units + g * units + j] as number);
        return s;
      };
      const z = Array.from({ length: units }, (_, j) => sigmoid(gate(0, j, h)));
      const r = Array.from({ length: units }, (_, j) => sigmoid(gate(1, j, h)));
      const rh = h.map((v, i) => v * (r[i] as number));
      const cand = Array.from({ length: units }, (_, j) => Math.tanh(gate(2, j, rh)));
      for (let j = 0; j < units; j++)
        h[j] = (z[j] as number) * (h[j] as number) + (1 - (z[j] as number)) * (cand[j] as number);
      expected.push(...h);
    }
    const actual = tf.tidy(() => (gru.apply(tf.tensor(xs, [1, time, inputs])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(actual, expected)).toBeLessThan(2e-6);
    model.dispose();
  });

  it('dropout acts in training only', () => {
    const model = crnn({ ...SMALL, gruLayers: 2, dropout: 0.5 });
    const x = randomTensor([2, 10, 6], 5);
    tf.tidy(() => {
      const p1 = (model.predict(x) as tf.Tensor).dataSync();
      const p2 = (model.predict(x) as tf.Tensor).dataSync();
      expect(maxAbsDiff(p1, p2)).toBe(0);
      const t1 = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
      const t2 = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
      expect(maxAbsDiff(t1, t2)).toBeGreaterThan(0);
    });
    x.dispose();
    model.dispose();
  });

  it('does not leak tensors across 20 predictions inside tidy', () => {
    const model = crnn(SMALL);
    const x = randomTensor([2, 10, 6], 6);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    for (let i = 0; i < 5; i++) attentionWeights(model, x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});

describe('AttentionPooling layer', () => {
  const [batch, time, dim, units] = [2, 5, 3, 4];
  const xs = randomArray(batch * time * dim, 10);
  const w = randomArray(dim * units, 11, 0.7);
  const b = randomArray(units, 12, 0.2);
  const v = randomArray(units, 13, 0.9);
  const c = 0.37;

  function makeLayer(returnAttention: boolean): AttentionPooling {
    const layer = new AttentionPooling({ units, returnAttention, seed: 3 });
    layer.build([null, time, dim]);
    layer.setWeights([
      tf.tensor2d(w, [dim, units]),
      tf.tensor1d(b),
      tf.tensor2d(v, [units, 1]),
      tf.tensor1d([c]),
    ]);
    return layer;
  }

  it('matches a float64 hand-written reference', () => {
    const layer = makeLayer(true);
    const ref = referencePool(xs, [batch, time, dim], w, b, v, c);
    tf.tidy(() => {
      const [pooled, weights] = layer.apply(tf.tensor3d(xs, [batch, time, dim])) as tf.Tensor[];
      expect(pooled!.shape).toEqual([batch, dim]);
      expect(weights!.shape).toEqual([batch, time]);
      expect(maxAbsDiff(pooled!.dataSync(), ref.pooled)).toBeLessThan(1e-6);
      expect(maxAbsDiff(weights!.dataSync(), ref.weights)).toBeLessThan(1e-6);
    });
    const single = makeLayer(false);
    tf.tidy(() => {
      const pooled = single.apply(tf.tensor3d(xs, [batch, time, dim])) as tf.Tensor;
      expect(pooled.shape).toEqual([batch, dim]);
      expect(maxAbsDiff(pooled.dataSync(), ref.pooled)).toBeLessThan(1e-6);
    });
    expect(single.computeOutputShape([null, time, dim])).toEqual([null, dim]);
    expect(layer.computeOutputShape([null, time, dim])).toEqual([
      [null, dim],
      [null, time],
    ]);
  });

  it('input gradient matches central finite differences of the reference', () => {
    const layer = makeLayer(false);
    const probe = randomArray(batch * dim, 14);
    const objective = (x: Float64Array) => {
      const { pooled } = referencePool(x, [batch, time, dim], w, b, v, c);
      let s = 0;
      for (let i = 0; i < pooled.length; i++) s += (pooled[i] as number) * (probe[i] as number);
      return s;
    };
    const analytic = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) =>
          tf.sum(tf.mul(layer.apply(x) as tf.Tensor, tf.tensor2d(probe, [batch, dim]))),
        )(tf.tensor3d(xs, [batch, time, dim]))
        .dataSync(),
    );
    const x64 = Float64Array.from(xs);
    const eps = 1e-5;
    let worst = 0;
    for (let i = 0; i < x64.length; i++) {
      const keep = x64[i] as number;
      x64[i] = keep + eps;
      const up = objective(x64);
      x64[i] = keep - eps;
      const down = objective(x64);
      x64[i] = keep;
      worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - (analytic[i] as number)));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('score bias does not change the output (softmax shift invariance)', () => {
    const layer = makeLayer(false);
    const shifted = new AttentionPooling({ units, useScoreBias: false });
    shifted.build([null, time, dim]);
    shifted.setWeights([tf.tensor2d(w, [dim, units]), tf.tensor1d(b), tf.tensor2d(v, [units, 1])]);
    expect(shifted.countParams()).toBe(dim * units + 2 * units);
    expect(layer.countParams()).toBe(dim * units + 2 * units + 1);
    tf.tidy(() => {
      const x = tf.tensor3d(xs, [batch, time, dim]);
      expect(
        maxAbsDiff((layer.apply(x) as tf.Tensor).dataSync(), (shifted.apply(x) as tf.Tensor).dataSync()),
      ).toBeLessThan(1e-6);
    });
  });

  it('round-trips its config and counts MACs', () => {
    registerKwsLayers();
    registerKwsLayers();
    const layer = new AttentionPooling({ units: 7, useScoreBias: false, returnAttention: true, seed: 5 });
    const config = layer.getConfig();
    expect(config.units).toBe(7);
    expect(config.useScoreBias).toBe(false);
    expect(config.returnAttention).toBe(true);
    expect(config.seed).toBe(5);
    const copy = AttentionPooling.fromConfig(AttentionPooling, config) as AttentionPooling;
    expect(copy.units).toBe(7);
    expect(copy.returnAttention).toBe(true);
    const ap = new AttentionPooling({ units: 64 });
    expect(ap.countMacs([11, 64])).toEqual({ macs: 11 * 64 * 64 + 11 * 64 + 11 * 64, normMacs: 0 });
    expect(ap.countMacs([null, 11, 64])).toEqual({ macs: 46_464, normMacs: 0 });
    expectKwsError(() => ap.countMacs([64]), 'INVALID_ARGUMENT');
    expectKwsError(() => ap.countMacs([11, 0]), 'INVALID_ARGUMENT');
    expectKwsError(() => new AttentionPooling({ units: 0 }), 'INVALID_ARGUMENT');
    expectKwsError(() => new AttentionPooling({ units: 4, seed: -1 }), 'INVALID_ARGUMENT');
    expectKwsError(() => new AttentionPooling({ units: 4 }).build([null, 5]), 'SHAPE_MISMATCH');
  });
});

describe('crnn: training', () => {
  it('cpu: every trainable weight gets a gradient and one SGD step changes it', () => {
    const model = crnn({ dropout: 0 });
    const x = randomTensor([4, 101, 40], 20);
    const labels = tf.oneHot(tf.tensor1d([0, 3, 7, 11], 'int32'), 12);
    const grads = lossGrads(model, x, labels);
    expect(grads.size).toBe(model.trainableWeights.length);
    expect(grads.size).toBe(2 + 3 + 3 + 4 + 2);
    for (const [name, g] of grads) {
      if (name.includes('score_bias')) {
        // shift invariance: the score bias gradient is zero up to float rounding
        expect(Math.abs(g[0] as number)).toBeLessThan(1e-6);
      } else {
        expect(norm(g), name).toBeGreaterThan(1e-6);
      }
    }
    const before = model.getWeights().map((t) => t.dataSync().slice());
    const optimizer = tf.train.sgd(0.1);
    tf.tidy(() => {
      optimizer.minimize(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      }, false);
    });
    const after = model.getWeights().map((t) => t.dataSync());
    model.weights.forEach((w, i) => {
      const moved = maxAbsDiff(before[i]!, after[i]!);
      if (w.name.includes('score_bias')) expect(moved).toBeLessThan(1e-6);
      else expect(moved, w.name).toBeGreaterThan(1e-7);
    });
    optimizer.dispose();
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('train() with dropout between GRU layers is reproducible from its seed (SeededDropout)', async () => {
    const n = 24;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const features = randomArray(n * 60, 31);
    // Class c lights mel bin c in every frame.
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 10; k++) {
        const at = i * 60 + k * 6 + (labels[i] as number);
        features[at] = (features[at] as number) + 2;
      }
    }
    const split = createSplit({ features, frames: 10, bins: 6, labels, labelNames: ['a', 'b', 'c'] });
    const run = async (seed: number): Promise<Float32Array[]> => {
      const model = crnn({ ...SMALL, gruLayers: 2, dropout: 0.5, seed: 2 });
      expect(model.getLayer('crnn_dropout_1').getClassName()).toBe('SeededDropout');
      await train(model, {
        train: split,
        epochs: 2,
        batchSize: 8,
        optimizer: 'adam',
        seed,
        logger: 'silent',
      });
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      model.dispose();
      return weights;
    };
    const before = tf.memory().numTensors;
    const [a, b, c] = [await run(4), await run(4), await run(5)];
    expect(tf.memory().numTensors).toBe(before);
    a.forEach((w, i) => {
      expect(Array.from(b[i] as Float32Array)).toEqual(Array.from(w));
    });
    expect(a.some((w, i) => maxAbsDiff(w, c[i] as Float32Array) > 0)).toBe(true);
  });

  it('train() works when the convolution leaves one time step (default crnn, 24 frames), without leaks', async () => {
    const model = crnn({ inputShape: [24, 40], numClasses: 3, seed: 3 });
    expect(resolveCrnnConfig({ inputShape: [24, 40] }).convFrames).toBe(1);
    const n = 6;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const split = createSplit({
      features: randomArray(n * 960, 8),
      frames: 24,
      bins: 40,
      labels,
      labelNames: ['a', 'b', 'c'],
    });
    const before = tf.memory().numTensors;
    const first = model.getWeights().map((w) => w.dataSync().slice());
    const result = await train(model, { train: split, epochs: 1, batchSize: 3, logger: 'silent' });
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(result.history[0]?.loss)).toBe(true);
    const gru = model.weights.findIndex((w) => w.name.startsWith('crnn_gru_1'));
    expect(maxAbsDiff(first[gru] as Float32Array, model.getWeights()[gru]!.dataSync())).toBeGreaterThan(0);
    model.dispose();
  });

  it('model.fit lowers the loss on a tiny separable task (the spare attention output does not get in the way)', async () => {
    const model = crnn({ ...SMALL, numClasses: 2, seed: 1 });
    model.compile({
      optimizer: tf.train.adam(0.02),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    });
    // class 1 has a bright band in mels 3..5, class 0 has none
    const n = 16;
    const xs = randomArray(n * 10 * 6, 50, 0.1);
    const ys = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      ys[i * 2 + label] = 1;
      if (label === 1) for (let t = 0; t < 10; t++) for (let m = 3; m < 6; m++) xs[(i * 10 + t) * 6 + m] = 1;
    }
    const x = tf.tensor3d(xs, [n, 10, 6]);
    const y = tf.tensor2d(ys, [n, 2]);
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(0.5 * losses[0]!);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('wasm: conv2d filter gradient is missing; with the conv frozen the rest matches cpu', async () => {
    const model = crnn({ dropout: 0, seed: 4 });
    const x = randomTensor([2, 101, 40], 21);
    const labels = tf.oneHot(tf.tensor1d([1, 5], 'int32'), 12);
    model.getLayer('crnn_conv').trainable = false;
    const onCpu = lossGrads(model, x, labels);
    model.getLayer('crnn_conv').trainable = true;
    try {
      expect(await tf.setBackend('wasm')).toBe(true);
      expect(() => lossGrads(model, x, labels)).toThrow(/Conv2DBackpropFilter/);
      model.getLayer('crnn_conv').trainable = false;
      const onWasm = lossGrads(model, x, labels);
      expect([...onWasm.keys()]).toEqual([...onCpu.keys()]);
      for (const [name, g] of onWasm) {
        const ref = onCpu.get(name)!;
        expect(maxAbsDiff(g, ref), name).toBeLessThan(1e-5 + 1e-4 * Math.max(...ref.map(Math.abs)));
      }
    } finally {
      await tf.setBackend('cpu');
    }
    tf.dispose([x, labels]);
    model.dispose();
  });
});

describe('crnn: serialization', () => {
  it('toJSON → modelFromJSON + setWeights predicts identically (and keeps the attention output)', async () => {
    const model = crnn({ ...SMALL, gruLayers: 2, bidirectional: true, seed: 9 });
    const json = model.toJSON() as string;
    expect(typeof json).toBe('string');
    const topology = JSON.parse(json);
    const copy = await tfl.models.modelFromJSON({ modelTopology: topology });
    copy.setWeights(model.getWeights());
    const x = randomTensor([3, 10, 6], 30);
    tf.tidy(() => {
      const a = (model.predict(x) as tf.Tensor).dataSync();
      const b = (copy.predict(x) as tf.Tensor).dataSync();
      expect(maxAbsDiff(a, b)).toBe(0);
      const wa = attentionWeights(model, x).dataSync();
      const wb = attentionWeights(copy, x).dataSync();
      expect(maxAbsDiff(wa, wb)).toBe(0);
    });
    expect(copy.countParams()).toBe(model.countParams());
    x.dispose();
    copy.dispose();
    model.dispose();
  });

  it('save artifacts → loadLayersModel is bit-exact', async () => {
    const model = crnn(SMALL);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = randomTensor([2, 10, 6], 31);
    tf.tidy(() => {
      expect(
        maxAbsDiff((model.predict(x) as tf.Tensor).dataSync(), (loaded.predict(x) as tf.Tensor).dataSync()),
      ).toBe(0);
    });
    expect(loaded.getLayer('crnn_attention')).toBeInstanceOf(AttentionPooling);
    x.dispose();
    loaded.dispose();
    model.dispose();
  });
});

describe('crnn: argument errors', () => {
  const bad: [string, unknown][] = [
    ['numClasses 1', { numClasses: 1 }],
    ['numClasses 2.5', { numClasses: 2.5 }],
    ['hiddenSize 0', { hiddenSize: 0 }],
    ['hiddenSize -3', { hiddenSize: -3 }],
    ['gruLayers 0', { gruLayers: 0 }],
    ['convChannels 0', { convChannels: 0 }],
    ['attentionSize 0', { attentionSize: 0 }],
    ['kernel longer than the clip', { kernelSize: [102, 5] }],
    ['kernel wider than the mels', { inputShape: [101, 4] }],
    ['kernel 0', { kernelSize: [0, 5] }],
    ['stride 0', { stride: [8, 0] }],
    ['an unknown init', { init: 'he' }],
    ['inputShape rank 1', { inputShape: [101] }],
    ['inputShape rank 3', { inputShape: [101, 40, 1] }],
    ['inputShape 0 frames', { inputShape: [0, 40] }],
    ['inputShape string', { inputShape: '101x40' }],
    ['dropout 1', { dropout: 1 }],
    ['dropout -0.1', { dropout: -0.1 }],
    ['dropout NaN', { dropout: Number.NaN }],
    ['bidirectional string', { bidirectional: 'yes' }],
    ['seed -1', { seed: -1 }],
    ['seed 0.5', { seed: 0.5 }],
    ['options not an object', 12],
    ['options null', null],
  ];
  for (const [label, options] of bad) {
    it(`rejects ${label}`, () => {
      expectKwsError(() => crnn(options as CrnnOptions), 'INVALID_ARGUMENT');
    });
  }

  it('withAttentionOutput / attentionWeights reject models and inputs they cannot use', () => {
    const input = tfl.input({ shape: [4] });
    const plain = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor,
    });
    expectKwsError(() => withAttentionOutput(plain), 'MODEL_INVALID');
    expectKwsError(() => withAttentionOutput({} as tfl.LayersModel), 'INVALID_ARGUMENT');
    const seq = tfl.input({ shape: [5, 3] });
    const pooled = new AttentionPooling({ units: 2 }).apply(seq) as tfl.SymbolicTensor;
    const noWeights = tfl.model({ inputs: seq, outputs: pooled });
    expectKwsError(() => withAttentionOutput(noWeights), 'MODEL_INVALID');
    const model = crnn(SMALL);
    const wrong = tf.zeros([2, 6, 10]);
    expectKwsError(() => attentionWeights(model, wrong), 'SHAPE_MISMATCH');
    expectKwsError(() => attentionWeights(model, [1, 2] as unknown as tf.Tensor), 'SHAPE_MISMATCH');
    wrong.dispose();
    model.dispose();
    plain.dispose();
    noWeights.dispose();
  });
});

describe('crnn: latency (printed, not asserted)', () => {
  it('default config, batch 1, predict on cpu and wasm', async () => {
    const model = crnn();
    const x = randomTensor([1, 101, 40], 40);
    const lines: string[] = [];
    try {
      for (const [backend, runs] of [
        ['cpu', 10],
        ['wasm', 40],
      ] as const) {
        expect(await tf.setBackend(backend)).toBe(true);
        for (let i = 0; i < 3; i++) tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        lines.push(
          `${backend}: median ${times[Math.floor(runs / 2)]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms (${runs} runs)`,
        );
      }
    } finally {
      await tf.setBackend('cpu');
    }
    console.log(`CRNN default (70,709 params) predict batch 1 — ${lines.join('; ')}`);
    x.dispose();
    model.dispose();
  });
});
