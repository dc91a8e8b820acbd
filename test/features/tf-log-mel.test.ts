import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { DEFAULT_FRONT_END, logMelSpectrogram } from '../../src/features/front-end.js';
import { melSpectrogram } from '../../src/features/mel-spectrogram.js';
import { LogMelOp, logMelOp } from '../../src/features/tf-log-mel.js';
import { createRng } from '../../src/random.js';

function clip(seed: number, length = 16000): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(length);
  const f0 = 100 + rng.int(300);
  for (let i = 0; i < length; i++) {
    const env = Math.max(0, Math.sin((Math.PI * i) / length));
    let v = 0.02 * rng.normal();
    for (let h = 1; h <= 8; h++) v += (env * Math.sin((2 * Math.PI * f0 * h * i) / 16000)) / (2 * h);
    x[i] = v;
  }
  return x;
}

/** Max error relative to each value, with values below 1e-6 of the clip's peak judged against that floor. */
function maxRelative(
  actual: Float32Array | Float64Array,
  expected: Float32Array,
  floorFraction = 1e-6,
): number {
  let peak = 0;
  for (const v of expected) peak = Math.max(peak, Math.abs(v));
  const floor = peak * floorFraction;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), floor));
  }
  return worst;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`logMelOp on ${backend}`, () => {
    beforeAll(async () => {
      tf.enableProdMode();
      expect(await tf.setBackend(backend)).toBe(true);
      await tf.ready();
    });
    afterAll(() => {
      tf.disposeVariables();
    });

    it('agrees with the pure-TS mel power within 1e-4 relative, for a batch', async () => {
      const batch = [clip(1), clip(2), clip(3)];
      const before = tf.memory().numTensors;
      const input = tf.tensor2d(batch.map((c) => Array.from(c)));
      const out = logMelOp(input, { output: 'mel' });
      expect(out.shape).toEqual([3, 101, 40]);
      const values = (await out.data()) as Float32Array;
      input.dispose();
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      let worst = 0;
      batch.forEach((c, b) => {
        const ref = melSpectrogram(c, DEFAULT_FRONT_END).data;
        worst = Math.max(worst, maxRelative(values.subarray(b * 4040, (b + 1) * 4040), ref));
      });
      console.log(`[${backend}] tfjs mel vs pure TS: max relative error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
    });

    it('gives the same log-mels as logMelSpectrogram (1e-4 abs in the log domain) and does not leak', () => {
      const op = new LogMelOp();
      const before = tf.memory().numTensors;
      const x = clip(7, 12345);
      const ref = logMelSpectrogram(x);
      const values = tf.tidy(() => op.apply(tf.tensor1d(x)).dataSync());
      expect(tf.memory().numTensors).toBe(before);
      let worst = 0;
      for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(values[i]! - ref.data[i]!));
      console.log(`[${backend}] tfjs log-mel vs pure TS: max abs error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
      op.dispose();
      expect(tf.memory().numTensors).toBe(before - 2);
      expect(() => op.apply(tf.zeros([16000]))).toThrowError(expect.objectContaining({ code: 'DISPOSED' }));
    });

    it('supports magnitude, constant padding and center=false', () => {
      const x = clip(11, 9000);
      for (const opts of [
        { power: 1 as const, padMode: 'constant' as const },
        { center: false, nFft: 512, winLength: 400, hopLength: 128, nMels: 64 },
      ]) {
        const ref = melSpectrogram(x, { ...DEFAULT_FRONT_END, ...opts }).data;
        const got = tf.tidy(() => logMelOp(tf.tensor1d(x), { ...opts, output: 'mel' }).dataSync());
        expect(maxRelative(got as Float32Array, ref)).toBeLessThanOrEqual(1e-4);
      }
    });

    it('rejects bad input with KwsError and leaks nothing', () => {
      const before = tf.memory().numTensors;
      const cases: [() => unknown, string][] = [
        [() => logMelOp(new Float32Array(10) as never), 'INVALID_ARGUMENT'],
        [() => logMelOp(tf.zeros([2, 2, 2]) as never), 'INVALID_ARGUMENT'],
        [() => logMelOp(tf.zeros([1, 100])), 'SIGNAL_TOO_SHORT'],
        [() => logMelOp(tf.zeros([1, 0])), 'EMPTY_INPUT'],
        [() => logMelOp(tf.zeros([16000], 'int32') as never), 'INVALID_ARGUMENT'],
        [() => logMelOp(tf.zeros([16000]), { nMels: 500 }), 'EMPTY_MEL_FILTER'],
        [() => logMelOp(tf.zeros([16000]), { sampleRate: 0 }), 'INVALID_SAMPLE_RATE'],
        [() => logMelOp(tf.zeros([16000]), { output: 'db' as never }), 'INVALID_ARGUMENT'],
      ];
      for (const [fn, code] of cases) {
        let caught: unknown;
        tf.tidy(() => {
          try {
            fn();
          } catch (e) {
            caught = e;
          }
        });
        expect(caught).toBeInstanceOf(KwsError);
        expect((caught as KwsError).code).toBe(code);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
