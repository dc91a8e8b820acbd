import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { bcResNet, ChannelDropout, crnn } from '../../src/models/index.js';
import { createRng, type RngState } from '../../src/random.js';
import { layerCallOrder } from '../../src/train/compiled/call-order.js';
import { compileTrainingGraph, type LossAndGradients } from '../../src/train/compiled/graph.js';
import { layerRngs } from '../../src/train/layer-rng.js';
import { softmaxCrossEntropy } from '../../src/train/loss.js';

// BC-ResNet-1 (full width, every layer kind, dilations 1-8) on 24 frames to keep tfjs' cpu
// reference fast; batch 4.
const FRAMES = 24;
const BINS = 40;
const BATCH = 4;
const CLASSES = 12;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** Max |a − b| over max |b|: the relative error the brief asks for. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return err / scale;
}

/** Non-trivial normalisation weights and statistics (the initial 1 / 0 hide scale bugs). */
function perturb(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const w of model.weights) {
    const name = w.originalName;
    const base = name.endsWith('/gamma') || name.endsWith('/moving_variance') ? 1 : 0;
    const isNorm = /\/(gamma|beta|moving_mean|moving_variance)$/.test(name);
    if (!isNorm && !name.endsWith('/bias')) continue;
    const size = w.shape.reduce((a: number, b) => a * (b as number), 1);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) v[i] = base + 0.3 * (rng.next() - 0.5);
    w.write(tf.tensor(v, w.shape as number[]));
  }
}

function batchOf(seed: number): { features: Float32Array; labels: Int32Array } {
  const rng = createRng(seed);
  const features = new Float32Array(BATCH * FRAMES * BINS);
  for (let i = 0; i < features.length; i++) features[i] = rng.normal();
  const labels = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) labels[i] = rng.int(CLASSES);
  return { features, labels };
}

describe.each([false, true])('compileTrainingGraph (causal %s)', (causal) => {
  it('matches tfjs loss, gradients and moving statistics of one training step', () => {
    const model = bcResNet({
      width: 1,
      numClasses: CLASSES,
      inputShape: [FRAMES, BINS],
      dropout: 0,
      causal,
      seed: 7,
    });
    perturb(model, 3);
    const tensors = tf.memory().numTensors;
    const graph = compileTrainingGraph(model);
    expect(graph.trainableVariables.every((v, k) => v === model.trainableWeights[k])).toBe(true);
    const { features, labels } = batchOf(5);
    const ours = graph.lossAndGradients(features, labels, BATCH);
    expect(tf.memory().numTensors).toBe(tensors);

    // tfjs reference: the model in training mode (batch statistics; moving statistics updated).
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const x = tf.tensor3d(features, [BATCH, FRAMES, BINS]);
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          return softmaxCrossEntropy(logits, labels);
        }),
      vars,
    );
    const loss = value.dataSync()[0] as number;
    expect(Math.abs(ours.loss - loss) / Math.abs(loss)).toBeLessThan(1e-5);
    const errors: number[] = [];
    model.trainableWeights.forEach((w, k) => {
      const g = grads[(w.read() as tf.Variable).name] as tf.Tensor;
      const ref = g.dataSync();
      expect(ours.gradients[k]?.length).toBe(ref.length);
      errors.push(relError(ours.gradients[k] as Float32Array, ref));
    });
    expect(Math.max(...errors)).toBeLessThan(1e-4);
    graph.movingVariables.forEach((v, k) => {
      expect(relError(ours.movingStats[k] as Float32Array, v.read().dataSync())).toBeLessThan(1e-5);
    });
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });
});

describe('compileTrainingGraph weights', () => {
  it('reads updated weights, reuses buffers across batch sizes, and rejects bad arguments', () => {
    const model = bcResNet({ width: 0.25, numClasses: 3, inputShape: [FRAMES, BINS], dropout: 0, seed: 2 });
    const graph = compileTrainingGraph(model);
    const { features, labels } = batchOf(9);
    const l3 = labels.map((v) => v % 3);
    const a = graph.lossAndGradients(features, l3, BATCH);
    // A smaller batch, then the same batch again: identical results (buffers resized, no state).
    graph.lossAndGradients(features.subarray(0, 2 * FRAMES * BINS), l3.subarray(0, 2), 2);
    const b = graph.lossAndGradients(features, l3, BATCH);
    expect(b.loss).toBe(a.loss);
    expect(b.gradients).toEqual(a.gradients);
    // One SGD step through the variables, then readWeights: the loss goes down.
    model.trainableWeights.forEach((w, k) => {
      tf.tidy(() => {
        const step = tf.mul(tf.tensor(a.gradients[k] as Float32Array, w.shape as number[]), 0.05);
        w.write(tf.sub(w.read(), step));
      });
    });
    graph.readWeights();
    expect(graph.lossAndGradients(features, l3, BATCH).loss).toBeLessThan(a.loss);
    expect(() => graph.lossAndGradients(features, l3, 3)).toThrow(/expected 3/);
    expect(() => graph.lossAndGradients(features, l3, 0)).toThrow(/positive integer/);
    expect(() => graph.lossAndGradients(features, Int32Array.from([0, 1, 3, 0]), BATCH)).toThrow(
      /labels\[2\] is 3/,
    );
    model.dispose();
  });
});

