import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHintProjection, distill, hintLoss, kdLoss } from '../../src/distill/index.js';
import { KwsError } from '../../src/errors.js';
import { crnn } from '../../src/models/index.js';
import { evaluate, train } from '../../src/train/index.js';
import { bandSplit, convModel, denseModel, weightValues } from '../train/synthetic.js';
import { useCpu } from './helpers.js';

const trainSplit = bandSplit(60, 1);
const validSplit = bandSplit(30, 2);
let teacher: tfl.LayersModel;

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kws-distill-test-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await useCpu();
  teacher = denseModel(6, 9, 11);
  await train(teacher, {
    train: trainSplit,
    validation: validSplit,
    epochs: 6,
    batchSize: 15,
    schedule: { warmupEpochs: 1 },
    logger: 'silent',
  });
});

afterAll(() => {
  teacher.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A student: dense per frame (4 units, not 8) → mean → logits. */
function smallStudent(seed = 5, classes = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 9] });
  let x = tfl.layers
    .dense({ units: 6, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling1d({}).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const base = {
  train: trainSplit,
  epochs: 4,
  batchSize: 12,
  schedule: { warmupEpochs: 0 },
  logger: 'silent' as const,
};

function same(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => tf.util.arraysEqual(w, b[i] as Float32Array));
}

async function expectKwsReject(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KwsError);
  expect((e as KwsError).code).toBe(code);
}

