import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSplit, type Split } from '../../src/data/index.js';
import { logMelSpectrogram } from '../../src/features/index.js';
import { crnn } from '../../src/models/crnn.js';
import { choiceParam, type TrialConfig } from '../../src/models/tune/search-space.js';
import { trainingObjective } from '../../src/models/tune/training-objective.js';
import { measureTrial } from '../../src/models/tune/trial-config.js';
import { tune } from '../../src/models/tune.js';
import { createRng } from '../../src/random.js';

const dir = mkdtempSync(join(tmpdir(), 'kws-tune-train-'));
const CLIP = 8000; // 0.5 s at 16 kHz

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two classes of tones (440 Hz vs 1500 Hz) with seeded noise, features from the default front end. */
function tones(n: number, seed: number): Split {
  const rng = createRng(seed);
  const audio: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const f = label === 0 ? 440 : 1500;
    const clip = new Float32Array(CLIP);
    for (let t = 0; t < CLIP; t++)
      clip[t] = 0.3 * Math.sin((2 * Math.PI * f * t) / 16000) + 0.01 * rng.normal();
    audio.push(clip);
    labels.push(label);
  }
  const specs = audio.map((a) => logMelSpectrogram(a));
  const { frames, bins } = specs[0]!;
  const features = new Float32Array(n * frames * bins);
  specs.forEach((s, i) => {
    features.set(s.data, i * frames * bins);
  });
  return createSplit({ features, frames, bins, labels, labelNames: ['low', 'high'], audio });
}

const base: TrialConfig = {
  model: 'crnn',
  convChannels: 2,
  hiddenSize: 4,
  gruLayers: 1,
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 4,
};

describe('default training objective', () => {
  it('trains real trials end to end, recomputing features for another front end, without leaks', async () => {
    const train = tones(8, 1);
    const validation = tones(4, 2);
    const objective = trainingObjective({ train, validation });
    const before = tf.memory().numTensors;
    const result = await tune({
      space: { hopLength: choiceParam([160, 200]) },
      base,
      strategy: 'random',
      budget: { trials: 3, epochs: 1 },
      objective,
      input: { numClasses: 2, clipSamples: CLIP },
      journal: join(dir, 'run.jsonl'),
      seed: 1, // samples hop 160, 200, 200
      logger: 'silent',
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.trials).toHaveLength(3);
    for (const t of result.trials) {
      expect(t.status).toBe('ok');
      expect(t.accuracy).toBeGreaterThanOrEqual(0);
      expect(t.accuracy).toBeLessThanOrEqual(1);
      // The cost the objective reports is that of the model the constraint check builds.
      expect(t.params).toBe(measureTrial(t.config, { numClasses: 2, clipSamples: CLIP }).params);
      expect(t.metrics).toMatchObject({ epochsTrained: 1, epochsRun: 1 });
      expect(existsSync(join(dir, 'run.jsonl.trials', t.id, 'last'))).toBe(true);
    }
    const hops = result.trials.map((t) => t.config.hopLength);
    expect(hops).toEqual([160, 200, 200]);
    // hop 160 is the splits' own front end; hop 200 is computed once, then taken from the cache.
    expect(objective.stats.featureComputations).toBe(1);
    expect(objective.stats.featureReuses).toBe(2);
  });

  it('continues an interrupted or promoted trial from its checkpoint, and distils from a teacher', async () => {
    const train = tones(8, 3);
    const validation = tones(4, 4);
    const teacher = crnn({
      numClasses: 2,
      inputShape: [train.frames, train.bins],
      convChannels: 2,
      hiddenSize: 4,
      gruLayers: 1,
      seed: 9,
    });
    const objective = trainingObjective({ train, validation, teacher: { model: teacher } });
    const before = tf.memory().numTensors;
    const ctx = { trial: 0, id: 't0000', seed: 1, checkpointDir: join(dir, 'resume') };
    const config = { ...base, temperature: 2, alpha: 0.5 };
    const first = await objective(config, { epochs: 1, previousEpochs: 0, rung: 0 }, ctx);
    const second = await objective(config, { epochs: 2, previousEpochs: 1, rung: 1 }, ctx);
    expect(first).toMatchObject({ epochsTrained: 1, epochsRun: 1 });
    expect(second).toMatchObject({ epochsTrained: 2, epochsRun: 1 });
    expect(tf.memory().numTensors).toBe(before);
    teacher.dispose();
    await expect(
      trainingObjective({ train, validation })(
        config,
        { epochs: 1, previousEpochs: 0, rung: 0 },
        { ...ctx, checkpointDir: undefined },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/need a teacher/) });
  });
});
