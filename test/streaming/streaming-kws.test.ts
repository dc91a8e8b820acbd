import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram, resample } from '../../src/features/index.js';
import {
  type Detection,
  detectKeywords,
  StreamingKWS,
  type StreamingKwsOptions,
  smoothPosteriors,
} from '../../src/streaming/index.js';
import { randomSizes, TOY_LABELS, TOY_TONES, toneTrack, toyModel } from './toy-model.js';

const labels = [...TOY_LABELS];
let model: tfl.LayersModel;
let audio: Float32Array;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  model = toyModel(101);
  audio = toneTrack(8000, TOY_TONES);
});
afterAll(() => model.dispose());

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

function create(options: Partial<StreamingKwsOptions> = {}): Promise<StreamingKWS> {
  return StreamingKWS.create({ model, labels, ...options });
}

async function pushChunked(
  kws: StreamingKWS,
  x: Float32Array,
  sizes: () => number,
  sampleRate?: number,
): Promise<Detection[]> {
  const out: Detection[] = [];
  for (let i = 0; i < x.length; ) {
    const n = sizes();
    out.push(...(await kws.push(x.subarray(i, i + n), sampleRate)));
    i += n;
  }
  return out;
}

/** A classifier with a Flatten layer: no streaming form (neither CRNN nor causal conv). */
function flatModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [101, 40] });
  const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  return tfl.model({
    inputs: input,
    outputs: tfl.layers.dense({ units: 4 }).apply(flat) as tfl.SymbolicTensor,
  });
}

const brief = (ds: Detection[]): string[] => ds.map((d) => `${d.label}@${d.timeMs}`);

async function code(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    return (e as KwsError).code;
  }
  return undefined;
}

