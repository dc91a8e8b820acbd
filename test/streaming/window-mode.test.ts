import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram, type Spectrogram } from '../../src/features/index.js';
import { bcResNet } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
import type { Posterior } from '../../src/streaming/inference-mode.js';
import { WindowMode } from '../../src/streaming/window-mode.js';
import { toyModel } from './toy-model.js';

function speechLike(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const envelope = Math.max(0, Math.sin((2 * Math.PI * i) / 9000));
    x[i] =
      envelope * (0.3 * Math.sin(i * 0.05 + 0.00001 * i * i) + 0.05 * rng.normal()) + 0.002 * rng.normal();
  }
  return x;
}

/** Offline reference: softmax(model(frames [end − W, end), preceded by `pad` silence frames)). */
function reference(
  model: tfl.LayersModel,
  features: Spectrogram,
  end: number,
  windowFrames: number,
  pad: number,
) {
  const bins = features.bins;
  const input = new Float32Array((windowFrames + pad) * bins).fill(Math.log(1e-6));
  input.set(features.data.subarray((end - windowFrames) * bins, end * bins), pad * bins);
  return tf.tidy(() => {
    const y = model.predict(tf.tensor3d(input, [1, windowFrames + pad, bins])) as tf.Tensor;
    return tf.softmax(y).dataSync() as Float32Array;
  });
}

/** Feeds `features` to `mode` in seeded random runs of 0..maxRun frames. */
async function runChunked(mode: WindowMode, features: Spectrogram, seed: number, maxRun: number) {
  const rng = createRng(seed);
  const out: Posterior[] = [];
  const { bins } = features;
  for (let f = 0; f < features.frames; ) {
    const n = Math.min(rng.int(maxRun + 1), features.frames - f);
    out.push(...(await mode.step({ data: features.data.slice(f * bins, (f + n) * bins), frames: n, bins })));
    f += n;
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

let fixed: tfl.LayersModel;
let variable: tfl.LayersModel;
let features: Spectrogram;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  fixed = bcResNet({ width: 0.25, numClasses: 4, inputShape: [101, 40], seed: 3 });
  variable = bcResNet({ width: 0.25, numClasses: 4, inputShape: [null, 40], seed: 4 });
  // 2.2 s: 218 frames with center = false.
  features = logMelSpectrogram(speechLike(35200, 7), { center: false });
});
afterAll(() => {
  fixed.dispose();
  variable.dispose();
});

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

