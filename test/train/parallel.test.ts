/**
 * Data-parallel training (`train(model, { workers })`): the summed shard gradients equal the
 * one-thread batch gradient, weights after a few steps equal a one-thread run (BN-free model),
 * batch-norm models train, runs are reproducible (checkpoint + resume included), and no worker
 * thread outlives `train`, whether it ends normally or with an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { ChannelDropout, registerKwsLayers } from '../../src/models/index.js';
import { layerRngs } from '../../src/train/layer-rng.js';
import { softmaxCrossEntropy } from '../../src/train/loss.js';
import { DataParallel } from '../../src/train/parallel/data-parallel.js';
import { shardRanges, weightedMean } from '../../src/train/parallel/shard.js';
import { liveGradientWorkers } from '../../src/train/parallel/worker-pool.js';
import { type EpochStats, type TrainOptions, train } from '../../src/train/train.js';
import { bandSplit, denseModel, weightValues } from './synthetic.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  registerKwsLayers();
});

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
  expect(liveGradientWorkers()).toBe(0);
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const split = bandSplit(45, 1);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function curve(history: EpochStats[]): unknown[] {
  return history.map(({ loss, accuracy, validationAccuracy }) => ({ loss, accuracy, validationAccuracy }));
}

/** Conv → ChannelDropout (seeded) → BN → ReLU → mean → logits: exercises generators and statistics. */
function dropoutModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 9, 1] });
  let x = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: tfl.initializers.heNormal({ seed: 3 }),
    })
    .apply(input) as tfl.SymbolicTensor;
  x = new ChannelDropout({ rate: 0.25, seed: 9, name: 'drop' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** A layer class the workers do not know (registered on this thread only). */
class TestTwice extends tfl.layers.Layer {
  static className = 'KwsTestTwice';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs, 2);
  }
}
tf.serialization.registerClass(TestTwice);

describe('shard arithmetic', () => {
  it('cuts a batch into contiguous shards whose sizes differ by at most one', () => {
    expect(shardRanges(15, 2)).toEqual([
      { start: 0, end: 8 },
      { start: 8, end: 15 },
    ]);
    expect(shardRanges(10, 3).map((r) => r.end - r.start)).toEqual([4, 3, 3]);
    expect(shardRanges(1, 2).map((r) => r.end - r.start)).toEqual([1, 0]);
  });

  it('averages statistics by shard size, giving shared values back exactly', () => {
    const a = Float32Array.of(0.1, 1, 3);
    const b = Float32Array.of(0.1, 4, 6);
    const m = weightedMean([a, b], [8, 7]);
    expect(m[0]).toBe(Math.fround(0.1));
    expect(m[1]).toBeCloseTo((8 * 1 + 7 * 4) / 15, 6);
    expect(m[2]).toBeCloseTo((8 * 3 + 7 * 6) / 15, 6);
  });
});

describe('DataParallel.step', () => {
  it('sums shard gradients to the one-thread gradient of the whole batch (class weights, uneven shards)', async () => {
    const model = denseModel();
    const classWeights = [1, 2, 0.5];
    const b = 15;
    const size = split.frames * split.bins;
    const xs = split.features.slice(0, b * size);
    const ys = split.labels.slice(0, b);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const reference = tf.variableGrads(
      () =>
        softmaxCrossEntropy(
          model.apply(tf.tensor3d(xs, [b, split.frames, split.bins]), { training: true }) as tf.Tensor,
          ys,
          classWeights,
        ),
      variables,
    );
    const parallel = await DataParallel.start(model, layerRngs(model), {
      workers: 2,
      seed: 0,
      frames: split.frames,
      bins: split.bins,
      io: { channelAxis: false, classes: 3 },
      classWeights,
      microBatchSize: 4, // micro-batches inside each shard too
    });
    try {
      const step = await parallel.step(xs, ys);
      expect(step.loss).toBeCloseTo(reference.value.dataSync()[0] as number, 5);
      for (const v of variables) {
        const g = step.grads[v.name] as tf.Tensor;
        expect(g.shape).toEqual(v.shape);
        expect(maxAbsDiff(g.dataSync(), (reference.grads[v.name] as tf.Tensor).dataSync())).toBeLessThan(
          1e-5,
        );
      }
      const timing = parallel.lastTiming;
      expect(timing?.workerMs.every((ms) => ms >= 0)).toBe(true);
      tf.dispose(step.grads);
    } finally {
      await parallel.close();
      tf.dispose([reference.value, reference.grads]);
      model.dispose();
    }
  });
});

