import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_KD_TEMPERATURE,
  hardCrossEntropy,
  kdLoss,
  logitMse,
  mixedKdLoss,
} from '../../src/distill/index.js';
import {
  expectKwsError,
  expectNoLeak,
  maxAbsDiff,
  randomRows,
  scalarOf,
  softmax64,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

/** Float64 reference: T² · mean over rows of KL(softmax(t/T) ‖ softmax(s/T)). */
function kd64(s: number[][], t: number[][], temperature: number): number {
  let total = 0;
  s.forEach((row, i) => {
    const p = softmax64(t[i] as number[], temperature);
    const q = softmax64(row, temperature);
    p.forEach((pc, c) => {
      if (pc > 0) total += pc * (Math.log(pc) - Math.log(q[c] as number));
    });
  });
  return (temperature * temperature * total) / s.length;
}

/** Float64 reference of the analytic gradient T·(softmax(s/T) − softmax(t/T)) / batch. */
function kdGrad64(s: number[][], t: number[][], temperature: number): number[] {
  return s.flatMap((row, i) => {
    const p = softmax64(t[i] as number[], temperature);
    return softmax64(row, temperature).map((qc, c) => (temperature * (qc - (p[c] as number))) / s.length);
  });
}

/** Float64 hard-label cross-entropy (batch mean). */
function ce64(z: number[][], labels: number[]): number {
  let total = 0;
  z.forEach((row, i) => {
    total -= Math.log(softmax64(row, 1)[labels[i] as number] as number);
  });
  return total / z.length;
}

const S = [
  [1, 2, 3],
  [0.5, -1, 2],
];
const T = [
  [3, 1, 0],
  [1, 1, 1],
];

function kd(s: number[][], t: number[][], temperature?: number): number {
  const opts = temperature === undefined ? undefined : { temperature };
  return tf.tidy(() => kdLoss(tf.tensor2d(s), tf.tensor2d(t), opts).dataSync()[0] as number);
}

describe('kdLoss', () => {
  it('matches a value worked out by hand', () => {
    // p = softmax([ln 3, 0]) = [3/4, 1/4], q = [1/2, 1/2]: KL = 3/4·ln(3/2) + 1/4·ln(1/2).
    const kl = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
    expect(kl).toBeCloseTo(0.130812, 6);
    expect(kd([[0, 0]], [[Math.log(3), 0]], 1)).toBeCloseTo(kl, 6);
    // At T = 2 the teacher logits are halved first, and the result is scaled by T² = 4.
    expect(kd([[0, 0]], [[2 * Math.log(3), 0]], 2)).toBeCloseTo(4 * kl, 5);
  });

  it('matches a float64 reference on 2x3 logits at several temperatures', () => {
    for (const temperature of [0.5, 1, 2, 4, 10]) {
      const want = kd64(S, T, temperature);
      expect(Math.abs(kd(S, T, temperature) - want)).toBeLessThan(1e-5 * Math.max(1, want));
    }
    expect(DEFAULT_KD_TEMPERATURE).toBe(4);
    expect(kd(S, T)).toBeCloseTo(kd64(S, T, 4), 5);
  });

  it('is 0 when the student equals the teacher (or differs by a per-row constant)', () => {
    expect(Math.abs(kd(S, S, 4))).toBeLessThan(1e-6);
    const shifted = S.map((row, i) => row.map((v) => v + 5 * (i + 1)));
    expect(Math.abs(kd(shifted, S, 2))).toBeLessThan(1e-5);
  });

  it('is positive for different logits and stays finite for very confident ones', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const s = randomRows(4, 5, seed, 3);
      const t = randomRows(4, 5, seed + 100, 3);
      const v = kd(s, t, 1 + (seed % 5));
      expect(v).toBeGreaterThan(0);
      expect(Math.abs(v - kd64(s, t, 1 + (seed % 5)))).toBeLessThan(1e-4 * Math.max(1, v));
    }
    // softmax then log would give 0·log 0 = NaN here; log-softmax keeps it finite.
    const v = kd([[200, -200, 0]], [[-300, 300, 0]], 1);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(kd64([[200, -200, 0]], [[-300, 300, 0]], 1), 0);
  });

  it('has gradient T·(softmax(s/T) − softmax(t/T)) / batch w.r.t. the student logits', () => {
    for (const temperature of [1, 2, 4]) {
      const s = randomRows(3, 4, 7, 2);
      const t = randomRows(3, 4, 8, 2);
      const got = tf.tidy(() => {
        const teacher = tf.tensor2d(t);
        return tf
          .grad((x: tf.Tensor) => kdLoss(x, teacher, { temperature }))(tf.tensor2d(s))
          .dataSync();
      });
      const want = kdGrad64(s, t, temperature);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      // The formula itself, against central differences of the float64 reference.
      const h = 1e-5;
      const numeric = s.flatMap((row, i) =>
        row.map((_, c) => {
          const plus = s.map((r) => r.slice());
          const minus = s.map((r) => r.slice());
          (plus[i] as number[])[c] = (row[c] as number) + h;
          (minus[i] as number[])[c] = (row[c] as number) - h;
          return (kd64(plus, t, temperature) - kd64(minus, t, temperature)) / (2 * h);
        }),
      );
      expect(maxAbsDiff(numeric, want)).toBeLessThan(1e-8);
    }
  });

  it('sends gradients only to the listed student variables; teacher outputs are constants', () => {
    const x = tf.tensor2d(randomRows(4, 5, 11));
    const student = tfl.sequential({
      layers: [
        tfl.layers.dense({
          units: 3,
          inputShape: [5],
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
        }),
      ],
    });
    const teacher = tfl.sequential({
      layers: [
        tfl.layers.dense({
          units: 3,
          inputShape: [5],
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
          biasInitializer: tfl.initializers.constant({ value: 0.3 }),
        }),
      ],
    });
    const studentVars = student.trainableWeights.map((w) => w.read() as tf.Variable);
    const teacherVars = teacher.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = tf.memory().numTensors;

    // Teacher run inside the closure: only the listed student variables get gradients.
    const inside = tf.variableGrads(
      () => kdLoss(student.apply(x) as tf.Tensor, teacher.apply(x) as tf.Tensor, { temperature: 2 }),
      studentVars,
    );
    expect(Object.keys(inside.grads).sort()).toEqual(studentVars.map((v) => v.name).sort());
    for (const v of teacherVars) expect(inside.grads[v.name]).toBeUndefined();

    // Teacher run outside the tape (what the distill loop does): identical value and gradients.
    const teacherLogits = tf.tidy(() => teacher.predict(x) as tf.Tensor);
    const outside = tf.variableGrads(
      () => kdLoss(student.apply(x) as tf.Tensor, teacherLogits, { temperature: 2 }),
      studentVars,
    );
    expect(Math.abs((outside.value.dataSync()[0] as number) - (inside.value.dataSync()[0] as number))).toBe(
      0,
    );
    for (const v of studentVars) {
      expect(maxAbsDiff(outside.grads[v.name]!.dataSync(), inside.grads[v.name]!.dataSync())).toBe(0);
    }

    // The kernel gradient is xᵀ·T(q − p)/B, from the analytic logit gradient.
    const s = tf.tidy(() => (student.predict(x) as tf.Tensor2D).arraySync());
    const t = teacherLogits.arraySync() as number[][];
    const dLogits = tf.tensor2d(kdGrad64(s as number[][], t, 2), [4, 3]);
    const wantKernel = tf.tidy(() => tf.matMul(x, dLogits, true, false).dataSync());
    const kernelVar = studentVars.find((v) => v.shape.length === 2)!;
    expect(maxAbsDiff(outside.grads[kernelVar.name]!.dataSync(), wantKernel)).toBeLessThan(1e-6);

    // Why the loop must not list the teacher: its variables would then be trained too.
    const both = tf.variableGrads(
      () => kdLoss(student.apply(x) as tf.Tensor, teacher.apply(x) as tf.Tensor, { temperature: 2 }),
      [...studentVars, ...teacherVars],
    );
    const teacherGrad = both.grads[teacherVars[0]!.name]!;
    expect(tf.tidy(() => tf.max(tf.abs(teacherGrad)).dataSync()[0] as number)).toBeGreaterThan(1e-4);

    tf.dispose([inside.value, outside.value, both.value, teacherLogits, dLogits]);
    tf.dispose(Object.values(inside.grads));
    tf.dispose(Object.values(outside.grads));
    tf.dispose(Object.values(both.grads));
    expect(tf.memory().numTensors).toBe(before);
    student.dispose();
    teacher.dispose();
    x.dispose();
  });

  it('drives a student towards its teacher under optimizer.minimize', () => {
    const x = tf.tensor2d(randomRows(6, 4, 21));
    const w = tf.variable(tf.tensor2d(randomRows(4, 3, 22)));
    const teacherLogits = tf.tidy(() => tf.matMul(x, tf.tensor2d(randomRows(4, 3, 23, 2))));
    const optimizer = tf.train.sgd(0.2);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const loss = optimizer.minimize(
        () => kdLoss(tf.matMul(x, w), teacherLogits, { temperature: 2 }),
        true,
        [w],
      );
      losses.push(scalarOf(loss!));
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    optimizer.dispose();
    tf.dispose([x, w, teacherLogits]);
  });

  it('leaves no tensors behind', () => {
    const s = tf.tensor2d(S);
    const t = tf.tensor2d(T);
    expectNoLeak(() => kdLoss(s, t));
    expectNoLeak(() => logitMse(s, t));
    expectNoLeak(() => mixedKdLoss(s, t, [0, 2]));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => kdLoss(x, t))(s));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => mixedKdLoss(x, t, [0, 2], { alpha: 0.3 }))(s));
    tf.dispose([s, t]);
  });

  it('rejects bad inputs with KwsError codes', () => {
    const s = tf.tensor2d(S);
    const t = tf.tensor2d(T);
    const wide = tf.zeros([2, 4]);
    const flat = tf.zeros([6]);
    const ints = tf.zeros([2, 3], 'int32');
    const empty = tf.zeros([0, 3]);
    const before = tf.memory().numTensors;
    expectKwsError(() => kdLoss(s, wide), 'SHAPE_MISMATCH');
    expectKwsError(() => kdLoss(flat, flat), 'SHAPE_MISMATCH');
    expectKwsError(() => kdLoss(s, ints), 'INVALID_ARGUMENT');
    expectKwsError(() => kdLoss(empty, empty), 'EMPTY_INPUT');
    expectKwsError(() => kdLoss([[1]] as unknown as tf.Tensor, t), 'INVALID_ARGUMENT');
    for (const temperature of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectKwsError(() => kdLoss(s, t, { temperature }), 'INVALID_ARGUMENT');
      expectKwsError(() => mixedKdLoss(s, t, [0, 1], { temperature }), 'INVALID_ARGUMENT');
    }
    expectKwsError(() => kdLoss(s, t, 4 as unknown as { temperature: number }), 'INVALID_ARGUMENT');
    expectKwsError(() => logitMse(s, wide), 'SHAPE_MISMATCH');
    for (const alpha of [-0.1, 1.1, Number.NaN]) {
      expectKwsError(() => mixedKdLoss(s, t, [0, 1], { alpha }), 'INVALID_ARGUMENT');
    }
    expectKwsError(() => mixedKdLoss(s, t, [0, 3]), 'INVALID_ARGUMENT');
    expectKwsError(() => mixedKdLoss(s, t, [0, 3], { alpha: 0 }), 'INVALID_ARGUMENT');
    expectKwsError(() => mixedKdLoss(s, t, [0]), 'SHAPE_MISMATCH');
    expectKwsError(() => mixedKdLoss(s, wide, [0, 1]), 'SHAPE_MISMATCH');
    expect(tf.memory().numTensors).toBe(before);
    const disposed = tf.zeros([2, 3]);
    disposed.dispose();
    expectKwsError(() => kdLoss(s, disposed), 'DISPOSED');
    tf.dispose([s, t, wide, flat, ints, empty]);
  });
});

