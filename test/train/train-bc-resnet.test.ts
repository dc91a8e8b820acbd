import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcResNet } from '../../src/models/index.js';
import { layerRngs } from '../../src/train/layer-rng.js';
import { type TrainOptions, train } from '../../src/train/train.js';
import { bandSplit, weightValues } from './synthetic.js';

// BC-ResNet-0.25 on 20 frames × 40 mels (it needs ≥ 33 bins): 2,012 parameters, 12 seeded
// channel-dropout layers, batch norms and sub-spectral norms; about 0.3 s per step on cpu.
const FRAMES = 20;
const BINS = 40;
const build = (seed: number) =>
  bcResNet({ width: 0.25, numClasses: 3, inputShape: [FRAMES, BINS], seed, name: `bc_${seed}` });

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const dir = mkdtempSync(join(tmpdir(), 'kws-train-bc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train with BC-ResNet (seeded channel dropout)', () => {
  const options: TrainOptions = {
    train: bandSplit(16, 1, FRAMES, BINS),
    validation: bandSplit(6, 2, FRAMES, BINS),
    epochs: 3,
    batchSize: 8,
    learningRate: 0.05,
    schedule: { warmupEpochs: 1 },
    seed: 11,
    logger: 'silent',
  };

  it('finds the dropout generators, reseeds them from the training seed, and resumes exactly', async () => {
    const tensors = tf.memory().numTensors;
    const full = build(1);
    expect(layerRngs(full).length).toBe(12);
    const a = await train(full, { ...options, restoreBest: false });
    expect(a.steps).toBe(6);

    // Stop after epoch 1, resume in a model built with another seed: same history and weights.
    const first = build(1);
    await train(first, {
      ...options,
      restoreBest: false,
      checkpointDir: dir,
      callbacks: { onEpochEnd: () => 'stop' },
    });
    first.dispose();
    const resumed = build(2);
    const b = await train(resumed, { ...options, restoreBest: false, checkpointDir: dir, resume: true });
    expect(b.history.map((h) => [h.loss, h.accuracy, h.validationLoss])).toEqual(
      a.history.map((h) => [h.loss, h.accuracy, h.validationLoss]),
    );
    expect(weightValues(resumed)).toEqual(weightValues(full));
    full.dispose();
    resumed.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('dropout masks follow the training seed, not the model seed', async () => {
    // Two models built with different seeds (so different dropout generators) but given the same
    // weights train identically: train() reseeds every dropout generator from options.seed.
    const one = build(1);
    const two = build(2);
    two.setWeights(one.getWeights());
    const short = { ...options, epochs: 1, validation: undefined };
    const ra = await train(one, short);
    const rb = await train(two, short);
    expect(rb.history[0]?.loss).toBe(ra.history[0]?.loss);
    expect(weightValues(two)).toEqual(weightValues(one));
    one.dispose();
    two.dispose();
  });
});
