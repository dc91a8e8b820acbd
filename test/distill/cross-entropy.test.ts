import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hardCrossEntropy, kdLoss, softCrossEntropy } from '../../src/distill/index.js';
import {
  expectKwsError,
  expectNoLeak,
  maxAbsDiff,
  randomDistributions,
  softmax64,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

const Z = [
  [1, 2, 3],
  [0.5, -1, 2],
];
const LABELS = [2, 0];

/** Float64 reference: Σᵢ wᵢ·(−Σ_c q_ic log softmax(zᵢ)_c) / Σᵢ wᵢ. */
function ce64(z: number[][], targets: number[][], weights?: number[]): number {
  let num = 0;
  let den = 0;
  z.forEach((row, i) => {
    const logP = softmax64(row, 1).map(Math.log);
    const q = targets[i] as number[];
    const l = -q.reduce((acc, qc, c) => acc + qc * (logP[c] as number), 0);
    const w = weights?.[i] ?? 1;
    num += w * l;
    den += w;
  });
  return num / den;
}

function oneHot(labels: number[], classes: number): number[][] {
  return labels.map((y) => Array.from({ length: classes }, (_, c) => (c === y ? 1 : 0)));
}

function value(f: () => tf.Scalar): number {
  return tf.tidy(() => f().dataSync()[0] as number);
}

describe('hardCrossEntropy', () => {
  it('matches a value worked out by hand', () => {
    // −log softmax([1,2,3])[2] = log(1 + e^-1 + e^-2); −log softmax([0.5,-1,2])[0] = log(1 + e^-1.5 + e^1.5).
    const want =
      (Math.log(1 + Math.exp(-1) + Math.exp(-2)) + Math.log(1 + Math.exp(-1.5) + Math.exp(1.5))) / 2;
    expect(want).toBeCloseTo(1.074459, 5);
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS))).toBeCloseTo(want, 6);
  });

  it('accepts index labels as number[], Int32Array, int32 tensor, and one-hot rows', () => {
    const want = ce64(Z, oneHot(LABELS, 3));
    const forms = [
      () => hardCrossEntropy(tf.tensor2d(Z), LABELS),
      () => hardCrossEntropy(tf.tensor2d(Z), Int32Array.from(LABELS)),
      () => hardCrossEntropy(tf.tensor2d(Z), tf.tensor1d(LABELS, 'int32')),
      () => hardCrossEntropy(tf.tensor2d(Z), tf.tensor2d(oneHot(LABELS, 3))),
      () => hardCrossEntropy(tf.tensor2d(Z), tf.tensor2d(oneHot(LABELS, 3), undefined, 'int32')),
    ];
    for (const f of forms) expect(value(f)).toBeCloseTo(want, 6);
    // Soft rows are cross-entropy against that distribution.
    const soft = [
      [0.2, 0.3, 0.5],
      [0.6, 0.4, 0],
    ];
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), tf.tensor2d(soft)))).toBeCloseTo(ce64(Z, soft), 6);
  });

  it('weights examples by the weight of their class (weighted mean, scale-free)', () => {
    // Example weights are w[2] = 3 and w[0] = 1.
    const want = ce64(Z, oneHot(LABELS, 3), [3, 1]);
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS, { classWeights: [1, 2, 3] }))).toBeCloseTo(
      want,
      6,
    );
    const scaled = Float32Array.from([10, 20, 30]);
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS, { classWeights: scaled }))).toBeCloseTo(
      want,
      6,
    );
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS, { classWeights: [1, 1, 1] }))).toBeCloseTo(
      ce64(Z, oneHot(LABELS, 3)),
      6,
    );
    // A batch whose classes all weigh 0 contributes nothing (and still has a gradient of 0).
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS, { classWeights: [0, 5, 0] }))).toBe(0);
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => hardCrossEntropy(x, LABELS, { classWeights: [0, 5, 0] }))(tf.tensor2d(Z))
        .dataSync(),
    );
    expect(Array.from(g)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('smooths labels towards uniform: q = (1 − ε)·y + ε/C', () => {
    const eps = 0.1;
    const q = oneHot(LABELS, 3).map((row) => row.map((y) => (1 - eps) * y + eps / 3));
    expect(q[0]).toEqual([0.1 / 3, 0.1 / 3, 0.9 + 0.1 / 3]);
    expect(value(() => hardCrossEntropy(tf.tensor2d(Z), LABELS, { labelSmoothing: eps }))).toBeCloseTo(
      ce64(Z, q),
      6,
    );
    const both = value(() =>
      hardCrossEntropy(tf.tensor2d(Z), LABELS, { labelSmoothing: eps, classWeights: [1, 2, 3] }),
    );
    expect(both).toBeCloseTo(ce64(Z, q, [3, 1]), 6);
  });

  it('has gradient wᵢ·(softmax(zᵢ) − qᵢ) / Σw', () => {
    const eps = 0.2;
    const weights = [3, 1];
    const got = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) =>
          hardCrossEntropy(x, LABELS, { labelSmoothing: eps, classWeights: [1, 2, 3] }),
        )(tf.tensor2d(Z))
        .dataSync(),
    );
    const want = Z.flatMap((row, i) => {
      const p = softmax64(row, 1);
      return p.map((pc, c) => {
        const q = (1 - eps) * (c === LABELS[i] ? 1 : 0) + eps / 3;
        return ((weights[i] as number) * (pc - q)) / 4;
      });
    });
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
  });

  it('leaves no tensors behind', () => {
    const z = tf.tensor2d(Z);
    const labels = tf.tensor1d(LABELS, 'int32');
    expectNoLeak(() => hardCrossEntropy(z, labels));
    expectNoLeak(() => hardCrossEntropy(z, LABELS, { classWeights: [1, 2, 3], labelSmoothing: 0.1 }));
    expectNoLeak(() => hardCrossEntropy(z, LABELS, { classWeights: [0, 1, 0] }));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => hardCrossEntropy(x, labels))(z));
    tf.dispose([z, labels]);
  });

  it('rejects bad labels and options with KwsError codes', () => {
    const z = tf.tensor2d(Z);
    const bad: [unknown, string][] = [
      [[-1, 0], 'INVALID_ARGUMENT'],
      [[0, 3], 'INVALID_ARGUMENT'],
      [[0, 1.5], 'INVALID_ARGUMENT'],
      [[0, Number.NaN], 'INVALID_ARGUMENT'],
      [[0], 'SHAPE_MISMATCH'],
      [[0, 1, 2], 'SHAPE_MISMATCH'],
      [Int32Array.from([0, 7]), 'INVALID_ARGUMENT'],
      ['ab', 'INVALID_ARGUMENT'],
      [undefined, 'INVALID_ARGUMENT'],
    ];
    for (const [labels, code] of bad) expectKwsError(() => hardCrossEntropy(z, labels as number[]), code);
    const tensors: [tf.Tensor, string][] = [
      [tf.tensor1d([0, 3], 'int32'), 'INVALID_ARGUMENT'],
      [tf.tensor1d([0, 1]), 'INVALID_ARGUMENT'],
      [tf.tensor1d([0, 1, 2], 'int32'), 'SHAPE_MISMATCH'],
      [tf.zeros([2, 1, 3]), 'SHAPE_MISMATCH'],
      [tf.tensor2d(oneHot([0, 1], 4)), 'SHAPE_MISMATCH'],
      [
        tf.tensor2d([
          [1, 1, 0],
          [0, 1, 0],
        ]),
        'INVALID_ARGUMENT',
      ],
      [
        tf.tensor2d([
          [1.5, -0.5, 0],
          [0, 1, 0],
        ]),
        'INVALID_ARGUMENT',
      ],
    ];
    for (const [labels, code] of tensors) expectKwsError(() => hardCrossEntropy(z, labels), code);
    expectKwsError(() => hardCrossEntropy(z, LABELS, { classWeights: [1, 2] }), 'SHAPE_MISMATCH');
    expectKwsError(() => hardCrossEntropy(z, LABELS, { classWeights: [1, -2, 1] }), 'INVALID_ARGUMENT');
    expectKwsError(
      () => hardCrossEntropy(z, LABELS, { classWeights: [1, Number.NaN, 1] }),
      'NON_FINITE_INPUT',
    );
    expectKwsError(
      () => hardCrossEntropy(z, LABELS, { classWeights: 'x' as unknown as number[] }),
      'INVALID_ARGUMENT',
    );
    for (const labelSmoothing of [-0.1, 1, 2, Number.NaN]) {
      expectKwsError(() => hardCrossEntropy(z, LABELS, { labelSmoothing }), 'INVALID_ARGUMENT');
    }
    expectKwsError(() => hardCrossEntropy(tf.tensor1d([1, 2]), LABELS), 'SHAPE_MISMATCH');
    tf.dispose([z, ...tensors.map(([t]) => t)]);
  });
});

