import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSplit, type Split } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram } from '../../src/features/index.js';
import { createRng } from '../../src/random.js';
import { evaluate } from '../../src/train/evaluate.js';
import { learningRateSchedule } from '../../src/train/schedule.js';
import { type BatchStats, type EpochStats, type TrainOptions, train } from '../../src/train/train.js';
import { bandSplit, convModel, denseModel, LABELS, weightValues } from './synthetic.js';

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

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kws-train-test-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const trainSplit = bandSplit(90, 1);
const validSplit = bandSplit(45, 2);

/** The deterministic part of the history (timings differ between runs). */
function curve(history: EpochStats[]): unknown[] {
  return history.map(({ epoch, loss, accuracy, validationLoss, validationAccuracy, learningRate }) => ({
    epoch,
    loss,
    accuracy,
    validationLoss,
    validationAccuracy,
    learningRate,
  }));
}

describe('train', () => {
  it('learns an easy separable task to > 90 % validation accuracy, without leaking tensors', async () => {
    const model = denseModel();
    const tensors = tf.memory().numTensors;
    const result = await train(model, {
      train: trainSplit,
      validation: validSplit,
      epochs: 6,
      batchSize: 15,
      schedule: { warmupEpochs: 1 },
      logger: 'silent',
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.epochs).toBe(6);
    expect(result.steps).toBe(36);
    expect(result.history.length).toBe(6);
    expect(result.history[5]!.loss).toBeLessThan(result.history[0]!.loss / 2);
    expect(result.bestValidationAccuracy).toBeGreaterThan(0.9);
    expect(result.restoredBest).toBe(true);
    // The model holds the best epoch's weights.
    expect(evaluate(model, validSplit).accuracy).toBe(result.bestValidationAccuracy);
    const h = result.history[result.bestEpoch! - 1]!;
    expect(h.validationAccuracy).toBe(result.bestValidationAccuracy);
    expect(h.examplesPerSecond).toBeGreaterThan(0);
    model.dispose();
  });

  it('uses the scheduled learning rate at every step and reports each batch', async () => {
    const model = denseModel();
    const seen: BatchStats[] = [];
    await train(model, {
      train: trainSplit,
      epochs: 3,
      batchSize: 20, // 5 steps per epoch (the last has 10 examples)
      learningRate: 0.2,
      schedule: { warmupEpochs: 1, kind: 'cosine' },
      callbacks: { onBatchEnd: (s) => void seen.push(s) },
      logger: 'silent',
    });
    const lr = learningRateSchedule({ peak: 0.2, totalSteps: 15, warmupSteps: 5 });
    expect(seen.map((s) => s.step)).toEqual([...Array(15).keys()]);
    expect(seen.map((s) => s.learningRate)).toEqual(seen.map((s) => lr(s.step)));
    expect(seen.map((s) => s.size)).toEqual([20, 20, 20, 20, 10, 20, 20, 20, 20, 10, 20, 20, 20, 20, 10]);
    expect(seen.map((s) => s.epoch)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
    model.dispose();
  });

  it('is reproducible: same seed → identical losses and weights; another seed differs', async () => {
    const options: TrainOptions = {
      train: trainSplit,
      validation: validSplit,
      epochs: 2,
      batchSize: 16,
      optimizer: 'adamw',
      learningRate: 0.01,
      classWeights: 'inverse',
      augment: { specAugment: { freqMasks: 1, freqMaskWidth: 2, timeMasks: 1, timeMaskWidth: 2 } },
      seed: 5,
      logger: 'silent',
    };
    const runs = [];
    for (const seed of [5, 5, 6]) {
      const model = convModel();
      const result = await train(model, { ...options, seed });
      runs.push({ curve: curve(result.history), weights: weightValues(model) });
      model.dispose();
    }
    expect(runs[1]!.curve).toEqual(runs[0]!.curve);
    expect(runs[1]!.weights).toEqual(runs[0]!.weights);
    expect(runs[2]!.curve).not.toEqual(runs[0]!.curve);
  });

  it('trains with waveform augmentation reproducibly (time shift + noise, features recomputed)', async () => {
    const rng = createRng(3);
    const audio = Array.from({ length: 12 }, (_, i) =>
      Float32Array.from(
        { length: 1600 },
        (_, t) => 0.3 * Math.sin((2 * Math.PI * (300 + 900 * (i % 3)) * t) / 16000),
      ),
    );
    const specs = audio.map((a) => logMelSpectrogram(a));
    const { frames, bins } = specs[0]!;
    const features = new Float32Array(12 * frames * bins);
    for (const [i, s] of specs.entries()) features.set(s.data, i * frames * bins);
    const split = createSplit({
      features,
      frames,
      bins,
      labels: audio.map((_, i) => i % 3),
      labelNames: LABELS,
      audio,
    });
    const noise = Float32Array.from({ length: 4000 }, () => rng.normal());
    const options: TrainOptions = {
      train: split,
      epochs: 2,
      batchSize: 6,
      augment: { timeShiftMs: 10, noise: { probability: 0.8, maxGain: 0.05, clips: [noise] } },
      logger: 'silent',
    };
    const losses: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const model = denseModel(frames, bins);
      losses.push((await train(model, options)).history.map((h) => h.loss));
      model.dispose();
    }
    expect(losses[1]).toEqual(losses[0]);
    const plain = denseModel(frames, bins);
    const noAug = (await train(plain, { ...options, augment: undefined })).history.map((h) => h.loss);
    expect(noAug).not.toEqual(losses[0]);
    plain.dispose();
  });

  it('trains a conv net on wasm (gradient kernels registered by train) like on cpu', async () => {
    const options: TrainOptions = { train: trainSplit, epochs: 2, batchSize: 30, logger: 'silent' };
    const onCpu = convModel();
    const cpu = await train(onCpu, options);
    const cpuWeights = weightValues(onCpu);
    onCpu.dispose();
    await tf.setBackend('wasm');
    try {
      const onWasm = convModel();
      const wasm = await train(onWasm, options);
      for (const [i, h] of wasm.history.entries()) expect(h.loss).toBeCloseTo(cpu.history[i]!.loss, 4);
      for (const [i, w] of weightValues(onWasm).entries()) {
        for (const [j, v] of w.entries()) expect(v).toBeCloseTo(cpuWeights[i]![j]!, 4);
      }
      onWasm.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('micro-batches sum to the whole batch: same losses and weights to float rounding', async () => {
    const options: TrainOptions = {
      train: trainSplit,
      epochs: 2,
      batchSize: 18,
      classWeights: [1, 2, 0.5],
      learningRate: 0.1,
      logger: 'silent',
    };
    const whole = denseModel();
    const a = await train(whole, options);
    const sliced = denseModel();
    const b = await train(sliced, { ...options, microBatchSize: 4 });
    b.history.forEach((h, i) => {
      expect(h.loss).toBeCloseTo(a.history[i]!.loss, 5);
      expect(h.accuracy).toBe(a.history[i]!.accuracy);
    });
    const wa = weightValues(whole);
    for (const [i, w] of weightValues(sliced).entries()) {
      for (const [j, v] of w.entries()) expect(v).toBeCloseTo(wa[i]![j]!, 5);
    }
    whole.dispose();
    sliced.dispose();
  });

  for (const optimizer of ['sgd', 'adam'] as const) {
    it(`${optimizer}: stop after epoch 2 + resume = an uninterrupted run (weights, history, best)`, async () => {
      const options: TrainOptions = {
        train: trainSplit,
        validation: validSplit,
        epochs: 4,
        batchSize: 16,
        optimizer,
        learningRate: optimizer === 'sgd' ? 0.05 : 0.01,
        schedule: { warmupEpochs: 1 },
        seed: 3,
        logger: 'silent',
      };
      const full = convModel();
      const fullResult = await train(full, { ...options, checkpointDir: tempDir() });

      const dir = tempDir();
      const first = convModel();
      const part = await train(first, {
        ...options,
        checkpointDir: dir,
        callbacks: { onEpochEnd: (s) => (s.epoch === 2 ? 'stop' : undefined) },
      });
      expect(part.stopped).toBe(true);
      expect(part.epochs).toBe(2);
      first.dispose();
      for (const f of ['model.json', 'optimizer.json', 'optimizer.bin', 'state.json']) {
        expect(existsSync(join(dir, 'last', f))).toBe(true);
      }
      expect(existsSync(join(dir, 'best', 'model.json'))).toBe(true);
      const state = JSON.parse(readFileSync(join(dir, 'last', 'state.json'), 'utf8'));
      expect(state).toMatchObject({ version: 1, epoch: 2, step: 12 });
      expect(state.history.length).toBe(2);

      // A fresh process would build the model anew: a model with other initial weights proves
      // that everything comes from the checkpoint.
      const resumed = convModel(6, 9, 77);
      const rest = await train(resumed, { ...options, checkpointDir: dir, resume: true });
      expect(rest.stopped).toBe(false);
      expect(rest.epochs).toBe(4);
      expect(rest.steps).toBe(24);
      expect(curve(rest.history)).toEqual(curve(fullResult.history));
      expect(rest.bestEpoch).toBe(fullResult.bestEpoch);
      expect(weightValues(resumed)).toEqual(weightValues(full));
      full.dispose();
      resumed.dispose();
    });
  }

  it('resume with nothing to resume starts afresh; a mismatched checkpoint is refused', async () => {
    const dir = tempDir();
    const model = denseModel();
    const r = await train(model, {
      train: trainSplit,
      epochs: 1,
      batchSize: 30,
      checkpointDir: dir,
      resume: true,
      logger: 'silent',
    });
    expect(r.epochs).toBe(1);
    await expect(
      train(model, {
        train: trainSplit,
        epochs: 2,
        batchSize: 45,
        checkpointDir: dir,
        resume: true,
        logger: 'silent',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const other = convModel();
    await expect(
      train(other, {
        train: trainSplit,
        epochs: 2,
        batchSize: 30,
        checkpointDir: dir,
        resume: true,
        logger: 'silent',
      }),
    ).rejects.toBeInstanceOf(KwsError);
    model.dispose();
    other.dispose();
  });

  it('stops at once when onBatchEnd says stop or the signal aborts', async () => {
    const model = denseModel();
    let batches = 0;
    const r = await train(model, {
      train: trainSplit,
      epochs: 3,
      batchSize: 10,
      callbacks: { onBatchEnd: () => (++batches === 4 ? 'stop' : undefined) },
      logger: 'silent',
    });
    expect(r).toMatchObject({ stopped: true, epochs: 0, steps: 4 });
    expect(r.history).toEqual([]);
    const controller = new AbortController();
    controller.abort();
    const r2 = await train(model, {
      train: trainSplit,
      epochs: 3,
      batchSize: 10,
      signal: controller.signal,
      logger: 'silent',
    });
    expect(r2).toMatchObject({ stopped: true, steps: 1 });
    model.dispose();
  });

  it('rejects bad options with KwsError', async () => {
    const model = denseModel();
    const base: TrainOptions = { train: trainSplit, epochs: 1, logger: 'silent' };
    const otherLabels: Split = { ...validSplit, labelNames: ['x', 'y', 'z'] };
    const cases: [Partial<TrainOptions> | Record<string, unknown>, string][] = [
      [{ epochs: 0 }, 'INVALID_ARGUMENT'],
      [{ epochs: 1.5 }, 'INVALID_ARGUMENT'],
      [{ batchSize: 0 }, 'INVALID_ARGUMENT'],
      [{ microBatchSize: 0 }, 'INVALID_ARGUMENT'],
      [{ optimizer: 'rmsprop' as never }, 'INVALID_ARGUMENT'],
      [{ learningRate: 0 }, 'INVALID_ARGUMENT'],
      [{ momentum: 1 }, 'INVALID_ARGUMENT'],
      [{ weightDecay: -1 }, 'INVALID_ARGUMENT'],
      [{ schedule: { kind: 'step' as never } }, 'INVALID_ARGUMENT'],
      [{ schedule: { warmupEpochs: -1 } }, 'INVALID_ARGUMENT'],
      [{ validation: otherLabels }, 'INVALID_ARGUMENT'],
      [{ validation: bandSplit(6, 1, 5, 9) }, 'SHAPE_MISMATCH'],
      [{ augment: { noise: { clips: [new Float32Array(100)] } } }, 'INVALID_ARGUMENT'],
      [{ augment: { timeShiftMs: 100 } }, 'INVALID_ARGUMENT'],
      [{ classWeights: [1, 1] }, 'INVALID_ARGUMENT'],
      [{ classWeights: [0, 0, 0] }, 'INVALID_ARGUMENT'],
      [{ classWeights: 'sqrt' as never }, 'INVALID_ARGUMENT'],
      [{ resume: true }, 'INVALID_ARGUMENT'],
      [{ checkpointDir: '' }, 'INVALID_ARGUMENT'],
      [{ logger: 'loud' as never }, 'INVALID_ARGUMENT'],
      [{ callbacks: { onEpochEnd: 3 as never } }, 'INVALID_ARGUMENT'],
      [{ seed: Number.NaN }, 'INVALID_ARGUMENT'],
      [{ learningrate: 0.1 }, 'INVALID_ARGUMENT'],
      [{ train: bandSplit(6, 1, 6, 8) }, 'SHAPE_MISMATCH'],
      [{ train: bandSplit(0, 1) }, 'EMPTY_INPUT'],
    ];
    for (const [patch, code] of cases) {
      await expect(
        train(model, { ...base, ...patch } as TrainOptions),
        JSON.stringify(patch),
      ).rejects.toMatchObject({
        name: 'KwsError',
        code,
      });
    }
    await expect(train(model.layers[1] as never, base)).rejects.toBeInstanceOf(KwsError);
    model.dispose();
  });
});