describe('compileTrainingGraph with ChannelDropout and a weighted loss', () => {
  it('draws the masks tfjs draws (same order, same generator states) and matches its gradients', () => {
    const model = bcResNet({
      width: 1,
      numClasses: CLASSES,
      inputShape: [FRAMES, BINS],
      dropout: 0.3,
      seed: 4,
    });
    perturb(model, 8);
    const rngs = layerRngs(model);
    expect(rngs.length).toBeGreaterThan(0);
    rngs.forEach((l, k) => {
      l.setState(createRng(100 + k).getState());
    });
    const start = rngs.map((l) => l.getState());
    // The order in which model.apply calls the dropout layers (each draws once per call).
    const drawn: string[] = [];
    const draw = ChannelDropout.prototype.drawMask;
    ChannelDropout.prototype.drawMask = function (this: ChannelDropout, b: number, c: number) {
      drawn.push(this.name);
      return draw.call(this, b, c);
    };
    const tensors = tf.memory().numTensors;
    const { features, labels } = batchOf(6);
    const weights = Array.from({ length: CLASSES }, (_, j) => 0.5 + j / CLASSES);
    const denominator = 7.25;
    let ours: LossAndGradients;
    let ourDraws: string[];
    let ourStates: unknown[];
    try {
      const graph = compileTrainingGraph(model);
      ours = graph.lossAndGradients(features, labels, BATCH, { classWeights: weights, denominator });
      ourDraws = drawn.splice(0);
      ourStates = rngs.map((l) => l.getState());
      expect(tf.memory().numTensors).toBe(tensors);

      rngs.forEach((l, k) => {
        l.setState(start[k] as RngState);
      });
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const x = tf.tensor3d(features, [BATCH, FRAMES, BINS]);
            const logits = model.apply(x, { training: true }) as tf.Tensor;
            return softmaxCrossEntropy(logits, labels, weights, denominator);
          }),
        vars,
      );
      expect(drawn).toEqual(ourDraws);
      expect(ourDraws).toEqual(
        layerCallOrder(model)
          .filter((l) => l instanceof ChannelDropout)
          .map((l) => l.name),
      );
      expect(rngs.map((l) => l.getState())).toEqual(ourStates);
      const loss = value.dataSync()[0] as number;
      expect(Math.abs(ours.loss - loss) / Math.abs(loss)).toBeLessThan(1e-5);
      const errors = model.trainableWeights.map((w, k) =>
        relError(
          ours.gradients[k] as Float32Array,
          (grads[(w.read() as tf.Variable).name] as tf.Tensor).dataSync(),
        ),
      );
      expect(Math.max(...errors)).toBeLessThan(1e-4);
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    } finally {
      ChannelDropout.prototype.drawMask = draw;
    }
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('chains moving statistics over calls as consecutive tfjs training calls do', () => {
    const model = bcResNet({ width: 0.25, numClasses: 3, inputShape: [FRAMES, BINS], dropout: 0, seed: 5 });
    perturb(model, 2);
    const graph = compileTrainingGraph(model);
    const a = batchOf(1);
    const b = batchOf(2);
    graph.lossAndGradients(
      a.features,
      a.labels.map((v) => v % 3),
      BATCH,
    );
    const second = graph.lossAndGradients(
      b.features,
      b.labels.map((v) => v % 3),
      BATCH,
    );
    tf.tidy(() => {
      for (const f of [a.features, b.features])
        model.apply(tf.tensor3d(f, [BATCH, FRAMES, BINS]), { training: true });
    });
    graph.movingVariables.forEach((v, k) => {
      expect(relError(second.movingStats[k] as Float32Array, v.read().dataSync())).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('refuses layers it cannot run, naming them', () => {
    const model = crnn({ numClasses: 3, inputShape: [FRAMES, BINS] });
    expect(() => compileTrainingGraph(model)).toThrow(KwsError);
    model.dispose();
  });
});
