import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSplit } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';
import { classMetrics, confusionMatrix, evaluate } from '../../src/train/evaluate.js';
import { softmaxCrossEntropy } from '../../src/train/loss.js';
import { denseModel } from './synthetic.js';

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

/** A model whose logits are its input: `[batch, 1, 3]` → `[batch, 3]` through an identity dense. */
function identityModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [1, 3] });
  const flat = tfl.layers.reshape({ targetShape: [3] }).apply(input) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 3, useBias: false });
  const out = dense.apply(flat) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  tf.tidy(() => dense.setWeights([tf.eye(3)]));
  return model;
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

describe('confusionMatrix and classMetrics', () => {
  // truth:     0 0 0 1 1 2 2 2 2
  // predicted: 0 0 1 1 2 2 2 2 0
  const truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 0, 1, 1, 2, 2, 2, 2, 0];

  it('counts true × predicted', () => {
    expect(confusionMatrix(truth, predicted, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
  });

  it('gives hand-computed precision, recall and F1', () => {
    const m = classMetrics(confusionMatrix(truth, predicted, 3), ['a', 'b', 'c']);
    // a: TP 2, predicted 3, support 3 → P = R = 2/3.
    expect(m[0]?.precision).toBeCloseTo(2 / 3, 12);
    expect(m[0]?.recall).toBeCloseTo(2 / 3, 12);
    expect(m[0]?.f1).toBeCloseTo(2 / 3, 12);
    expect(m[0]?.support).toBe(3);
    // b: TP 1, predicted 2, support 2 → P = R = 1/2.
    expect(m[1]).toMatchObject({ label: 'b', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    // c: TP 3, predicted 4, support 4 → P = R = 3/4.
    expect(m[2]).toMatchObject({ label: 'c', precision: 0.75, recall: 0.75, f1: 0.75, support: 4 });
    // Asymmetric case: P = 1/2, R = 1 → F1 = 2/3; a class never predicted and never present → 0s.
    const m2 = classMetrics(
      [
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 0],
      ],
      ['x', 'y', 'z'],
    );
    expect(m2[1]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(m2[1]?.f1).toBeCloseTo(2 / 3, 12);
    expect(m2[2]).toEqual({ label: 'z', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('rejects mismatched lengths and bad indices', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(KwsError);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(KwsError);
    expect(() => classMetrics([[1]], ['a', 'b'])).toThrow(KwsError);
  });
});

describe('softmaxCrossEntropy', () => {
  it('equals −log softmax at the label, plain and class-weighted (PyTorch weighted mean)', () => {
    const z = [
      [2, 0, -1],
      [0.5, 0.5, 3],
      [1, 2, 3],
    ];
    const y = Int32Array.from([0, 2, 0]);
    const ce = z.map((row, i) => -(logSoftmax(row)[y[i] as number] as number));
    const plain = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(z), y).dataSync()[0] as number);
    expect(plain).toBeCloseTo((ce[0]! + ce[1]! + ce[2]!) / 3, 5);
    const w = [2, 1, 0.5];
    const weighted = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(z), y, w).dataSync()[0] as number);
    expect(weighted).toBeCloseTo((2 * ce[0]! + 0.5 * ce[1]! + 2 * ce[2]!) / (2 + 0.5 + 2), 5);
  });
});

describe('evaluate', () => {
  it('scores an identity model against hand-computed accuracy, loss and confusion', () => {
    const model = identityModel();
    const x = [
      [3, 1, 0], // → 0
      [0, 2, 1], // → 1
      [1, 0, 5], // → 2
      [4, 0, 0], // → 0
      [0, 0, 1], // → 2
    ];
    const labels = [0, 1, 1, 0, 2];
    const split = createSplit({
      features: Float32Array.from(x.flat()),
      frames: 1,
      bins: 3,
      labels,
      labelNames: ['a', 'b', 'c'],
    });
    const r = evaluate(model, split, { batchSize: 2 });
    expect(r.accuracy).toBeCloseTo(4 / 5, 12);
    expect(r.labels).toEqual(['a', 'b', 'c']);
    expect(r.confusion).toEqual([
      [2, 0, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(r.perClass[1]).toMatchObject({ label: 'b', precision: 1, recall: 0.5, support: 2 });
    expect(r.perClass[2]).toMatchObject({ label: 'c', precision: 0.5, recall: 1, support: 1 });
    const loss = x.reduce((a, row, i) => a - (logSoftmax(row)[labels[i] as number] as number), 0) / 5;
    expect(r.loss).toBeCloseTo(loss, 5);
    model.dispose();
  });

  it('checks the model against the split and the options', () => {
    const model = denseModel(6, 9);
    const wrongBins = createSplit({
      features: new Float32Array(8),
      frames: 2,
      bins: 4,
      labels: [0],
      labelNames: ['a', 'b', 'c'],
    });
    expect(() => evaluate(model, wrongBins)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const twoClasses = createSplit({
      features: new Float32Array(54),
      frames: 6,
      bins: 9,
      labels: [0],
      labelNames: ['a', 'b'],
    });
    expect(() => evaluate(model, twoClasses)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const empty = createSplit({
      features: new Float32Array(0),
      frames: 6,
      bins: 9,
      labels: [],
      labelNames: ['a', 'b', 'c'],
    });
    expect(() => evaluate(model, empty)).toThrow(expect.objectContaining({ code: 'EMPTY_INPUT' }));
    const ok = createSplit({
      features: new Float32Array(54),
      frames: 6,
      bins: 9,
      labels: [0],
      labelNames: ['a', 'b', 'c'],
    });
    expect(() => evaluate(model, ok, { batchSize: 0 })).toThrow(KwsError);
    expect(() => evaluate({} as tfl.LayersModel, ok)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    model.dispose();
  });
});
