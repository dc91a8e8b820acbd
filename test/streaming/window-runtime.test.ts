import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { logMelSpectrogram } from '../../src/features/index.js';
import { bcResNet, crnn, listPretrained } from '../../src/models/index.js';
import {
  type Detection,
  type Posterior,
  StreamingKWS,
  type StreamingKwsOptions,
  type TimedScores,
  WindowMode,
} from '../../src/streaming/index.js';
import { features, MELS, pretendTrained } from './causal-bc-resnet.js';
import { randomSizes, TOY_LABELS, TOY_TONES, toneTrack, toyModel } from './toy-model.js';

const labels = [...TOY_LABELS];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/** A classifier with a Flatten layer: no compiled runtime takes it. */
function flatModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [101, 40] });
  const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  return tfl.model({
    inputs: input,
    outputs: tfl.layers.dense({ units: 4 }).apply(flat) as tfl.SymbolicTensor,
  });
}

async function failure(fn: () => unknown): Promise<KwsError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    return e as KwsError;
  }
  throw new Error('expected a KwsError');
}

/** Every run's scores and the detections of one pass over `audio` (best label at every run). */
async function probe(options: StreamingKwsOptions, audio: Float32Array, sizes?: () => number) {
  const scores: TimedScores[] = [];
  const kws = await StreamingKWS.create({
    labels,
    threshold: 0,
    refractoryMs: 0,
    reportFiller: true,
    ...options,
    onScores: (s) => scores.push(s),
  });
  const detections: Detection[] = [];
  for (let i = 0; i < audio.length; ) {
    const n = sizes === undefined ? audio.length : sizes();
    detections.push(...(await kws.push(audio.subarray(i, i + n))));
    i += n;
  }
  detections.push(...(await kws.flush({ padMs: 300 })));
  const runtime = kws.config.runtime;
  kws.dispose();
  return { runtime, scores, detections };
}

let conv: tfl.LayersModel;
let causal: tfl.LayersModel;
let recurrent: tfl.LayersModel;
let audio: Float32Array;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const x = features(101, 9);
  conv = bcResNet({ width: 0.25, numClasses: 4, inputShape: [101, MELS], seed: 3 });
  pretendTrained(conv, 1, x, 101);
  causal = bcResNet({ width: 0.25, numClasses: 4, inputShape: [101, MELS], causal: true, seed: 4 });
  pretendTrained(causal, 2, x, 101);
  recurrent = crnn({ numClasses: 4, convChannels: 4, hiddenSize: 16, gruLayers: 2, seed: 5 });
  // 2.5 s with the toy tones: a loud 300 Hz tone at 1.5 s moves every model's scores.
  audio = toneTrack(2500, TOY_TONES);
});
afterAll(() => {
  conv.dispose();
  causal.dispose();
  recurrent.dispose();
});

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(before);
});

