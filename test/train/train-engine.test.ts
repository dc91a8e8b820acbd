/**
 * `train(model, { engine })`: the compiled training program against the tfjs tape on a tiny
 * BC-ResNet-1 (seeded channel dropout, batch and sub-spectral norms): same losses and weights
 * (micro-batches and class weights included), bit-identical seeded runs, exact resume, the same
 * with two worker threads, and the fallback / refusal for models it cannot run (the CRNN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSplit, type Split } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';
import { bcResNet, crnn } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
import { chooseEngine } from '../../src/train/compiled/engine.js';
import { liveGradientWorkers } from '../../src/train/parallel/worker-pool.js';
import { type TrainOptions, type TrainResult, train } from '../../src/train/train.js';
import { weightValues } from './synthetic.js';

// BC-ResNet-1 (every layer kind, 12 seeded dropout layers) on 24 frames × 40 mels, 12 classes.
// Small learning rate: a tiny model on synthetic data soon has batch-norm channels whose batch
// variance is far below ε, where float32 rounding decides the gradient (tfjs against itself at
// weights 1e-6 apart then differs by 1e-2); near the initial weights both engines agree to 1e-6.
const FRAMES = 24;
const BINS = 40;
const CLASSES = 12;
const LABELS = Array.from({ length: CLASSES }, (_, j) => `c${j}`);

/** `n` examples: unit noise plus a class band of random strength per frame (the loss can go down). */
function split(n: number, seed: number): Split {
  const rng = createRng(seed);
  const features = new Float32Array(n * FRAMES * BINS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(CLASSES);
    labels[i] = c;
    for (let t = 0; t < FRAMES; t++) {
      const strength = 2 * rng.next();
      for (let m = 0; m < BINS; m++) {
        const on = Math.floor(m / 3) === c ? strength : 0;
        features[(i * FRAMES + t) * BINS + m] = on + rng.normal();
      }
    }
  }
  return createSplit({ features, frames: FRAMES, bins: BINS, labels, labelNames: LABELS });
}

const build = (): tfl.LayersModel =>
  bcResNet({ width: 1, numClasses: CLASSES, inputShape: [FRAMES, BINS], dropout: 0.1, seed: 3 });

const base: TrainOptions = {
  train: split(24, 1),
  epochs: 2,
  batchSize: 8,
  learningRate: 0.01,
  schedule: { warmupEpochs: 0 },
  seed: 5,
  logger: 'silent',
  restoreBest: false,
};

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

let tensors = 0;
beforeEach(() => {
  tensors = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensors);
  expect(liveGradientWorkers()).toBe(0);
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Trains a fresh model; returns the result and its weights (the model is disposed). */
async function run(
  options: Partial<TrainOptions>,
): Promise<{ result: TrainResult; weights: Float32Array[] }> {
  const model = build();
  try {
    const result = await train(model, { ...base, ...options });
    return { result, weights: weightValues(model) };
  } finally {
    model.dispose();
  }
}

/** Largest |a − b| over max(1, max |b|), over every weight tensor. */
function weightError(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  b.forEach((ref, k) => {
    const ours = a[k] as Float32Array;
    let err = 0;
    let scale = 1;
    for (let i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs((ours[i] as number) - (ref[i] as number)));
      scale = Math.max(scale, Math.abs(ref[i] as number));
    }
    worst = Math.max(worst, err / scale);
  });
  return worst;
}

function expectSameTraining(
  a: { result: TrainResult; weights: Float32Array[] },
  b: { result: TrainResult; weights: Float32Array[] },
): void {
  expect(a.result.history.length).toBe(b.result.history.length);
  a.result.history.forEach((h, e) => {
    const ref = b.result.history[e]?.loss as number;
    expect(Math.abs(h.loss - ref) / ref).toBeLessThan(1e-4);
  });
  expect(weightError(a.weights, b.weights)).toBeLessThan(1e-4);
}

