import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHintProjection, hintLoss } from '../../src/distill/index.js';
import { expectKwsError, expectNoLeak, maxAbsDiff, randomRows, scalarOf, useCpu } from './helpers.js';

beforeAll(useCpu);

/** Float64 x·W + b on the last axis of row-major `x` with last axis `din`. */
function project64(x: ArrayLike<number>, din: number, w: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const dout = b.length;
  const rows = x.length / din;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dout; o++) {
      let acc = b[o] as number;
      for (let i = 0; i < din; i++) acc += (x[r * din + i] as number) * (w[i * dout + o] as number);
      out.push(acc);
    }
  }
  return out;
}

describe('createHintProjection', () => {
  it('is seeded Glorot-uniform with a zero bias', () => {
    const a = createHintProjection(6, 10, { seed: 3 });
    const b = createHintProjection(6, 10, { seed: 3 });
    const c = createHintProjection(6, 10, { seed: 4 });
    const d = createHintProjection(6, 10);
    expect(a.kernel.shape).toEqual([6, 10]);
    expect(a.bias.shape).toEqual([10]);
    expect([a.studentDim, a.teacherDim]).toEqual([6, 10]);
    expect(a.variables).toEqual([a.kernel, a.bias]);
    expect(a.kernel.trainable && a.bias.trainable).toBe(true);
    const ka = a.kernel.dataSync();
    expect(Array.from(b.kernel.dataSync())).toEqual(Array.from(ka));
    expect(maxAbsDiff(c.kernel.dataSync(), ka)).toBeGreaterThan(0.01);
    expect(Array.from(d.kernel.dataSync())).toEqual(
      Array.from(createHintProjection(6, 10, { seed: 0 }).kernel.dataSync()),
    );
    const limit = Math.sqrt(6 / 16);
    expect(Math.max(...Array.from(ka, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(ka, Math.abs))).toBeGreaterThan(0.8 * limit);
    expect(Array.from(a.bias.dataSync())).toEqual(new Array(10).fill(0));
    const before = tf.memory().numTensors;
    a.dispose();
    a.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
    for (const p of [b, c, d]) p.dispose();
  });

  it('projects the last axis of 2-D, 3-D and 4-D features', () => {
    const proj = createHintProjection(3, 2, { seed: 1 });
    tf.tidy(() => proj.bias.assign(tf.tensor1d([0.5, -1])));
    const w = proj.kernel.dataSync();
    const b = proj.bias.dataSync();
    for (const shape of [
      [4, 3],
      [2, 5, 3],
      [2, 2, 3, 3],
    ]) {
      const n = shape.reduce((p, q) => p * q, 1);
      const x = Float32Array.from(randomRows(1, n, n)[0] as number[]);
      const got = tf.tidy(() => {
        const y = proj.apply(tf.tensor(x, shape));
        expect(y.shape).toEqual([...shape.slice(0, -1), 2]);
        return y.dataSync();
      });
      expect(maxAbsDiff(got, project64(x, 3, w, b))).toBeLessThan(1e-5);
    }
    proj.dispose();
  });
});

describe('hintLoss', () => {
  it('matches a value worked out by hand', () => {
    const proj = createHintProjection(2, 2);
    tf.tidy(() => {
      proj.kernel.assign(
        tf.tensor2d([
          [1, 2],
          [0, -1],
        ]),
      );
      proj.bias.assign(tf.tensor1d([0.5, 0]));
    });
    // s = [[1, 1], [2, 0]] → s·W + b = [[1.5, 1], [2.5, 4]]; t = [[1, 1], [3, 2]];
    // squared differences 0.25, 0, 0.25, 4 → mean 4.5 / 4.
    const got = tf.tidy(
      () =>
        hintLoss(
          tf.tensor2d([
            [1, 1],
            [2, 0],
          ]),
          tf.tensor2d([
            [1, 1],
            [3, 2],
          ]),
          proj,
        ).dataSync()[0] as number,
    );
    expect(got).toBeCloseTo(4.5 / 4, 6);
    proj.dispose();
  });

  it('matches a float64 reference on [B, T, D] features with Ds ≠ Dt', () => {
    const proj = createHintProjection(4, 6, { seed: 9 });
    const s = Float32Array.from(randomRows(1, 2 * 5 * 4, 1)[0] as number[]);
    const t = Float32Array.from(randomRows(1, 2 * 5 * 6, 2)[0] as number[]);
    const y = project64(s, 4, proj.kernel.dataSync(), proj.bias.dataSync());
    const want = y.reduce((acc, v, k) => acc + (v - (t[k] as number)) ** 2, 0) / y.length;
    const got = tf.tidy(
      () => hintLoss(tf.tensor3d(s, [2, 5, 4]), tf.tensor3d(t, [2, 5, 6]), proj).dataSync()[0] as number,
    );
    expect(Math.abs(got - want)).toBeLessThan(1e-5);
    proj.dispose();
  });

  it('gives the projection gradient 2·xᵀ(xW + b − t)/N and the student features 2(xW + b − t)Wᵀ/N', () => {
    const proj = createHintProjection(3, 2, { seed: 5 });
    const s = tf.tensor2d(randomRows(4, 3, 6));
    const t = tf.tensor2d(randomRows(4, 2, 7));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => hintLoss(s, t, proj), [...proj.variables]);
    const [wantKernel, wantBias, wantInput, gotInput] = tf.tidy(() => {
      const r = tf.mul(tf.sub(tf.add(tf.matMul(s, proj.kernel), proj.bias), t), 2 / 8);
      return [
        tf.matMul(s, r, true, false).dataSync(),
        tf.sum(r, 0).dataSync(),
        tf.matMul(r, proj.kernel, false, true).dataSync(),
        tf
          .grad((x: tf.Tensor) => hintLoss(x, t, proj))(s)
          .dataSync(),
      ];
    });
    expect(maxAbsDiff(grads[proj.kernel.name]!.dataSync(), wantKernel!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(grads[proj.bias.name]!.dataSync(), wantBias!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(gotInput!, wantInput!)).toBeLessThan(1e-6);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t]);
    proj.dispose();
  });

  it('decreases under a few SGD steps on the projection', () => {
    const proj = createHintProjection(5, 3, { seed: 2 });
    const s = tf.tensor3d(Float32Array.from(randomRows(1, 4 * 6 * 5, 3)[0] as number[]), [4, 6, 5]);
    // A teacher that is an exact linear map of the student, so the optimum is 0.
    const t = tf.tidy(() =>
      tf.reshape(tf.matMul(tf.reshape(s, [-1, 5]), tf.tensor2d(randomRows(5, 3, 4))), [4, 6, 3]),
    );
    const optimizer = tf.train.sgd(0.1);
    const losses: number[] = [];
    for (let step = 0; step < 10; step++) {
      losses.push(scalarOf(optimizer.minimize(() => hintLoss(s, t, proj), true, [...proj.variables])!));
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    optimizer.dispose();
    tf.dispose([s, t]);
    proj.dispose();
  });

  it('leaves no tensors behind', () => {
    const proj = createHintProjection(3, 4);
    const s = tf.ones([2, 2, 2, 3]);
    const t = tf.zeros([2, 2, 2, 4]);
    expectNoLeak(() => hintLoss(s, t, proj));
    expectNoLeak(() => proj.apply(s));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => hintLoss(x, t, proj))(s));
    tf.dispose([s, t]);
    proj.dispose();
  });

  it('rejects bad inputs with KwsError codes', () => {
    const proj = createHintProjection(3, 4);
    const s = tf.ones([2, 5, 3]);
    const t = tf.zeros([2, 5, 4]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expectKwsError(() => hintLoss(s, tf.zeros([2, 5, 3]), proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(s, tf.zeros([2, 6, 4]), proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(s, tf.zeros([2, 4]), proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(tf.ones([2, 5, 2]), tf.zeros([2, 5, 4]), proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(tf.ones([1, 1, 1, 1, 3]), t, proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(tf.ones([3]), t, proj), 'SHAPE_MISMATCH');
      expectKwsError(() => hintLoss(s, t, {} as never), 'INVALID_ARGUMENT');
      expectKwsError(() => proj.apply(tf.ones([2, 4])), 'SHAPE_MISMATCH');
      expectKwsError(() => proj.apply(tf.ones([2, 3], 'int32')), 'INVALID_ARGUMENT');
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const [a, b] of [
      [0, 4],
      [3, 0],
      [2.5, 4],
      [Number.NaN, 4],
    ]) {
      expectKwsError(() => createHintProjection(a as number, b as number), 'INVALID_ARGUMENT');
    }
    expectKwsError(() => createHintProjection(3, 4, { seed: -1 }), 'INVALID_ARGUMENT');
    expectKwsError(() => createHintProjection(3, 4, { seed: 1.5 }), 'INVALID_ARGUMENT');
    proj.dispose();
    expectKwsError(() => hintLoss(s, t, proj), 'DISPOSED');
    expectKwsError(() => proj.apply(s), 'DISPOSED');
    tf.dispose([s, t]);
    expect(tf.memory().numTensors).toBe(before - 4);
  });
});