describe('StreamingKWS', () => {
  it('has the documented defaults', async () => {
    const kws = await create();
    expect(kws.config).toMatchObject({
      mode: 'window',
      sampleRate: 16000,
      hopMs: 100,
      hopFrames: 10,
      windowMs: 1030,
      windowFrames: 101,
      inputFrames: 101,
      smoothingMs: 300,
      smoothingHops: 3,
      refractoryMs: 1000,
      keywords: ['yes', 'no'],
      fillers: [],
      thresholds: { yes: 0.8, no: 0.8 },
    });
    kws.dispose();
    const variable = toyModel(null);
    const free = await StreamingKWS.create({
      model: variable,
      labels,
      windowMs: 1000,
      hopMs: 20,
      smoothingMs: 0,
    });
    expect(free.config).toMatchObject({ windowFrames: 98, inputFrames: 98, hopFrames: 2, smoothingHops: 1 });
    free.dispose();
    const padded = await create({ windowMs: 1000 });
    expect(padded.config).toMatchObject({ windowFrames: 98, inputFrames: 101 });
    padded.dispose();
    variable.dispose();
  });

  it('equals the offline pipeline: window posteriors → moving average → thresholds and refractory', async () => {
    // tfjs predict: exactly the offline pipeline; the default compiled runtime: to float32 rounding.
    const kws = await create({ reportFiller: true, runtime: 'tfjs' });
    const got = await kws.push(audio);
    kws.dispose();
    const compiled = await create({ reportFiller: true });
    expect(compiled.config.runtime).toBe('compiled-conv');
    const gotCompiled = await compiled.push(audio);
    compiled.dispose();
    // Offline: center=false log-mels of the whole track, windows ending every 10 frames.
    const features = logMelSpectrogram(audio, { center: false });
    const sequence = [];
    for (let end = 101; end <= features.frames; end += 10) {
      const window = features.data.slice((end - 101) * 40, end * 40);
      const scores = tf.tidy(
        () =>
          tf
            .softmax(model.predict(tf.tensor3d(window, [1, 101, 40])) as tf.Tensor)
            .dataSync() as Float32Array,
      );
      sequence.push({ timeMs: (end - 1) * 10 + 30, scores });
    }
    const smoothed = smoothPosteriors(
      sequence.map((s) => s.scores),
      3,
    );
    const expected = detectKeywords(
      sequence.map((s, i) => ({ timeMs: s.timeMs, scores: smoothed[i]! })),
      { labels, reportFiller: true },
    );
    expect(got).toEqual(expected);
    const withoutScore = (ds: Detection[]) => ds.map(({ score: _, ...rest }) => rest);
    expect(withoutScore(gotCompiled)).toEqual(withoutScore(expected));
    for (const [i, d] of gotCompiled.entries())
      expect(Math.abs(d.score - expected[i]!.score)).toBeLessThan(1e-5);
    // The three tones (300 Hz "yes" at 1.5 s, 4 kHz "no" at 3.5 s, "yes" at 6 s) fire once each,
    // when the window ending at that time holds enough of the tone; silence fires once a second.
    expect(brief(got.filter((d) => !d.label.startsWith('_')))).toEqual(['yes@2030', 'no@3930', 'yes@6530']);
    expect(got.filter((d) => d.label === '_silence_').length).toBeGreaterThanOrEqual(4);
    for (const d of got) expect(d.score).toBeGreaterThanOrEqual(0.8);
  });

  it('gives identical detections for seeded random chunk sizes of 1 to 16000 samples', async () => {
    const kws = await create({ reportFiller: true });
    const whole = await kws.push(audio);
    expect(await kws.flush()).toEqual([]);
    expect(whole.length).toBeGreaterThan(5);
    for (const seed of [1, 2, 3, 4]) {
      const heard: Detection[] = [];
      const listener = (d: Detection): void => {
        heard.push(d);
      };
      kws.on('detection', listener);
      const got = await pushChunked(kws, audio, randomSizes(seed));
      expect(await kws.flush()).toEqual([]);
      kws.off('detection', listener);
      expect(got).toEqual(whole);
      expect(heard).toEqual(whole);
    }
    // Pushes need not be awaited one by one: runs are queued in order.
    const sizes = randomSizes(5);
    const pending: Promise<Detection[]>[] = [];
    for (let i = 0; i < audio.length; ) {
      const n = sizes();
      pending.push(kws.push(audio.slice(i, i + n)));
      i += n;
    }
    expect((await Promise.all(pending)).flat()).toEqual(whole);
    kws.dispose();
  });

  it('resamples 44.1 kHz input: same detections as feeding resample()d audio', async () => {
    const x44 = toneTrack(8000, TOY_TONES, 44100, 9);
    const direct = await create();
    const expected = [...(await direct.push(resample(x44, 44100, 16000))), ...(await direct.flush())];
    direct.dispose();
    expect(expected.map((d) => d.label)).toEqual(['yes', 'no', 'yes']);
    const kws = await create();
    for (const seed of [11, 12]) {
      const sizes = randomSizes(seed);
      const got: Detection[] = [];
      // The rate is given once; later pushes default to the stream's rate.
      got.push(...(await kws.push(x44.subarray(0, 1000), 44100)));
      got.push(...(await pushChunked(kws, x44.subarray(1000), sizes)));
      got.push(...(await kws.flush()));
      expect(got).toEqual(expected);
    }
    kws.dispose();
  });

  it('keeps memory bounded: at most windowMs of frames, and bounded audio buffers', async () => {
    const kws = await create();
    interface Internals {
      extractor: { pendingLength: number };
      resampler: { buf: Float32Array } | null;
    }
    const inner = kws as unknown as Internals;
    const x44 = toneTrack(12000, TOY_TONES, 44100, 3);
    const sizes = randomSizes(21);
    let maxBuffered = 0;
    let maxPending = 0;
    let maxResampler = 0;
    for (let i = 0; i < x44.length; ) {
      const n = sizes();
      await kws.push(x44.subarray(i, i + n), 44100);
      i += n;
      maxBuffered = Math.max(maxBuffered, kws.bufferedFrames);
      maxPending = Math.max(maxPending, inner.extractor.pendingLength);
      maxResampler = Math.max(maxResampler, inner.resampler?.buf.length ?? 0);
    }
    expect(maxBuffered).toBe(101);
    expect(maxPending).toBeLessThan(480);
    // One 12 s chunk at once: the buffers go back to their small size afterwards.
    await kws.push(x44);
    expect(kws.bufferedFrames).toBe(101);
    expect(inner.extractor.pendingLength).toBeLessThan(480);
    const afterBig = inner.resampler?.buf.length ?? 0;
    expect(afterBig).toBeLessThanOrEqual(Math.max(maxResampler, 4096));
    expect(afterBig).toBeLessThan(x44.length / 10);
    kws.dispose();
  });

  it('reset and flush start a new stream at t = 0; a run pending at reset resolves with nothing', async () => {
    const kws = await create();
    const first = await kws.push(audio);
    expect(brief(first)).toEqual(['yes@2030', 'no@3930', 'yes@6530']);
    await kws.push(audio.subarray(0, 20000));
    kws.reset();
    expect(kws.bufferedFrames).toBe(0);
    expect(await kws.push(audio)).toEqual(first);
    await kws.flush();
    expect(await kws.push(audio)).toEqual(first);
    // Not awaited, then reset: the queued run belongs to a stream that no longer exists.
    const pending = kws.push(audio);
    kws.reset();
    const after = kws.push(audio);
    expect(await pending).toEqual([]);
    expect(await after).toEqual(first);
    // flush() frees the stream's sample rate.
    await kws.flush();
    await kws.push(new Float32Array(100), 48000);
    expect(await code(() => kws.push(new Float32Array(100), 16000))).toBe('INVALID_SAMPLE_RATE');
    await kws.flush();
    await kws.push(new Float32Array(100), 16000);
    kws.dispose();
  });

  it('sends detections to onDetection then to listeners; a throwing listener rejects the push', async () => {
    const order: string[] = [];
    const kws = await create({ onDetection: (d) => order.push(`option:${d.label}`) });
    const a = (d: Detection): void => {
      order.push(`a:${d.label}`);
    };
    const b = (d: Detection): void => {
      order.push(`b:${d.label}`);
    };
    kws.on('detection', a).on('detection', b);
    await kws.push(audio.subarray(0, 48000));
    expect(order).toEqual(['option:yes', 'a:yes', 'b:yes']);
    kws.off('detection', a);
    order.length = 0;
    const boom = new Error('listener failed');
    kws.on('detection', () => {
      throw boom;
    });
    await expect(kws.push(audio.subarray(48000, 80000))).rejects.toBe(boom);
    expect(order).toEqual(['option:no', 'b:no']);
    kws.dispose();
  });

  it('frees every tensor: many pushes, reset, flush and dispose leave the tensor count unchanged', async () => {
    const start = tf.memory().numTensors;
    const kws = await create({ maxBatch: 4 });
    await pushChunked(kws, audio, randomSizes(31));
    kws.reset();
    await kws.push(audio);
    await kws.flush();
    expect(tf.memory().numTensors).toBe(start);
    kws.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('throws KwsError with stable codes for bad options and input', async () => {
    const flat = flatModel();
    expect(await code(() => create({ model: flat, mode: 'stateful' }))).toBe('INVALID_ARGUMENT');
    await expect(create({ model: flat, mode: 'stateful' })).rejects.toThrow(/cannot stream this model/);
    flat.dispose();
    expect(await code(() => create({ mode: 'fast' as 'window' }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => StreamingKWS.create({ pretrained: 'bc-resnet-1', labels }))).toBe('NOT_FOUND');
    expect(await code(() => StreamingKWS.create({ labels }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ pretrained: 'x' }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => StreamingKWS.create({ model }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ labels: ['a', 'b', 'c'] }))).toBe('SHAPE_MISMATCH');
    expect(await code(() => create({ keywords: ['maybe'] }))).toBe('NOT_FOUND');
    expect(await code(() => create({ threshold: 1.2 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ threshold: { yes: -0.5 } }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ hopMs: 15 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ hopMs: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ windowMs: 1040 }))).toBe('SHAPE_MISMATCH');
    expect(await code(() => create({ windowMs: 20 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ smoothingMs: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ maxBatch: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ frontEnd: { nMels: 32 } }))).toBe('SHAPE_MISMATCH');
    expect(await code(() => create({ onDetection: 3 as unknown as () => void }))).toBe('INVALID_ARGUMENT');
    expect(await code(() => create({ model: {} as tfl.LayersModel }))).toBe('INVALID_ARGUMENT');

    const kws = await create();
    const nan = new Float32Array(100);
    nan[50] = Number.NaN;
    expect(await code(() => kws.push(nan))).toBe('NON_FINITE_INPUT');
    expect(await code(() => kws.push([0, 1] as unknown as Float32Array))).toBe('INVALID_ARGUMENT');
    expect(await code(() => kws.push(new Float32Array(10), 0))).toBe('INVALID_SAMPLE_RATE');
    expect(await code(() => kws.push(new Float32Array(10), 44100.5))).toBe('INVALID_SAMPLE_RATE');
    expect(await code(() => kws.push(new Float32Array(10), Number.NaN))).toBe('INVALID_SAMPLE_RATE');
    await kws.push(new Float32Array(10), 22050);
    expect(await code(() => kws.push(new Float32Array(10), 16000))).toBe('INVALID_SAMPLE_RATE');
    expect(await code(() => kws.on('click' as 'detection', () => {}))).toBe('INVALID_ARGUMENT');
    expect(await code(() => kws.on('detection', 1 as unknown as () => void))).toBe('INVALID_ARGUMENT');
    kws.dispose();
    kws.dispose();
    expect(kws.disposed).toBe(true);
    expect(await code(() => kws.push(new Float32Array(10)))).toBe('DISPOSED');
    expect(await code(() => kws.flush())).toBe('DISPOSED');
    expect(await code(() => kws.reset())).toBe('DISPOSED');
    expect(await code(() => kws.on('detection', () => {}))).toBe('DISPOSED');
  });
});