describe("train with engine 'compiled'", () => {
  it("matches engine 'tfjs' (losses per epoch, final weights and statistics), bit-identically when repeated", async () => {
    const compiled = await run({ engine: 'compiled' });
    const tfjs = await run({ engine: 'tfjs' });
    expectSameTraining(compiled, tfjs);
    // The moving statistics were written back to the model (they start at mean 0, variance 1).
    const probe = build();
    const names = probe.weights.map((w) => w.originalName);
    probe.dispose();
    const moved = names.flatMap((name, k) =>
      name.endsWith('/moving_mean') ? [...(compiled.weights[k] as Float32Array)] : [],
    );
    expect(Math.max(...moved.map(Math.abs))).toBeGreaterThan(1e-2);
    const again = await run({ engine: 'auto' });
    expect(again.result.history.map((h) => [h.loss, h.accuracy])).toEqual(
      compiled.result.history.map((h) => [h.loss, h.accuracy]),
    );
    expect(again.weights).toEqual(compiled.weights);
  });

  it('matches tfjs with micro-batches and class weights', async () => {
    const weights = Array.from({ length: CLASSES }, (_, j) => 0.25 + (j % 4) * 0.5);
    const options = { microBatchSize: 4, classWeights: weights };
    const compiled = await run({ ...options, engine: 'compiled' });
    const tfjs = await run({ ...options, engine: 'tfjs' });
    expectSameTraining(compiled, tfjs);
  });

  it('checkpoint + resume reproduces an uninterrupted run exactly', async () => {
    const options: Partial<TrainOptions> = { engine: 'compiled', epochs: 3, validation: split(8, 2) };
    const full = await run(options);
    const dir = mkdtempSync(join(tmpdir(), 'kws-train-engine-'));
    dirs.push(dir);
    await run({ ...options, checkpointDir: dir, callbacks: { onEpochEnd: () => 'stop' } });
    const resumed = await run({ ...options, checkpointDir: dir, resume: true });
    expect(resumed.result.history.map((h) => [h.loss, h.accuracy, h.validationLoss])).toEqual(
      full.result.history.map((h) => [h.loss, h.accuracy, h.validationLoss]),
    );
    expect(resumed.weights).toEqual(full.weights);
  });

  it('with 2 workers matches 2 tfjs workers', async () => {
    const options: Partial<TrainOptions> = { workers: 2, epochs: 1, microBatchSize: 2 };
    const compiled = await run({ ...options, engine: 'compiled' });
    const tfjs = await run({ ...options, engine: 'tfjs' });
    expectSameTraining(compiled, tfjs);
  });
});

describe('engine choice', () => {
  it("'auto' trains the CRNN with tfjs; 'compiled' refuses it, naming the layer", async () => {
    const model = crnn({
      numClasses: CLASSES,
      inputShape: [FRAMES, BINS],
      kernelSize: [5, 3],
      stride: [2, 2],
      hiddenSize: 8,
      gruLayers: 1,
      seed: 1,
    });
    const io = { frames: FRAMES, batchHooks: [] };
    expect(chooseEngine(model, 'auto', io).kind).toBe('tfjs');
    const refused = train(model, { ...base, engine: 'compiled' });
    await expect(refused).rejects.toThrow(KwsError);
    await expect(refused).rejects.toThrow(/engine 'compiled' cannot train this model: layer "[^"]+" \(\w+\)/);
    const result = await train(model, { ...base, epochs: 1, engine: 'auto' });
    expect(result.steps).toBe(3);
    model.dispose();
  });

  it("'auto' uses tfjs with per-batch hooks; 'compiled' refuses them; a bad engine is refused", async () => {
    const model = build();
    expect(chooseEngine(model, 'auto', { frames: FRAMES, batchHooks: [] }).kind).toBe('compiled');
    expect(chooseEngine(model, 'auto', { frames: FRAMES, batchHooks: ['lossFn'] }).kind).toBe('tfjs');
    expect(chooseEngine(model, 'tfjs', { frames: FRAMES, batchHooks: [] }).kind).toBe('tfjs');
    const hooks = { prepareBatch: () => undefined };
    await expect(train(model, { ...base, engine: 'compiled' }, hooks)).rejects.toThrow(/hooks\.prepareBatch/);
    await expect(
      train(model, { ...base, engine: 'fast' as unknown as TrainOptions['engine'] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    model.dispose();
  });
});