describe("window mode's runtime", () => {
  it("'auto' compiles BC-ResNets (causal or not) and CRNNs, and keeps tfjs for other models", async () => {
    const flat = flatModel();
    const cases: [tfl.LayersModel, string][] = [
      [conv, 'compiled-conv'],
      [causal, 'compiled-conv'],
      [recurrent, 'compiled-crnn'],
      [flat, 'tfjs'],
    ];
    for (const [model, runtime] of cases) {
      const kws = await StreamingKWS.create({ model, labels });
      expect(kws.config.runtime).toBe(runtime);
      kws.dispose();
      const mode = new WindowMode({ model, windowFrames: 101, hopFrames: 10 });
      expect(mode.runtime).toBe(runtime);
      mode.dispose();
      const forced = await StreamingKWS.create({ model, labels, runtime: 'tfjs' });
      expect(forced.config.runtime).toBe('tfjs');
      forced.dispose();
    }
    flat.dispose();
    // Stateful modes always run compiled, and say which engine.
    const crnnStateful = await StreamingKWS.create({ model: recurrent, labels, mode: 'stateful' });
    const convStateful = await StreamingKWS.create({ model: causal, labels, mode: 'stateful' });
    expect([crnnStateful.config.runtime, convStateful.config.runtime]).toEqual([
      'compiled-crnn',
      'compiled-conv',
    ]);
    crnnStateful.dispose();
    convStateful.dispose();
  });

  it("'compiled' gives the scores and detections of 'tfjs' within 1e-4, whatever the chunking", async () => {
    for (const model of [conv, causal]) {
      const tfjs = await probe({ model, runtime: 'tfjs' }, audio);
      const compiled = await probe({ model, runtime: 'compiled', maxBatch: 3 }, audio);
      expect([tfjs.runtime, compiled.runtime]).toEqual(['tfjs', 'compiled-conv']);
      // 2.5 s + 300 ms of pad: windows end at 1030, 1130, … ms.
      expect(tfjs.scores.length).toBe(18);
      expect(compiled.scores.map((s) => s.timeMs)).toEqual(tfjs.scores.map((s) => s.timeMs));
      for (const [k, s] of compiled.scores.entries()) {
        expect(maxAbsDiff(s.scores, tfjs.scores[k]!.scores)).toBeLessThan(1e-4);
      }
      const brief = (ds: Detection[]) => ds.map((d) => `${d.label}@${d.timeMs}`);
      expect(brief(compiled.detections)).toEqual(brief(tfjs.detections));
      for (const [k, d] of compiled.detections.entries()) {
        expect(Math.abs(d.score - tfjs.detections[k]!.score)).toBeLessThan(1e-4);
      }
      // A compiled window is computed the same alone or in a batch: chunking changes nothing.
      for (const seed of [1, 2]) {
        const chunked = await probe({ model, runtime: 'compiled', maxBatch: 3 }, audio, randomSizes(seed));
        expect(chunked.detections).toEqual(compiled.detections);
        expect(chunked.scores).toEqual(compiled.scores);
      }
    }
  });

  it('runs a CRNN compiled: posteriors equal tfjs predict window by window within 1e-4', async () => {
    const spec = logMelSpectrogram(audio, { center: false });
    const tfjs = new WindowMode({ model: recurrent, windowFrames: 101, hopFrames: 30, runtime: 'tfjs' });
    const compiled = new WindowMode({ model: recurrent, windowFrames: 101, hopFrames: 30, maxBatch: 2 });
    expect(compiled.runtime).toBe('compiled-crnn');
    const a: Posterior[] = await tfjs.step(spec);
    const b: Posterior[] = [];
    // Frame runs of 70: some steps complete no window, some two (one batch of 2).
    for (let f = 0; f < spec.frames; f += 70) {
      const n = Math.min(70, spec.frames - f);
      b.push(
        ...(await compiled.step({ data: spec.data.slice(f * MELS, (f + n) * MELS), frames: n, bins: MELS })),
      );
    }
    expect(a.map((p) => p.endFrame)).toEqual([101, 131, 161, 191, 221]);
    expect(b.map((p) => p.endFrame)).toEqual(a.map((p) => p.endFrame));
    for (const [k, p] of b.entries()) expect(maxAbsDiff(p.scores, a[k]!.scores)).toBeLessThan(1e-4);
    tfjs.dispose();
    compiled.dispose();
  });

  it("uses a compiled model's probabilities as they are with modelOutput 'probabilities'", async () => {
    const input = tfl.input({ shape: [null, 40] });
    const pooled = tfl.layers.globalAveragePooling1d().apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers
      .dense({ units: 4, activation: 'softmax', kernelInitializer: 'glorotUniform', biasInitializer: 'ones' })
      .apply(pooled) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const spec = logMelSpectrogram(audio, { center: false });
    const options = { model, windowFrames: 60, hopFrames: 50, modelOutput: 'probabilities' } as const;
    const tfjs = new WindowMode({ ...options, runtime: 'tfjs' });
    const compiled = new WindowMode({ ...options, runtime: 'compiled' });
    expect(compiled.runtime).toBe('compiled-conv');
    const a = await tfjs.step(spec);
    const b = await compiled.step(spec);
    expect(b.length).toBe(a.length);
    for (const [k, p] of b.entries()) {
      expect(maxAbsDiff(p.scores, a[k]!.scores)).toBeLessThan(1e-6);
      expect(p.scores.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    tfjs.dispose();
    compiled.dispose();
    model.dispose();
  });

  it('reads the weights once: later weight changes reach tfjs but not a compiled runtime', async () => {
    const model = toyModel(101);
    const track = toneTrack(4000, TOY_TONES);
    const compiled = await StreamingKWS.create({ model, labels });
    const tfjs = await StreamingKWS.create({ model, labels, runtime: 'tfjs' });
    const first = await compiled.push(track);
    expect(first.map((d) => d.label)).toEqual(['yes', 'no']);
    expect(await tfjs.push(track)).toEqual(first.map((d) => ({ ...d, score: expect.any(Number) })));
    compiled.reset();
    tfjs.reset();
    // Swap the "yes" and "no" rows of the dense kernel: the tfjs model now hears the tones the other way round.
    const dense = model.layers[model.layers.length - 1] as tfl.layers.Layer;
    const [kernel, bias] = dense.getWeights() as [tf.Tensor, tf.Tensor];
    const k = kernel.dataSync().slice();
    for (let m = 0; m < 40; m++) [k[m * 4 + 2], k[m * 4 + 3]] = [k[m * 4 + 3]!, k[m * 4 + 2]!];
    const swapped = tf.tensor2d(k, [40, 4]);
    dense.setWeights([swapped, bias]);
    swapped.dispose();
    expect(await compiled.push(track)).toEqual(first);
    expect((await tfjs.push(track)).map((d) => d.label)).toEqual(['no', 'yes']);
    compiled.dispose();
    tfjs.dispose();
    model.dispose();
  });

  it("'compiled' names why it cannot run a model; bad runtime values are rejected", async () => {
    const flat = flatModel();
    const kwsError = await failure(() => StreamingKWS.create({ model: flat, labels, runtime: 'compiled' }));
    expect(kwsError.code).toBe('INVALID_ARGUMENT');
    expect(kwsError.message).toMatch(/runtime 'compiled' cannot run this model: .*Flatten.*not supported/);
    const modeError = await failure(
      () => new WindowMode({ model: flat, windowFrames: 101, hopFrames: 10, runtime: 'compiled' }),
    );
    expect(modeError.code).toBe('INVALID_ARGUMENT');
    expect(modeError.message).toMatch(/Flatten/);
    flat.dispose();
    const bad = await failure(() =>
      StreamingKWS.create({ model: conv, labels, runtime: 'wasm' as StreamingKwsOptions['runtime'] }),
    );
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/runtime must be one of/);
    const stateful = await failure(() =>
      StreamingKWS.create({ model: causal, labels, mode: 'stateful', runtime: 'tfjs' }),
    );
    expect(stateful.code).toBe('INVALID_ARGUMENT');
    expect(stateful.message).toMatch(/mode 'window' only/);
  });

  it('runs the shipped pretrained models compiled and frees their tensors on dispose', async () => {
    const names = listPretrained();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const start = tf.memory().numTensors;
      const kws = await StreamingKWS.create({ pretrained: name });
      expect(kws.config.runtime).toMatch(/^compiled-(conv|crnn)$/);
      await kws.push(audio);
      kws.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
  });
});