describe('distill', () => {
  it('teacher is good; pure KD (no labels) lifts a fresh student far above its initial accuracy, no leaks', async () => {
    expect(evaluate(teacher, validSplit).accuracy).toBeGreaterThan(0.9);
    const student = smallStudent();
    const initial = evaluate(student, validSplit).accuracy;
    const teacherBefore = weightValues(teacher);
    const tensors = tf.memory().numTensors;
    const result = await distill({
      ...base,
      teacher,
      student,
      validation: validSplit,
      loss: 'kd',
      temperature: 2,
      epochs: 8,
      optimizer: 'adam',
      learningRate: 0.02,
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.epochs).toBe(8);
    expect(result.history[7]!.loss).toBeLessThan(result.history[0]!.loss / 2);
    const after = evaluate(student, validSplit).accuracy;
    expect(after).toBeGreaterThan(0.85);
    expect(after).toBeGreaterThan(initial + 0.3);
    expect(same(weightValues(teacher), teacherBefore)).toBe(true);
    student.dispose();
  });

  it('cached teacher logits give bit-identical students to recomputing them; same seed → same weights', async () => {
    const runs: Float32Array[][] = [];
    const losses: number[][] = [];
    for (const cacheTeacherLogits of [true, false, true]) {
      const student = smallStudent(7);
      const r = await distill({ ...base, teacher, student, loss: 'mixed', seed: 3, cacheTeacherLogits });
      runs.push(weightValues(student));
      losses.push(r.history.map((h) => h.loss));
      student.dispose();
    }
    expect(same(runs[0]!, runs[1]!)).toBe(true);
    expect(same(runs[0]!, runs[2]!)).toBe(true);
    expect(losses[0]).toEqual(losses[1]);
    // A different seed reshuffles: different weights.
    const other = smallStudent(7);
    await distill({ ...base, teacher, student: other, loss: 'mixed', seed: 4 });
    expect(same(weightValues(other), runs[0]!)).toBe(false);
    other.dispose();
  });

  it('micro-batching scales the distillation loss so the result matches whole batches', async () => {
    const whole = smallStudent(17);
    const sliced = smallStudent(17);
    const a = await distill({ ...base, epochs: 2, teacher, student: whole, loss: 'mixed' });
    const b = await distill({
      ...base,
      epochs: 2,
      teacher,
      student: sliced,
      loss: 'mixed',
      microBatchSize: 5,
    });
    expect(b.history[1]!.loss).toBeCloseTo(a.history[1]!.loss, 5);
    const wa = weightValues(whole).flatMap((w) => [...w]);
    const wb = weightValues(sliced).flatMap((w) => [...w]);
    expect(Math.max(...wa.map((v, i) => Math.abs(v - (wb[i] as number))))).toBeLessThan(1e-5);
    whole.dispose();
    sliced.dispose();
  });

  it('never changes the teacher (batch-norm statistics included) and trains only the student + hint projection', async () => {
    // A conv teacher with batch norm, recomputed every batch (no cache): training mode would move
    // its moving statistics; inference mode must not.
    const convTeacher = convModel(6, 9, 21);
    const teacherBefore = weightValues(convTeacher);
    const student = smallStudent(9);
    const studentBefore = weightValues(student);
    const projection = createHintProjection(3, 3, { seed: 1 });
    const kernelBefore = (projection.kernel.dataSync() as Float32Array).slice();
    const seen: number[] = [];
    const tensors = tf.memory().numTensors;
    await distill({
      ...base,
      epochs: 2,
      teacher: convTeacher,
      student,
      cacheTeacherLogits: false,
      extraVariables: projection.variables,
      loss: (ctx) => {
        seen.push(ctx.indices.length);
        return tf.add(
          kdLoss(ctx.studentLogits, ctx.teacherLogits, { temperature: ctx.temperature }),
          hintLoss(ctx.studentLogits, ctx.teacherLogits, projection),
        ) as tf.Scalar;
      },
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(2 * trainSplit.labels.length);
    expect(same(weightValues(convTeacher), teacherBefore)).toBe(true);
    const studentAfter = weightValues(student);
    expect(studentAfter.every((w, i) => !tf.util.arraysEqual(w, studentBefore[i] as Float32Array))).toBe(
      true,
    );
    expect(tf.util.arraysEqual(projection.kernel.dataSync() as Float32Array, kernelBefore)).toBe(false);
    projection.dispose();
    convTeacher.dispose();
    student.dispose();
  });

  it('resumes through the training loop: stop after epoch 2 + resume = an uninterrupted run', async () => {
    const full = smallStudent(13);
    await distill({ ...base, teacher, student: full, loss: 'mixed', optimizer: 'adam', seed: 2 });
    const dir = tempDir();
    const first = smallStudent(13);
    const stopped = await distill({
      ...base,
      teacher,
      student: first,
      loss: 'mixed',
      optimizer: 'adam',
      seed: 2,
      checkpointDir: dir,
      callbacks: { onEpochEnd: (s) => (s.epoch === 2 ? 'stop' : undefined) },
    });
    expect(stopped.stopped).toBe(true);
    expect(stopped.epochs).toBe(2);
    const resumed = smallStudent(99); // different initial weights: all must come from the checkpoint
    const r = await distill({
      ...base,
      teacher,
      student: resumed,
      loss: 'mixed',
      optimizer: 'adam',
      seed: 2,
      checkpointDir: dir,
      resume: true,
    });
    expect(r.epochs).toBe(4);
    expect(r.history.length).toBe(4);
    expect(same(weightValues(resumed), weightValues(full))).toBe(true);
    for (const m of [full, first, resumed]) m.dispose();
  });

  it("'attention+kd' trains a CRNN student against a CRNN teacher with a different time length", async () => {
    const frames = 12;
    const bins = 9;
    const split = bandSplit(36, 5, frames, bins);
    const common = { numClasses: 3, inputShape: [frames, bins] as const, convChannels: 2, gruLayers: 1 };
    const crnnTeacher = crnn({ ...common, kernelSize: [2, 3], stride: [1, 2], hiddenSize: 8, seed: 1 });
    const crnnStudent = crnn({ ...common, kernelSize: [4, 3], stride: [2, 2], hiddenSize: 4, seed: 2 });
    const teacherBefore = weightValues(crnnTeacher);
    const attentionLosses: number[] = [];
    const tensors = tf.memory().numTensors;
    const result = await distill({
      train: split,
      teacher: crnnTeacher,
      student: crnnStudent,
      loss: 'attention+kd',
      attentionWeight: 2,
      epochs: 5,
      batchSize: 12,
      optimizer: 'adam',
      learningRate: 0.02,
      schedule: { warmupEpochs: 0, kind: 'constant' },
      logger: 'silent',
    });
    expect(tf.memory().numTensors).toBe(tensors);
    const losses = result.history.map((h) => h.loss);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    expect(same(weightValues(crnnTeacher), teacherBefore)).toBe(true);
    // The custom-loss path gets both attentions with their own lengths (11 vs 5 steps).
    const student2 = crnn({ ...common, kernelSize: [4, 3], stride: [2, 2], hiddenSize: 4, seed: 2 });
    await distill({
      train: split,
      teacher: crnnTeacher,
      student: student2,
      attention: true,
      epochs: 1,
      batchSize: 36,
      logger: 'silent',
      loss: (ctx) => {
        attentionLosses.push(ctx.teacherAttention!.shape[1]!, ctx.studentAttention!.shape[1]!);
        return kdLoss(ctx.studentLogits, ctx.teacherLogits);
      },
    });
    expect(attentionLosses).toEqual([11, 5]);
    for (const m of [crnnTeacher, crnnStudent, student2]) m.dispose();
  });

  it('rejects bad options with KwsError', async () => {
    const student = smallStudent();
    const four = smallStudent(5, 4);
    const tensors = tf.memory().numTensors;
    await expectKwsReject(distill({ ...base, teacher: four, student }), 'INVALID_ARGUMENT');
    await expectKwsReject(distill({ ...base, teacher, student, alpha: 1.5 }), 'INVALID_ARGUMENT');
    await expectKwsReject(distill({ ...base, teacher, student, alpha: -0.1 }), 'INVALID_ARGUMENT');
    await expectKwsReject(distill({ ...base, teacher, student, temperature: 0 }), 'INVALID_ARGUMENT');
    await expectKwsReject(distill({ ...base, teacher, student, temperature: -2 }), 'INVALID_ARGUMENT');
    await expectKwsReject(distill({ ...base, teacher, student, loss: 'attention+kd' }), 'INVALID_ARGUMENT');
    await expectKwsReject(
      distill({ ...base, teacher, student, loss: 'nope' as unknown as 'kd' }),
      'INVALID_ARGUMENT',
    );
    await expectKwsReject(distill({ ...base, teacher, student: teacher }), 'INVALID_ARGUMENT');
    await expectKwsReject(
      distill({ ...base, teacher, student, cacheTeacherLogits: true, augment: { specAugment: {} } }),
      'INVALID_ARGUMENT',
    );
    await expectKwsReject(
      distill({ ...base, teacher, student, loss: () => tf.scalar(1) as tf.Scalar }),
      'INVALID_ARGUMENT',
    );
    await expectKwsReject(distill({ ...base, epochs: 0, teacher, student }), 'INVALID_ARGUMENT');
    expect(tf.memory().numTensors).toBe(tensors);
    student.dispose();
    four.dispose();
  });
});
