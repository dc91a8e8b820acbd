import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AttentionResampling,
  attentionKdLoss,
  kdLoss,
  resampleAttention,
} from '../../src/distill/index.js';
import { crnn, withAttentionOutput } from '../../src/models/index.js';
import {
  expectKwsError,
  expectNoLeak,
  maxAbsDiff,
  randomDistributions,
  randomRows,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

/** Float64 area resampling: mass of p over each target interval [j/to, (j+1)/to) of the unit clip. */
function area64(p: number[], to: number): number[] {
  const from = p.length;
  return Array.from({ length: to }, (_, j) => {
    const lo = j / to;
    const hi = (j + 1) / to;
    let mass = 0;
    p.forEach((pi, i) => {
      const overlap = Math.min(hi, (i + 1) / from) - Math.max(lo, i / from);
      if (overlap > 0) mass += pi * overlap * from;
    });
    return mass;
  });
}

/** Float64 linear resampling at the target centres (half-pixel), then renormalised. */
function linear64(p: number[], to: number): number[] {
  const from = p.length;
  const r = Array.from({ length: to }, (_, j) => {
    const x = Math.min(Math.max(((j + 0.5) * from) / to - 0.5, 0), from - 1);
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, from - 1);
    return (1 - (x - i0)) * (p[i0] as number) + (x - i0) * (p[i1] as number);
  });
  const sum = r.reduce((a, b) => a + b, 0);
  return r.map((v) => v / sum);
}

/** Float64 reference of the loss: mean over rows of Σ q (log(q + ε) − log(p + ε)). */
function attKd64(student: number[][], teacher: number[][], method: AttentionResampling, eps = 1e-8): number {
  let total = 0;
  student.forEach((p, i) => {
    const t = teacher[i] as number[];
    const q = t.length === p.length ? t : method === 'area' ? area64(t, p.length) : linear64(t, p.length);
    q.forEach((qj, j) => {
      total += qj * (Math.log(qj + eps) - Math.log((p[j] as number) + eps));
    });
  });
  return total / student.length;
}

function loss(s: number[][], t: number[][], resample?: AttentionResampling): number {
  return tf.tidy(
    () =>
      attentionKdLoss(
        tf.tensor2d(s),
        tf.tensor2d(t),
        resample === undefined ? undefined : { resample },
      ).dataSync()[0] as number,
  );
}

function resampled(p: number[][], length: number, method: AttentionResampling): Float32Array {
  return tf.tidy(() => resampleAttention(tf.tensor2d(p), length, { method }).dataSync() as Float32Array);
}

describe('resampleAttention', () => {
  it('matches hand-worked values', () => {
    // 3 → 2, area: the middle step is split evenly: [0.5 + 0.3/2, 0.3/2 + 0.2].
    expect(maxAbsDiff(resampled([[0.5, 0.3, 0.2]], 2, 'area'), [0.65, 0.35])).toBeLessThan(1e-7);
    // 3 → 2, linear: samples at source 0.25 and 1.75 are 0.45 and 0.225, renormalised by 0.675.
    expect(maxAbsDiff(resampled([[0.5, 0.3, 0.2]], 2, 'linear'), [2 / 3, 1 / 3])).toBeLessThan(1e-7);
    // 4 → 2, area: pairs are summed.
    expect(maxAbsDiff(resampled([[0.1, 0.2, 0.3, 0.4]], 2, 'area'), [0.3, 0.7])).toBeLessThan(1e-7);
    // 2 → 3, area: [0.6·2/3, 0.6/3 + 0.4/3, 0.4·2/3].
    expect(maxAbsDiff(resampled([[0.6, 0.4]], 3, 'area'), [0.4, 1 / 3, 0.8 / 3])).toBeLessThan(1e-7);
    // 1 → 4 spreads evenly either way; equal lengths copy.
    expect(maxAbsDiff(resampled([[1]], 4, 'linear'), [0.25, 0.25, 0.25, 0.25])).toBeLessThan(1e-7);
    expect(maxAbsDiff(resampled([[0.5, 0.3, 0.2]], 3, 'linear'), [0.5, 0.3, 0.2])).toBeLessThan(1e-7);
  });

  it('matches float64 references and keeps rows summing to 1 for many length pairs', () => {
    for (const [from, to] of [
      [25, 3],
      [13, 7],
      [7, 13],
      [10, 4],
      [4, 10],
      [6, 1],
    ] as const) {
      const p = randomDistributions(3, from, from * 31 + to);
      const area = resampled(p, to, 'area');
      const linear = resampled(p, to, 'linear');
      expect(
        maxAbsDiff(
          area,
          p.flatMap((row) => area64(row, to)),
        ),
      ).toBeLessThan(1e-6);
      expect(
        maxAbsDiff(
          linear,
          p.flatMap((row) => linear64(row, to)),
        ),
      ).toBeLessThan(1e-6);
      for (let r = 0; r < 3; r++) {
        const a = Array.from(area.subarray(r * to, (r + 1) * to)).reduce((x, y) => x + y, 0);
        const l = Array.from(linear.subarray(r * to, (r + 1) * to)).reduce((x, y) => x + y, 0);
        expect(Math.abs(a - 1)).toBeLessThan(1e-6);
        expect(Math.abs(l - 1)).toBeLessThan(1e-6);
      }
    }
  });
});