describe('WindowMode', () => {
  it('equals model.predict on the offline center=false slices, window by window, for any chunking', async () => {
    expect(features.frames).toBe(218);
    const expectedEnds: number[] = [];
    for (let e = 101; e <= 218; e += 10) expectedEnds.push(e);
    const refs = expectedEnds.map((e) => reference(fixed, features, e, 101, 0));
    for (const [seed, maxRun, maxBatch] of [
      [1, 40, 16],
      [2, 218, 3],
    ] as const) {
      const mode = new WindowMode({ model: fixed, windowFrames: 101, hopFrames: 10, maxBatch });
      const got = await runChunked(mode, features, seed, maxRun);
      expect(got.map((p) => p.endFrame)).toEqual(expectedEnds);
      for (const [k, p] of got.entries()) expect(maxAbsDiff(p.scores, refs[k]!)).toBeLessThan(1e-4);
      expect(mode.bufferedFrames).toBe(101);
      mode.dispose();
    }
  });

  it('pads a short window with silence frames for a fixed-length model, and runs variable-length models as is', async () => {
    // 98 frames = 1000 ms of audio; the 101-frame model gets 3 frames of ln(1e-6) first.
    const padded = new WindowMode({ model: fixed, windowFrames: 98, hopFrames: 20 });
    expect(padded.inputFrames).toBe(101);
    const got = await runChunked(padded, features, 5, 30);
    expect(got.map((p) => p.endFrame)).toEqual([98, 118, 138, 158, 178, 198, 218]);
    for (const p of got) {
      expect(maxAbsDiff(p.scores, reference(fixed, features, p.endFrame, 98, 3))).toBeLessThan(1e-4);
    }
    const free = new WindowMode({ model: variable, windowFrames: 98, hopFrames: 50 });
    expect(free.inputFrames).toBe(98);
    const all = await free.step(features);
    expect(all.map((p) => p.endFrame)).toEqual([98, 148, 198]);
    for (const p of all) {
      expect(maxAbsDiff(p.scores, reference(variable, features, p.endFrame, 98, 0))).toBeLessThan(1e-4);
    }
    padded.dispose();
    free.dispose();
  });

  it('uses probabilities as they are with modelOutput "probabilities" and restarts at frame 0 after reset', async () => {
    const model = toyModel(null);
    // The tfjs path is exact against model.predict (window-runtime.test.ts covers the compiled one).
    const logits = new WindowMode({ model, windowFrames: 20, hopFrames: 7, runtime: 'tfjs' });
    const probs = new WindowMode({
      model,
      windowFrames: 20,
      hopFrames: 7,
      modelOutput: 'probabilities',
      runtime: 'tfjs',
    });
    expect([logits.runtime, probs.runtime]).toEqual(['tfjs', 'tfjs']);
    const part: Spectrogram = { data: features.data.slice(0, 40 * 40), frames: 40, bins: 40 };
    const a = await logits.step(part);
    const b = await probs.step(part);
    expect(a.map((p) => p.endFrame)).toEqual([20, 27, 34]);
    for (const [k, p] of b.entries()) {
      const raw = tf.tidy(() =>
        (
          model.predict(
            tf.tensor3d(part.data.slice((p.endFrame - 20) * 40, p.endFrame * 40), [1, 20, 40]),
          ) as tf.Tensor
        ).dataSync(),
      );
      expect([...p.scores]).toEqual([...raw]);
      expect(
        maxAbsDiff(
          a[k]!.scores,
          tf.tidy(() => tf.softmax(tf.tensor1d(raw)).dataSync() as Float32Array),
        ),
      ).toBe(0);
    }
    logits.reset();
    expect(logits.bufferedFrames).toBe(0);
    expect((await logits.step(part)).map((p) => p.endFrame)).toEqual([20, 27, 34]);
    logits.dispose();
    probs.dispose();
    model.dispose();
  });

  it('drops the posteriors of a step that was running when reset was called', async () => {
    const model = toyModel(null);
    const mode = new WindowMode({ model, windowFrames: 20, hopFrames: 5 });
    const part: Spectrogram = { data: features.data.slice(0, 30 * 40), frames: 30, bins: 40 };
    const pending = mode.step(part);
    mode.reset();
    expect(await pending).toEqual([]);
    expect(mode.bufferedFrames).toBe(0);
    expect((await mode.step(part)).map((p) => p.endFrame)).toEqual([20, 25, 30]);
    mode.dispose();
    model.dispose();
  });

  it('throws KwsError for bad options, bad frames and use after dispose', async () => {
    const code = async (fn: () => unknown): Promise<string | undefined> => {
      try {
        await fn();
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        return (e as KwsError).code;
      }
      return undefined;
    };
    expect(await code(() => new WindowMode({ model: fixed, windowFrames: 102, hopFrames: 10 }))).toBe(
      'SHAPE_MISMATCH',
    );
    expect(await code(() => new WindowMode({ model: fixed, windowFrames: 101, hopFrames: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await code(() => new WindowMode({ model: fixed, windowFrames: 101, hopFrames: 10, maxBatch: 0 })),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await code(() => new WindowMode({ model: {} as tfl.LayersModel, windowFrames: 101, hopFrames: 10 })),
    ).toBe('INVALID_ARGUMENT');
    const mode = new WindowMode({ model: fixed, windowFrames: 101, hopFrames: 10 });
    expect(await code(() => mode.step({ data: new Float32Array(30), frames: 1, bins: 30 }))).toBe(
      'SHAPE_MISMATCH',
    );
    mode.dispose();
    expect(await code(() => mode.step({ data: new Float32Array(40), frames: 1, bins: 40 }))).toBe('DISPOSED');
    expect(await code(() => mode.reset())).toBe('DISPOSED');
  });
});