describe('softCrossEntropy', () => {
  const S = Z;
  const T = [
    [3, 1, 0],
    [1, 1, 1],
  ];

  function soft64(s: number[][], p: number[][], temperature: number, scale: number): number {
    let total = 0;
    s.forEach((row, i) => {
      const logQ = softmax64(row, temperature).map(Math.log);
      total -= (p[i] as number[]).reduce((acc, pc, c) => acc + pc * (logQ[c] as number), 0);
    });
    return (scale * total) / s.length;
  }

  it('is T²·mean(−Σ softmax(t/T)·log softmax(s/T)) for teacher logits', () => {
    for (const temperature of [1, 2, 4]) {
      const p = T.map((row) => softmax64(row, temperature));
      const want = soft64(S, p, temperature, temperature * temperature);
      const got = value(() => softCrossEntropy(tf.tensor2d(S), tf.tensor2d(T), { temperature }));
      expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, want));
      const unscaled = value(() =>
        softCrossEntropy(tf.tensor2d(S), tf.tensor2d(T), { temperature, scaleByTemperatureSquared: false }),
      );
      expect(unscaled).toBeCloseTo(want / (temperature * temperature), 5);
    }
    // Default temperature 1.
    expect(value(() => softCrossEntropy(tf.tensor2d(S), tf.tensor2d(T)))).toBeCloseTo(
      soft64(
        S,
        T.map((row) => softmax64(row, 1)),
        1,
        1,
      ),
      5,
    );
  });

  it('uses probability targets as given', () => {
    const p = randomDistributions(2, 3, 5);
    const want = soft64(S, p, 2, 4);
    const got = value(() =>
      softCrossEntropy(tf.tensor2d(S), tf.tensor2d(p), { temperature: 2, targets: 'probabilities' }),
    );
    expect(got).toBeCloseTo(want, 5);
  });

  it('exceeds kdLoss by T² times the teacher entropy, with the same student gradient', () => {
    const temperature = 3;
    const entropy =
      T.map((row) => softmax64(row, temperature)).reduce(
        (acc, p) => acc - p.reduce((a, pc) => a + pc * Math.log(pc), 0),
        0,
      ) / T.length;
    const [soft, kd, gSoft, gKd] = tf.tidy(() => {
      const s = tf.tensor2d(S);
      const t = tf.tensor2d(T);
      return [
        softCrossEntropy(s, t, { temperature }).dataSync()[0] as number,
        kdLoss(s, t, { temperature }).dataSync()[0] as number,
        tf
          .grad((x: tf.Tensor) => softCrossEntropy(x, t, { temperature }))(s)
          .dataSync(),
        tf
          .grad((x: tf.Tensor) => kdLoss(x, t, { temperature }))(s)
          .dataSync(),
      ] as const;
    });
    expect(soft - kd).toBeCloseTo(temperature * temperature * entropy, 5);
    expect(maxAbsDiff(gSoft, gKd)).toBeLessThan(1e-6);
  });

  it('leaves no tensors behind and rejects bad inputs', () => {
    const s = tf.tensor2d(S);
    const t = tf.tensor2d(T);
    const p = tf.tensor2d(randomDistributions(2, 3, 9));
    expectNoLeak(() => softCrossEntropy(s, t, { temperature: 2 }));
    expectNoLeak(() => softCrossEntropy(s, p, { targets: 'probabilities' }));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => softCrossEntropy(x, t))(s));
    const before = tf.memory().numTensors;
    expectKwsError(() => softCrossEntropy(s, t, { targets: 'probabilities' }), 'INVALID_ARGUMENT');
    expectKwsError(
      () => softCrossEntropy(s, p, { targets: 'probs' as unknown as 'probabilities' }),
      'INVALID_ARGUMENT',
    );
    expectKwsError(() => softCrossEntropy(s, t, { temperature: 0 }), 'INVALID_ARGUMENT');
    expectKwsError(
      () => softCrossEntropy(s, t, { scaleByTemperatureSquared: 1 as unknown as boolean }),
      'INVALID_ARGUMENT',
    );
    const wide = tf.zeros([2, 4]);
    expectKwsError(() => softCrossEntropy(s, wide), 'SHAPE_MISMATCH');
    wide.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t, p]);
  });
});
