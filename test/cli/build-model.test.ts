import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/cli/train.js';
import { KwsError } from '../../src/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildModel', () => {
  it("passes init to the CRNN (PyTorch's bounds) and refuses it, like the other CRNN options, for BC-ResNet", () => {
    const before = tf.memory().numTensors;
    const base = { numClasses: 12, inputShape: [101, 40] as [number, number], seed: 2 };
    const model = buildModel({ ...base, family: 'crnn', init: 'pytorch' });
    // Glorot would allow ±√(6 / (64 + 12)) ≈ 0.28 on the output kernel; PyTorch's bound is 1/√64.
    const logits = model.weights.find((w) => w.name.startsWith('crnn_logits/kernel'));
    const values = logits?.read().dataSync() ?? new Float32Array(0);
    expect(values.length).toBe(64 * 12);
    expect(Math.max(...Array.from(values, Math.abs))).toBeLessThanOrEqual(1 / 8);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    let error: unknown;
    try {
      buildModel({ ...base, family: 'bc-resnet', init: 'pytorch' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KwsError);
    expect((error as KwsError).code).toBe('INVALID_ARGUMENT');
    expect((error as KwsError).message).toMatch(/init apply to crnn models/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
