import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram, type Spectrogram } from '../../src/features/index.js';
import { type CrnnRuntime, compileCrnn, crnn } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
import {
  CrnnStatefulMode,
  type Detection,
  type Posterior,
  StreamingKWS,
  type StreamingKwsOptions,
} from '../../src/streaming/index.js';
import { randomSizes, TOY_LABELS, TOY_TONES, toneTrack, toyModel } from './toy-model.js';

const labels = [...TOY_LABELS];
let model: tfl.LayersModel;
let audio: Float32Array;
let spec: Spectrogram;

/** Adds seeded noise to every weight so that biases (zero at init) matter and outputs vary. */
function perturb(m: tfl.LayersModel, seed: number, scale: number): void {
  const rng = createRng(seed);
  const next = m.getWeights().map((w) => {
    const values = Float32Array.from(w.dataSync() as Float32Array);
    for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) + scale * rng.normal();
    return tf.tensor(values, w.shape);
  });
  m.setWeights(next);
  tf.dispose(next);
}

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  model = crnn({ numClasses: 4, seed: 3 });
  perturb(model, 7, 0.15);
  audio = toneTrack(8000, TOY_TONES);
  spec = logMelSpectrogram(audio, { center: false });
});
afterAll(() => model.dispose());

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

function slice(s: Spectrogram, from: number, to: number): Spectrogram {
  return { data: s.data.subarray(from * s.bins, to * s.bins), frames: to - from, bins: s.bins };
}

/** Posteriors of `mode` over `s`, fed in chunks of `sizes()` frames. */
async function runChunked(mode: CrnnStatefulMode, s: Spectrogram, sizes: () => number): Promise<Posterior[]> {
  const out: Posterior[] = [];
  for (let i = 0; i < s.frames; ) {
    const n = Math.min(sizes(), s.frames - i);
    out.push(...(await mode.step(slice(s, i, i + n))));
    i += n;
  }
  return out;
}

/**
 * Reference straight from the runtime's 'carry' mode: frames one at a time, the logits after
 * conv step N for N = W, W + hopSteps, … (softmaxed).
 */
function carryReference(rt: CrnnRuntime, s: Spectrogram, window: number, hopSteps: number) {
  const state = rt.createState({ mode: 'carry', window });
  const out: { endFrame: number; scores: number[] }[] = [];
  for (let t = 0; t < s.frames; t++) {
    const r = rt.step(state, s.data.slice(t * s.bins, (t + 1) * s.bins), 1);
    if (r.steps === 1 && r.logits !== undefined && (state.stepsSeen - window) % hopSteps === 0) {
      out.push({ endFrame: r.endFrame as number, scores: softmax(r.logits) });
    }
  }
  return out;
}