describe('logitMse', () => {
  it('is the mean squared difference over every element', () => {
    // Differences: [-2, 1, 3, -0.5, -2, 1]; squares sum to 4 + 1 + 9 + 0.25 + 4 + 1 = 19.25.
    const got = tf.tidy(() => logitMse(tf.tensor2d(S), tf.tensor2d(T)).dataSync()[0] as number);
    expect(got).toBeCloseTo(19.25 / 6, 6);
  });

  it('has gradient 2(s − t)/(B·C)', () => {
    const got = tf.tidy(() => {
      const t = tf.tensor2d(T);
      return tf
        .grad((x: tf.Tensor) => logitMse(x, t))(tf.tensor2d(S))
        .dataSync();
    });
    const want = S.flatMap((row, i) => row.map((v, c) => (2 * (v - (T[i]![c] as number))) / 6));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
  });
});

describe('mixedKdLoss', () => {
  it('is alpha·CE(hard labels) + (1 − alpha)·KD', () => {
    const labels = [2, 0];
    const ce = ce64(S, labels);
    expect(ce).toBeCloseTo(
      (-Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) -
        Math.log(Math.exp(0.5) / (Math.exp(0.5) + Math.exp(-1) + Math.exp(2)))) /
        2,
      12,
    );
    for (const [alpha, temperature] of [
      [0.5, 4],
      [0.3, 2],
      [0, 3],
      [1, 3],
      [0.9, 1],
    ] as const) {
      const got = tf.tidy(
        () =>
          mixedKdLoss(tf.tensor2d(S), tf.tensor2d(T), labels, { alpha, temperature }).dataSync()[0] as number,
      );
      const want = alpha * ce + (1 - alpha) * kd64(S, T, temperature);
      expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, want));
    }
    // Defaults: alpha 0.5, T 4.
    const def = tf.tidy(() => mixedKdLoss(tf.tensor2d(S), tf.tensor2d(T), labels).dataSync()[0] as number);
    expect(def).toBeCloseTo(0.5 * ce + 0.5 * kd64(S, T, 4), 5);
  });

  it('passes class weights and label smoothing to the CE term', () => {
    const opts = { classWeights: [1, 2, 3], labelSmoothing: 0.1 };
    const got = tf.tidy(() => {
      const s = tf.tensor2d(S);
      const t = tf.tensor2d(T);
      const mixed = mixedKdLoss(s, t, [2, 0], { alpha: 0.25, temperature: 2, ...opts });
      const parts = tf.add(
        tf.mul(hardCrossEntropy(s, [2, 0], opts), 0.25),
        tf.mul(kdLoss(s, t, { temperature: 2 }), 0.75),
      );
      return [mixed.dataSync()[0] as number, parts.dataSync()[0] as number];
    });
    expect(got[0]).toBeCloseTo(got[1]!, 6);
  });
});
