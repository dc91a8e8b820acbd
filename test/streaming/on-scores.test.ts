import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingKWS, type TimedScores } from '../../src/streaming/index.js';
import { TOY_LABELS, TOY_TONES, toneTrack, toyModel } from './toy-model.js';

let model: tfl.LayersModel;
let audio: Float32Array;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  model = toyModel(101);
  audio = toneTrack(8000, TOY_TONES);
});
afterAll(() => model.dispose());

describe('StreamingKWS onScores', () => {
  it('reports the smoothed scores of every model run, and detections are threshold crossings of them', async () => {
    const seen: TimedScores[] = [];
    const kws = await StreamingKWS.create({
      model,
      labels: [...TOY_LABELS],
      refractoryMs: 0,
      threshold: 0.5,
      onScores: (s) => seen.push(s),
    });
    const detections = [...(await kws.push(audio)), ...(await kws.flush())];
    kws.dispose();
    // One call per hop of 100 ms once the first window is full, times non-decreasing.
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) {
      expect((seen[i] as TimedScores).timeMs - (seen[i - 1] as TimedScores).timeMs).toBeCloseTo(100, 6);
    }
    for (const s of seen) {
      const sum = Array.from(s.scores).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
    // Every detection is a reported score above the threshold at the same time.
    expect(detections.length).toBeGreaterThan(0);
    for (const d of detections) {
      const at = seen.find((s) => s.timeMs === d.timeMs) as TimedScores;
      expect(at).toBeDefined();
      expect(at.scores[TOY_LABELS.indexOf(d.label as (typeof TOY_LABELS)[number])]).toBeCloseTo(d.score, 6);
      expect(d.score).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('rejects a non-function', async () => {
    await expect(
      StreamingKWS.create({ model, labels: [...TOY_LABELS], onScores: 3 as unknown as () => void }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
