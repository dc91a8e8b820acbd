import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listPretrained, pretrainedCard } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
import { StreamingKWS } from '../../src/streaming/index.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe('StreamingKWS with a pretrained model', () => {
  it('loads every shipped model by name, takes labels from its card and frees it on dispose', async () => {
    expect(listPretrained().length).toBeGreaterThan(0);
    const rng = createRng(3);
    const audio = Float32Array.from({ length: 24000 }, () => 0.01 * rng.normal());
    for (const name of listPretrained()) {
      const before = tf.memory().numTensors;
      const kws = await StreamingKWS.create({ pretrained: name, threshold: 0.99 });
      expect(kws.config.labels).toEqual(pretrainedCard(name).labels);
      await kws.push(audio);
      await kws.flush();
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      kws.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('rejects a pretrained name with a model, and labels that do not fit, without leaking', async () => {
    const name = listPretrained()[0] as string;
    const before = tf.memory().numTensors;
    await expect(StreamingKWS.create({ pretrained: name, labels: ['a', 'b'] })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    expect(tf.memory().numTensors).toBe(before);
    await expect(StreamingKWS.create({ pretrained: 'no-such-model' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
