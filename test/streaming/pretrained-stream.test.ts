import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/features/index.js';
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

  it("finds 'yes' in a 1 s Speech Commands clip only when flush pads the end (padMs)", async () => {
    // 16000 samples give 98 uncentred frames, fewer than the 101-frame window: no window runs.
    const wav = decodeWav(readFileSync(new URL('../fixtures/audio/yes.wav', import.meta.url)));
    const audio = wav.channels[0] as Float32Array;
    expect(audio.length).toBe(16000);
    for (const name of listPretrained()) {
      const kws = await StreamingKWS.create({ pretrained: name });
      await kws.push(audio);
      expect(await kws.flush()).toEqual([]);
      // A bad pad is rejected before anything of the stream is lost.
      await kws.push(audio);
      await expect(kws.flush({ padMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(kws.flush({ padMs: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const found = await kws.flush({ padMs: 500 });
      expect(found.map((d) => d.label)).toEqual(['yes']);
      expect(found[0]?.score).toBeGreaterThan(0.9);
      // Reported at the end of the confirming window: after the audio, within the pad.
      expect(found[0]?.timeMs).toBeGreaterThanOrEqual(1000);
      expect(found[0]?.timeMs).toBeLessThanOrEqual(1500);
      kws.dispose();
    }
  });
});