describe('attentionKdLoss', () => {
  it('matches values worked out by hand', () => {
    // Same length: KL([0.7, 0.3] ‖ [0.5, 0.5]) = 0.7 ln 1.4 + 0.3 ln 0.6.
    expect(loss([[0.5, 0.5]], [[0.7, 0.3]])).toBeCloseTo(0.7 * Math.log(1.4) + 0.3 * Math.log(0.6), 6);
    // Tt = 4 → Ts = 2 by area: q = [0.3, 0.7]; student [0.4, 0.6].
    const want = 0.3 * Math.log(0.3 / 0.4) + 0.7 * Math.log(0.7 / 0.6);
    expect(want).toBeCloseTo(0.021601, 6);
    expect(loss([[0.4, 0.6]], [[0.1, 0.2, 0.3, 0.4]], 'area')).toBeCloseTo(want, 6);
    // Tt = 3 → Ts = 2: area gives q = [0.65, 0.35], linear q = [2/3, 1/3].
    const s = [[0.4, 0.6]];
    const t = [[0.5, 0.3, 0.2]];
    expect(loss(s, t, 'area')).toBeCloseTo(0.65 * Math.log(0.65 / 0.4) + 0.35 * Math.log(0.35 / 0.6), 6);
    expect(loss(s, t, 'linear')).toBeCloseTo(
      (2 / 3) * Math.log(2 / 3 / 0.4) + (1 / 3) * Math.log(1 / 3 / 0.6),
      6,
    );
    expect(loss(s, t)).toBeCloseTo(loss(s, t, 'area'), 7);
  });

  it('matches the float64 reference on random batches with Ts ≠ Tt', () => {
    for (const [ts, tt] of [
      [5, 5],
      [4, 9],
      [9, 4],
      [3, 25],
    ] as const) {
      const s = randomDistributions(3, ts, ts * 7 + tt);
      const t = randomDistributions(3, tt, ts * 11 + tt);
      for (const method of ['area', 'linear'] as const) {
        const want = attKd64(s, t, method);
        expect(Math.abs(loss(s, t, method) - want)).toBeLessThan(1e-5);
      }
    }
  });

  it('is 0 for identical distributions, >= 0 otherwise, and finite with zero weights', () => {
    const p = randomDistributions(2, 6, 3);
    expect(Math.abs(loss(p, p))).toBeLessThan(1e-6);
    // A teacher upsampled exactly (area, 3 → 6 halves each step) matched by the student.
    const t = randomDistributions(2, 3, 4);
    const up = t.map((row) => row.flatMap((v) => [v / 2, v / 2]));
    expect(Math.abs(loss(up, t, 'area'))).toBeLessThan(1e-6);
    for (let seed = 0; seed < 10; seed++) {
      expect(loss(randomDistributions(2, 5, seed), randomDistributions(2, 7, seed + 50))).toBeGreaterThan(0);
    }
    const v = loss([[1, 0, 0]], [[0, 0.5, 0.5]]);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(attKd64([[1, 0, 0]], [[0, 0.5, 0.5]], 'area'), 4);
  });

  it('has gradient −q / (p + ε) / batch w.r.t. the student attention', () => {
    const s = randomDistributions(2, 4, 8);
    const t = randomDistributions(2, 6, 9);
    const got = tf.tidy(() => {
      const teacher = tf.tensor2d(t);
      return tf
        .grad((x: tf.Tensor) => attentionKdLoss(x, teacher, { resample: 'linear' }))(tf.tensor2d(s))
        .dataSync();
    });
    const want = s.flatMap((row, i) => {
      const q = linear64(t[i] as number[], 4);
      return row.map((p, j) => -(q[j] as number) / (p + 1e-8) / 2);
    });
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it('pulls a softmax student towards the resampled teacher under SGD', () => {
    const t = tf.tensor2d(randomDistributions(2, 9, 12));
    const scores = tf.variable(tf.zeros([2, 4]));
    const optimizer = tf.train.sgd(4);
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const l = optimizer.minimize(() => attentionKdLoss(tf.softmax(scores), t), true, [scores])!;
      losses.push(l.dataSync()[0] as number);
      l.dispose();
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.01 * losses[0]!);
    const target = tf.tidy(() => resampleAttention(t, 4).dataSync());
    const learnt = tf.tidy(() => tf.softmax(scores).dataSync());
    expect(maxAbsDiff(learnt, target)).toBeLessThan(0.01);
    optimizer.dispose();
    tf.dispose([t, scores]);
  });

  it('distils a CRNN teacher attention into a CRNN student with fewer time steps', () => {
    const common = {
      numClasses: 3,
      inputShape: [12, 6] as [number, number],
      convChannels: 2,
      hiddenSize: 4,
      gruLayers: 1,
    };
    const student = crnn({ ...common, kernelSize: [4, 2], stride: [4, 2], seed: 1 });
    const teacher = crnn({ ...common, kernelSize: [3, 2], stride: [1, 2], seed: 2, hiddenSize: 6 });
    const studentView = withAttentionOutput(student);
    const teacherView = withAttentionOutput(teacher);
    const x = tf.tensor3d(Float32Array.from(randomRows(2, 72, 5).flat()), [2, 12, 6]);
    const before = tf.memory().numTensors;
    // Teacher outputs computed once, outside the tape.
    const [tLogits, tAtt] = tf.tidy(() => teacherView.predict(x) as tf.Tensor[]) as [tf.Tensor, tf.Tensor];
    expect(tAtt.shape).toEqual([2, 10]);
    const studentVars = student.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const [logits, att] = studentView.apply(x, { training: true }) as tf.Tensor[];
      expect(att!.shape).toEqual([2, 3]);
      return tf.add(kdLoss(logits!, tLogits), attentionKdLoss(att!, tAtt)) as tf.Scalar;
    }, studentVars);
    expect(Number.isFinite(value.dataSync()[0] as number)).toBe(true);
    expect(Object.keys(grads).sort()).toEqual(studentVars.map((v) => v.name).sort());
    for (const g of Object.values(grads)) {
      const a = g.dataSync();
      expect(a.every((v) => Number.isFinite(v))).toBe(true);
    }
    tf.dispose([value, tLogits, tAtt, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    student.dispose();
    teacher.dispose();
  });

  it('leaves no tensors behind', () => {
    const s = tf.tensor2d(randomDistributions(2, 4, 1));
    const t = tf.tensor2d(randomDistributions(2, 7, 2));
    expectNoLeak(() => attentionKdLoss(s, t));
    expectNoLeak(() => attentionKdLoss(s, t, { resample: 'linear' }));
    expectNoLeak(() => attentionKdLoss(s, s));
    expectNoLeak(() => resampleAttention(t, 4));
    expectNoLeak(() => resampleAttention(t, 7, { method: 'linear' }));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => attentionKdLoss(x, t))(s));
    tf.dispose([s, t]);
  });

  it('rejects bad inputs with KwsError codes', () => {
    const s = tf.tensor2d(randomDistributions(2, 4, 1));
    const t = tf.tensor2d(randomDistributions(2, 7, 2));
    const t3 = tf.tensor2d(randomDistributions(3, 7, 2));
    const scores = tf.tensor2d(randomRows(2, 4, 3));
    const rank3 = tf.ones([2, 4, 1]);
    const negative = tf.tensor2d([
      [1.5, -0.5],
      [0.5, 0.5],
    ]);
    const before = tf.memory().numTensors;
    expectKwsError(() => attentionKdLoss(s, t3), 'SHAPE_MISMATCH');
    expectKwsError(() => attentionKdLoss(rank3, t), 'SHAPE_MISMATCH');
    expectKwsError(() => attentionKdLoss(scores, t), 'INVALID_ARGUMENT');
    expectKwsError(() => attentionKdLoss(s, scores), 'INVALID_ARGUMENT');
    expectKwsError(() => attentionKdLoss(negative, t), 'INVALID_ARGUMENT');
    expectKwsError(() => attentionKdLoss(s, t, { resample: 'cubic' as 'area' }), 'INVALID_ARGUMENT');
    for (const eps of [0, -1, 2, Number.NaN])
      expectKwsError(() => attentionKdLoss(s, t, { eps }), 'INVALID_ARGUMENT');
    expectKwsError(() => resampleAttention(t, 0), 'INVALID_ARGUMENT');
    expectKwsError(() => resampleAttention(t, 2.5), 'INVALID_ARGUMENT');
    expectKwsError(() => resampleAttention(scores, 3), 'INVALID_ARGUMENT');
    expectKwsError(() => resampleAttention(t, 3, { method: 'nearest' as 'area' }), 'INVALID_ARGUMENT');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t, t3, scores, rank3, negative]);
  });
});
