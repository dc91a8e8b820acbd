import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram } from '../../src/features/index.js';
import { bcResNet } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
// ConvStatefulMode and toStreaming from their modules (until src/streaming/index.ts re-exports them).
import { ConvStatefulMode } from '../../src/streaming/conv-stateful-mode.js';
import {
  type Detection,
  type Posterior,
  StreamingKWS,
  type StreamingKwsOptions,
} from '../../src/streaming/index.js';
import { toStreaming } from '../../src/streaming/to-streaming.js';
import { features, MELS, pretendTrained } from './causal-bc-resnet.js';
import { randomSizes, TOY_LABELS, TOY_TONES, toneTrack } from './toy-model.js';

const CLASSES = 5;
const W = 101;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

function offlineLogits(model: tfl.LayersModel, x: Float32Array, frames: number): Float32Array {
  return tf.tidy(
    () => (model.predict(tf.tensor3d(x, [1, frames, MELS])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function softmax(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const e = values.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof KwsError ? e.code : `not a KwsError: ${String(e)}`;
  }
  return undefined;
}

async function asyncCode(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    return e instanceof KwsError ? e.code : `not a KwsError: ${String(e)}`;
  }
  return undefined;
}

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

describe('ConvStatefulMode', () => {
  let model: tfl.LayersModel;
  const T = 260;
  let x: Float32Array;
  beforeAll(() => {
    model = bcResNet({ causal: true, numClasses: CLASSES, dropout: 0, inputShape: [null, MELS], seed: 5 });
    x = features(T, 5);
    pretendTrained(model, 55, features(T, 6), T);
    // Model building and the calibration pass are slow on a loaded machine.
  }, 120_000);
  afterAll(() => model.dispose());

  async function run(mode: ConvStatefulMode, sizes: () => number): Promise<Posterior[]> {
    const out: Posterior[] = [];
    mode.reset();
    for (let t = 0; t < T; ) {
      const n = Math.min(sizes(), T - t);
      out.push(...(await mode.step({ data: x.subarray(t * MELS, (t + n) * MELS), frames: n, bins: MELS })));
      t += n;
    }
    return out;
  }

  it('posts every hop from the first full window; the first equals softmax(model.predict(window))', async () => {
    const mode = new ConvStatefulMode({ model, hopFrames: 10 });
    expect([mode.windowFrames, mode.hopFrames]).toEqual([101, 10]);
    const posteriors = await run(mode, () => 1);
    expect(posteriors.map((p) => p.endFrame)).toEqual(Array.from({ length: 16 }, (_, k) => 101 + 10 * k));
    const expected = softmax(offlineLogits(model, x.slice(0, W * MELS), W));
    expect(maxAbsDiff(posteriors[0]?.scores ?? [], expected)).toBeLessThan(1e-5);
    for (const p of posteriors) expect(p.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    mode.dispose();
  });

  it('gives identical posteriors for any chunking, and a rejected step consumes nothing', async () => {
    const mode = new ConvStatefulMode({ model, hopFrames: 7 });
    const one = await run(mode, () => 1);
    const rng = createRng(17);
    const chunked = await run(mode, () => 1 + rng.int(50));
    expect(chunked).toEqual(one);

    mode.reset();
    await mode.step({ data: x.subarray(0, 50 * MELS), frames: 50, bins: MELS });
    const bad = x.slice(50 * MELS, 120 * MELS);
    bad[60 * MELS] = Number.NaN;
    await expect(mode.step({ data: bad, frames: 70, bins: MELS })).rejects.toMatchObject({
      code: 'NON_FINITE_INPUT',
    });
    await expect(mode.step({ data: bad, frames: 70, bins: 39 })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    expect(mode.framesSeen).toBe(50);
    const rest = await mode.step({ data: x.subarray(50 * MELS), frames: T - 50, bins: MELS });
    expect(rest).toEqual(one);
    mode.dispose();
    await expect(mode.step({ data: x, frames: 1, bins: MELS })).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('rejects bad options', () => {
    expect(code(() => new ConvStatefulMode({}))).toBe('INVALID_ARGUMENT');
    const net = toStreaming(model);
    expect(code(() => new ConvStatefulMode({ model, net }))).toBe('INVALID_ARGUMENT');
    expect(code(() => new ConvStatefulMode({ net, windowFrames: 50 }))).toBe('SHAPE_MISMATCH');
    expect(code(() => new ConvStatefulMode({ net, hopFrames: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => new ConvStatefulMode({ net, modelOutput: 'scores' as 'logits' }))).toBe(
      'INVALID_ARGUMENT',
    );
    const nonCausal = bcResNet({ numClasses: CLASSES, seed: 1 });
    expect(code(() => new ConvStatefulMode({ model: nonCausal }))).toBe('MODEL_INVALID');
    nonCausal.dispose();
  });
});

describe("StreamingKWS mode 'stateful' with a causal BC-ResNet", () => {
  const labels = [...TOY_LABELS];
  let model: tfl.LayersModel;
  let audio: Float32Array;
  beforeAll(() => {
    audio = toneTrack(8000, TOY_TONES);
    const spec = logMelSpectrogram(audio, { center: false });
    model = bcResNet({ causal: true, numClasses: labels.length, dropout: 0, seed: 8 });
    pretendTrained(model, 88, spec.data.subarray(100 * MELS, 201 * MELS), 101);
    // Model building and the calibration pass are slow on a loaded machine.
  }, 120_000);
  afterAll(() => model.dispose());

  const options: Partial<StreamingKwsOptions> = {
    mode: 'stateful',
    keywords: ['yes', 'no'],
    threshold: 0.27,
    refractoryMs: 300,
  };
  const create = (o: Partial<StreamingKwsOptions> = {}): Promise<StreamingKWS> =>
    StreamingKWS.create({ model, labels, ...options, ...o });
  const brief = (ds: Detection[]): string[] => ds.map((d) => `${d.label}@${d.timeMs}:${d.score}`);

  async function pushChunked(kws: StreamingKWS, x: Float32Array, sizes: () => number): Promise<Detection[]> {
    const out: Detection[] = [];
    for (let i = 0; i < x.length; ) {
      const n = sizes();
      out.push(...(await kws.push(x.subarray(i, i + n))));
      i += n;
    }
    return out;
  }

  it('resolves the settings: window-mode hop grid, W = the model frames', async () => {
    const kws = await create();
    expect(kws.config.mode).toBe('stateful');
    expect([kws.config.hopMs, kws.config.hopFrames]).toEqual([100, 10]);
    expect([kws.config.windowFrames, kws.config.inputFrames, kws.config.smoothingHops]).toEqual([
      101, 101, 3,
    ]);
    kws.dispose();
    const fine = await create({ hopMs: 10 });
    expect(fine.config.hopFrames).toBe(1);
    fine.dispose();
  });

  it('detects the same keywords, scores included, for any chunk sizes (1..16000)', async () => {
    const kws = await create();
    const whole = [...(await kws.push(audio)), ...(await kws.flush())];
    expect(whole.length).toBeGreaterThan(5);
    for (const seed of [21, 22, 23]) {
      const chunked = [...(await pushChunked(kws, audio, randomSizes(seed))), ...(await kws.flush())];
      expect(brief(chunked)).toEqual(brief(whole));
    }
    kws.dispose();
  });

  it('creates no tensors and runs no kernels per hop; bounded state', async () => {
    const kws = await create({ hopMs: 10 });
    await kws.push(audio.subarray(0, 16000));
    const info = await tf.profile(async () => {
      await kws.push(audio.subarray(16000, 64000));
    });
    expect(info.newTensors).toBe(0);
    expect(info.kernels.length).toBe(0);
    expect(kws.bufferedFrames).toBeLessThanOrEqual(kws.config.windowFrames);
    kws.dispose();
  });

  it('bad input is rejected with KwsError and loses nothing already pushed', async () => {
    const kws = await create();
    const clean = brief([...(await kws.push(audio)), ...(await kws.flush())]);
    const half = 40000;
    const got: Detection[] = [...(await kws.push(audio.subarray(0, half)))];
    const nan = audio.slice(half, half + 500);
    nan[250] = Number.NaN;
    expect(await asyncCode(() => kws.push(nan))).toBe('NON_FINITE_INPUT');
    expect(await kws.push(new Float32Array(0))).toEqual([]);
    expect(await asyncCode(() => kws.push(audio.subarray(half, half + 10), 8000))).toBe(
      'INVALID_SAMPLE_RATE',
    );
    got.push(...(await kws.push(audio.subarray(half))), ...(await kws.flush()));
    expect(brief(got)).toEqual(clean);
    kws.dispose();
    expect(await asyncCode(() => kws.push(audio))).toBe('DISPOSED');
    expect(await asyncCode(() => kws.flush())).toBe('DISPOSED');
  });

  it('rejects models it cannot stream and labels that do not fit', async () => {
    expect(
      await asyncCode(() => create({ labels: ['_silence_', '_unknown_', 'yes'], keywords: ['yes'] })),
    ).toBe('SHAPE_MISMATCH');
    const sameFive = bcResNet({ numClasses: labels.length, seed: 1 });
    expect(await asyncCode(() => StreamingKWS.create({ model: sameFive, labels, mode: 'stateful' }))).toBe(
      'INVALID_ARGUMENT',
    );
    await expect(StreamingKWS.create({ model: sameFive, labels, mode: 'stateful' })).rejects.toThrow(
      /not causal.*causal: true/s,
    );
    sameFive.dispose();
  });
});