function errorCode(fn: () => unknown): string | undefined {
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

describe('CrnnStatefulMode', () => {
  it('has the documented geometry for the default CRNN', () => {
    const mode = new CrnnStatefulMode({ model });
    expect(mode.windowSteps).toBe(11);
    expect(mode.windowFrames).toBe(100); // (11 − 1)·8 + 20
    expect(mode.hopFrames).toBe(8);
    expect(mode.hopSteps).toBe(1);
    expect(mode.stateValues).toBe(20 * 40 + 2 * 64 + 11 * 65);
    mode.dispose();
  });

  it('equals a reference built from the runtime carry mode, for hops of 1 and 3 conv steps', async () => {
    const rt = compileCrnn(model);
    for (const hopFrames of [8, 24]) {
      const mode = new CrnnStatefulMode({ runtime: rt, hopFrames });
      const got = await mode.step(spec);
      const want = carryReference(compileCrnn(model), spec, 11, hopFrames / 8);
      expect(got.length).toBe(Math.floor((spec.frames - 100) / hopFrames) + 1);
      expect(got.map((p) => p.endFrame)).toEqual(want.map((p) => p.endFrame));
      expect(got[0]?.endFrame).toBe(100);
      expect(got[1]?.endFrame).toBe(100 + hopFrames);
      for (const [i, p] of got.entries()) {
        expect(maxAbsDiff(p.scores, (want[i] as { scores: number[] }).scores)).toBeLessThan(1e-7);
      }
      mode.dispose();
    }
  });

  it('first posterior equals the offline tfjs model on the first window', async () => {
    const mode = new CrnnStatefulMode({ model });
    const [first] = await mode.step(slice(spec, 0, 101));
    const offline = tf.tidy(() =>
      tf
        .softmax(model.predict(tf.tensor3d(spec.data.slice(0, 101 * 40), [1, 101, 40])) as tf.Tensor)
        .dataSync(),
    );
    expect(first?.endFrame).toBe(100);
    expect(maxAbsDiff(first?.scores ?? [], offline)).toBeLessThan(2e-6);
    // The second posterior is not the offline model on frames [8, 109): the GRU state carries on.
    const [second] = await mode.step(slice(spec, 101, 110));
    const shifted = tf.tidy(() =>
      tf
        .softmax(model.predict(tf.tensor3d(spec.data.slice(8 * 40, 109 * 40), [1, 101, 40])) as tf.Tensor)
        .dataSync(),
    );
    expect(second?.endFrame).toBe(108);
    expect(maxAbsDiff(second?.scores ?? [], shifted)).toBeGreaterThan(1e-4);
    mode.dispose();
  });

  it('gives identical posteriors for any chunking of the frames', async () => {
    const whole = await new CrnnStatefulMode({ model, hopFrames: 16 }).step(spec);
    for (const seed of [1, 2, 3]) {
      const mode = new CrnnStatefulMode({ model, hopFrames: 16 });
      const chunked = await runChunked(mode, spec, randomSizes(seed, 60));
      expect(chunked).toEqual(whole);
    }
    const ones = await runChunked(new CrnnStatefulMode({ model, hopFrames: 16 }), spec, () => 1);
    expect(ones).toEqual(whole);
  });

  it('keeps a bounded state: fewer than Kt frames buffered over a long stream', async () => {
    const mode = new CrnnStatefulMode({ model });
    const sizes = randomSizes(9, 37);
    let count = 0;
    // 10 passes over 8 s = 80 s of features.
    for (let pass = 0; pass < 10; pass++) {
      for (let i = 0; i < spec.frames; ) {
        const n = Math.min(sizes(), spec.frames - i);
        count += (await mode.step(slice(spec, i, i + n))).length;
        i += n;
        expect(mode.bufferedFrames).toBeLessThan(20);
        expect(mode.bufferedFrames).toBeGreaterThanOrEqual(0);
      }
    }
    expect(mode.framesSeen).toBe(10 * spec.frames);
    expect(count).toBe(Math.floor((10 * spec.frames - 100) / 8) + 1);
    expect(mode.stateValues).toBe(20 * 40 + 2 * 64 + 11 * 65);
    mode.dispose();
  });

  it('reset restarts the stream; dispose ends the mode', async () => {
    const mode = new CrnnStatefulMode({ model });
    const first = await mode.step(slice(spec, 0, 300));
    await mode.step(slice(spec, 300, 333));
    mode.reset();
    expect(mode.framesSeen).toBe(0);
    expect(await mode.step(slice(spec, 0, 300))).toEqual(first);
    mode.dispose();
    mode.dispose();
    expect(await asyncCode(() => mode.step(slice(spec, 0, 8)))).toBe('DISPOSED');
    expect(errorCode(() => mode.reset())).toBe('DISPOSED');
  });

  it('rejects bad options and input with KwsError', async () => {
    const rt = compileCrnn(model);
    expect(errorCode(() => new CrnnStatefulMode({ model, hopFrames: 12 }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode({ model, hopFrames: 0 }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode({ model, windowFrames: 19 }))).toBe('SHAPE_MISMATCH');
    expect(errorCode(() => new CrnnStatefulMode({ model, windowFrames: 1e6 }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode({ model, runtime: rt }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode({}))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode(null as never))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => new CrnnStatefulMode({ runtime: {} as CrnnRuntime }))).toBe('INVALID_ARGUMENT');
    const toy = toyModel(101);
    expect(errorCode(() => new CrnnStatefulMode({ model: toy }))).toBe('INVALID_ARGUMENT');
    expect(() => new CrnnStatefulMode({ model: toy })).toThrow(/toStreaming/);
    toy.dispose();
    const bi = crnn({ numClasses: 4, bidirectional: true, hiddenSize: 8 });
    expect(errorCode(() => new CrnnStatefulMode({ model: bi }))).toBe('INVALID_ARGUMENT');
    expect(() => new CrnnStatefulMode({ model: bi })).toThrow(/unidirectional/);
    bi.dispose();

    const mode = new CrnnStatefulMode({ runtime: rt });
    const bad39 = { data: new Float32Array(39 * 4), frames: 4, bins: 39 };
    expect(await asyncCode(() => mode.step(bad39))).toBe('SHAPE_MISMATCH');
    const short = { data: new Float32Array(40 * 3), frames: 4, bins: 40 };
    expect(await asyncCode(() => mode.step(short))).toBe('SHAPE_MISMATCH');
    expect(await asyncCode(() => mode.step(null as never))).toBe('INVALID_ARGUMENT');
    expect(await asyncCode(() => mode.step({ data: [1] as never, frames: 1, bins: 40 }))).toBe(
      'INVALID_ARGUMENT',
    );
    const nan = new Float32Array(40 * 4);
    nan[7] = Number.NaN;
    expect(await asyncCode(() => mode.step({ data: nan, frames: 4, bins: 40 }))).toBe('NON_FINITE_INPUT');
    expect(await mode.step({ data: new Float32Array(0), frames: 0, bins: 40 })).toEqual([]);
    mode.dispose();
  });
});

describe("StreamingKWS mode 'stateful'", () => {
  const options: Partial<StreamingKwsOptions> = {
    mode: 'stateful',
    keywords: ['yes', 'no'],
    threshold: 0.45,
    refractoryMs: 300,
    smoothingMs: 160,
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

  it('resolves the stateful settings', async () => {
    const kws = await create();
    expect(kws.config.mode).toBe('stateful');
    expect(kws.config.hopMs).toBe(80);
    expect(kws.config.hopFrames).toBe(8);
    expect(kws.config.windowFrames).toBe(101);
    expect(kws.config.inputFrames).toBe(100);
    expect(kws.config.smoothingHops).toBe(2);
    kws.dispose();
  });

  it('detects the same keywords for any chunk sizes (1..16000) as for one push', async () => {
    const kws = await create();
    const whole = [...(await kws.push(audio)), ...(await kws.flush())];
    expect(whole.length).toBeGreaterThan(5);
    // Times fall on the posterior grid: frame ends 100 + 8k, i.e. 1020 + 80k ms.
    for (const d of whole) expect((d.timeMs - 1020) % 80).toBe(0);
    for (const seed of [11, 12, 13]) {
      const chunked = [...(await pushChunked(kws, audio, randomSizes(seed))), ...(await kws.flush())];
      expect(brief(chunked)).toEqual(brief(whole));
    }
    kws.dispose();
  });

  it('creates no tensors and runs no kernels per hop', async () => {
    const kws = await create();
    await kws.push(audio.subarray(0, 16000));
    const info = await tf.profile(async () => {
      await kws.push(audio.subarray(16000, 48000));
    });
    expect(info.newTensors).toBe(0);
    expect(info.kernels.length).toBe(0);
    kws.dispose();
  });

  it('reset and flush start a new stream; dispose ends it', async () => {
    const kws = await create();
    const fresh = brief([...(await kws.push(audio)), ...(await kws.flush())]);
    await kws.push(audio.subarray(0, 12345));
    kws.reset();
    expect(brief([...(await kws.push(audio)), ...(await kws.flush())])).toEqual(fresh);
    expect(kws.bufferedFrames).toBe(0);
    kws.dispose();
    expect(await asyncCode(() => kws.push(audio))).toBe('DISPOSED');
    expect(kws.bufferedFrames).toBe(0);
  });

  it('rejects models and options it cannot stream statefully', async () => {
    // No GRU and no streaming form (a Flatten layer): neither stateful path applies.
    const input = tfl.input({ shape: [101, 40] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const flatModel = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 4 }).apply(flat) as tfl.SymbolicTensor,
    });
    expect(await asyncCode(() => StreamingKWS.create({ model: flatModel, labels, mode: 'stateful' }))).toBe(
      'INVALID_ARGUMENT',
    );
    await expect(StreamingKWS.create({ model: flatModel, labels, mode: 'stateful' })).rejects.toThrow(
      /kws-kit CRNNs and causal conv models/,
    );
    flatModel.dispose();
    expect(await asyncCode(() => create({ hopMs: 100 }))).toBe('INVALID_ARGUMENT');
    await expect(create({ hopMs: 100 })).rejects.toThrow(/multiple of the CRNN's conv time stride/);
    expect(await asyncCode(() => create({ modelOutput: 'probabilities' }))).toBe('INVALID_ARGUMENT');
    expect(await asyncCode(() => create({ windowMs: 100 }))).toBe('SHAPE_MISMATCH');
    const kws = await create({ hopMs: 160 });
    expect(kws.config.hopFrames).toBe(16);
    const nan = new Float32Array(100);
    nan[3] = Number.NaN;
    expect(await asyncCode(() => kws.push(nan))).toBe('NON_FINITE_INPUT');
    kws.dispose();
  });
});