describe('train with workers', () => {
  const base: TrainOptions = {
    train: split,
    epochs: 1,
    batchSize: 15, // 3 steps
    optimizer: 'sgd',
    learningRate: 0.2,
    schedule: { warmupEpochs: 0 },
    classWeights: 'inverse',
    seed: 3,
    logger: 'silent',
  };

  it('gives the one-thread weights after 3 steps on a model without batch norm, augmentation included', async () => {
    const one = denseModel();
    const two = denseModel();
    // The next batch is augmented while the workers compute: the masks must still be the
    // one-thread run's, drawn in the same order.
    const augment = { specAugment: { freqMasks: 1, freqMaskWidth: 3, timeMasks: 1, timeMaskWidth: 2 } };
    const r1 = await train(one, { ...base, augment });
    const r2 = await train(two, { ...base, augment, workers: 2 });
    expect(r2.steps).toBe(3);
    expect(r2.history[0]?.loss).toBeCloseTo(r1.history[0]?.loss as number, 5);
    expect(r2.history[0]?.accuracy).toBe(r1.history[0]?.accuracy);
    const w1 = weightValues(one);
    const w2 = weightValues(two);
    for (const [i, w] of w1.entries()) expect(maxAbsDiff(w, w2[i] as Float32Array)).toBeLessThan(1e-5);
    one.dispose();
    two.dispose();
  });

  it('trains a batch-norm + seeded-dropout model, reproducibly, and resumes exactly', async () => {
    const options: TrainOptions = {
      ...base,
      validation: bandSplit(24, 2),
      epochs: 3,
      learningRate: 0.1,
      workers: 2,
    };
    const first = dropoutModel();
    const initial = weightValues(first);
    const a = await train(first, { ...options, restoreBest: false });
    const second = dropoutModel();
    const dir = mkdtempSync(join(tmpdir(), 'kws-parallel-test-'));
    dirs.push(dir);
    // Stop after epoch 1, then resume from the checkpoint in a fresh model.
    await train(second, {
      ...options,
      restoreBest: false,
      checkpointDir: dir,
      callbacks: { onEpochEnd: (s) => (s.epoch === 1 ? 'stop' : undefined) },
    });
    const resumed = dropoutModel();
    const b = await train(resumed, { ...options, restoreBest: false, checkpointDir: dir, resume: true });

    expect(a.history[2]?.loss).toBeLessThan(a.history[0]?.loss as number);
    // Moving statistics moved away from their initial values (mean 0, variance 1).
    const names = first.weights.map((w) => w.name);
    const movingMean = names.findIndex((n) => n.includes('moving_mean'));
    expect(
      maxAbsDiff(weightValues(first)[movingMean] as Float32Array, initial[movingMean] as Float32Array),
    ).toBeGreaterThan(1e-3);
    expect(curve(b.history)).toEqual(curve(a.history));
    expect(weightValues(resumed)).toEqual(weightValues(first));
    for (const m of [first, second, resumed]) m.dispose();
  });

  it('terminates its workers when a callback throws and when a worker cannot rebuild the model', async () => {
    const model = denseModel();
    const failing = train(model, {
      ...base,
      workers: 2,
      callbacks: {
        onBatchEnd: () => {
          throw new Error('callback failed');
        },
      },
    });
    await expect(failing).rejects.toThrow('callback failed');
    expect(liveGradientWorkers()).toBe(0);
    model.dispose();

    const input = tfl.input({ shape: [6, 9] });
    const twice = new TestTwice({}).apply(input) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling1d({}).apply(twice) as tfl.SymbolicTensor;
    const custom = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 3 }).apply(pooled) as tfl.SymbolicTensor,
    });
    const error = await train(custom, { ...base, workers: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KwsError);
    expect((error as KwsError).code).toBe('MODEL_INVALID');
    expect((error as KwsError).message).toMatch(/KwsTestTwice/);
    custom.dispose();
  });

  it('refuses bad workers values and per-batch hooks with a KwsError', async () => {
    const model = denseModel();
    for (const workers of [0, 1.5, 65, '2', Number.NaN]) {
      const error = await train(model, { ...base, workers: workers as number }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KwsError);
      expect((error as KwsError).code).toBe('INVALID_ARGUMENT');
    }
    const error = await train(
      model,
      { ...base, workers: 2 },
      { lossFn: (c) => tf.mean(c.logits) as tf.Scalar },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KwsError);
    expect((error as KwsError).message).toMatch(/hooks\.lossFn/);
    model.dispose();
  });
});
