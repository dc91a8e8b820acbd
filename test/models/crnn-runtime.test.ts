import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { attentionWeights, type CrnnOptions, crnn } from '../../src/models/crnn.js';
import { type CrnnRuntime, type CrnnStepResult, compileCrnn } from '../../src/models/crnn-runtime.js';
import { modelFromArtifacts, modelToArtifacts } from '../../src/models/io.js';
import { AttentionPooling, attentionPool } from '../../src/models/layers/attention-pooling.js';
import { createRng, type Rng } from '../../src/random.js';

/** Stride 5 > kernel 3 in time (frames are skipped), 2 classes, 1 GRU layer, odd sizes everywhere. */
const SMALL: CrnnOptions = {
  numClasses: 2,
  inputShape: [30, 12],
  convChannels: 5,
  kernelSize: [3, 4],
  stride: [5, 3],
  hiddenSize: 7,
  gruLayers: 1,
};

/** Kernel 6 > stride 2 in time, 3 GRU layers of 9 units, channels not a multiple of four. */
const DEEP: CrnnOptions = {
  numClasses: 35,
  inputShape: [26, 10],
  convChannels: 3,
  kernelSize: [6, 3],
  stride: [2, 2],
  hiddenSize: 9,
  gruLayers: 3,
  attentionSize: 6,
};

function randomArray(n: number, rng: Rng, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * rng.normal();
  return out;
}

/** Adds seeded noise to every weight so that biases (zero at init) take part in the comparison. */
function perturb(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const next = model.getWeights().map((w) => {
    const values = w.dataSync() as Float32Array;
    const noise = randomArray(values.length, rng, 0.2);
    for (let i = 0; i < values.length; i++) noise[i] = (noise[i] as number) + (values[i] as number);
    return tf.tensor(noise, w.shape);
  });
  model.setWeights(next);
  tf.dispose(next);
}

function build(options: CrnnOptions, seed = 1): tfl.LayersModel {
  const model = crnn({ ...options, seed });
  perturb(model, seed + 100);
  return model;
}

function tfPredict(
  model: tfl.LayersModel,
  x: Float32Array,
  batch: number,
  frames: number,
  mels: number,
): Float32Array {
  return tf.tidy(
    () => (model.predict(tf.tensor3d(x, [batch, frames, mels])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function tfAttention(
  model: tfl.LayersModel,
  x: Float32Array,
  batch: number,
  frames: number,
  mels: number,
): Float32Array {
  return tf.tidy(
    () => attentionWeights(model, tf.tensor3d(x, [batch, frames, mels])).dataSync() as Float32Array,
  );
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

function expectKwsError(fn: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
  if (message) expect((caught as KwsError).message).toMatch(message);
}

/** Feeds `stream` ([frames, mels]) in random chunks of 1…maxChunk frames; returns every output. */
function feed(
  rt: CrnnRuntime,
  state: ReturnType<CrnnRuntime['createState']>,
  stream: Float32Array,
  rng: Rng,
  maxChunk: number,
): { results: CrnnStepResult[]; calls: number } {
  const frames = stream.length / rt.mels;
  const results: CrnnStepResult[] = [];
  let pos = 0;
  let calls = 0;
  while (pos < frames) {
    const n = Math.min(frames - pos, 1 + rng.int(maxChunk));
    const r = rt.step(state, stream.subarray(pos * rt.mels, (pos + n) * rt.mels), n);
    calls++;
    pos += n;
    if (r.logits) results.push(r);
  }
  return { results, calls };
}

interface TinyOptions {
  convActivation?: 'linear' | 'relu';
  recurrentActivation?: 'sigmoid' | 'tanh';
  returnSequences?: boolean;
  headActivation?: 'linear' | 'softmax';
  rnn?: (x: tfl.SymbolicTensor) => tfl.SymbolicTensor;
}

function lstm(name: string): tfl.layers.Layer {
  return tfl.layers.lstm({ units: 4, returnSequences: true, recurrentInitializer: 'glorotUniform', name });
}

/** A CRNN-shaped model on [10, 6] inputs with one setting changed. */
function tinyModel(o: TinyOptions): tfl.LayersModel {
  const input = tfl.input({ shape: [10, 6] });
  let x = tfl.layers.reshape({ targetShape: [10, 6, 1] }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({
      filters: 2,
      kernelSize: [3, 2],
      strides: [2, 2],
      activation: o.convActivation ?? 'linear',
      name: 'c',
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reshape({ targetShape: [4, 6] }).apply(x) as tfl.SymbolicTensor;
  const gru = tfl.layers.gru({
    units: 4,
    returnSequences: o.returnSequences ?? true,
    recurrentActivation: o.recurrentActivation ?? 'sigmoid',
    recurrentInitializer: 'glorotUniform',
    name: 'g',
  });
  x = (o.rnn ? o.rnn(x) : gru.apply(x)) as tfl.SymbolicTensor;
  if (o.returnSequences !== false) x = new AttentionPooling({ units: 3 }).apply(x) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2, activation: o.headActivation ?? 'linear', name: 'head' });
  return tfl.model({ inputs: input, outputs: head.apply(x) as tfl.SymbolicTensor });
}

let tensorsAtStart = 0;
beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  tensorsAtStart = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});

describe('compileCrnn: parity with tfjs-layers (cpu)', () => {
  const cases: [string, CrnnOptions][] = [
    ['default (2 × GRU 64, 12 classes)', {}],
    ['1 GRU layer', { gruLayers: 1 }],
    ['3 GRU layers, 35 classes, small odd sizes', DEEP],
    ['stride > kernel, 2 classes', SMALL],
    ['bidirectional, 2 layers', { ...DEEP, gruLayers: 2, bidirectional: true, numClasses: 4 }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: logits within 1e-5, attention within 1e-6`, () => {
      const model = build(options, 3);
      const before = tf.memory().numTensors;
      const rt = compileCrnn(model);
      expect(tf.memory().numTensors).toBe(before);
      const rng = createRng(11);
      const batch = 3;
      const per = rt.frames * rt.mels;
      const x = randomArray(batch * per, rng, 2, -3);
      const ref = tfPredict(model, x, batch, rt.frames, rt.mels);
      const refAtt = tfAttention(model, x, batch, rt.frames, rt.mels);
      const n0 = tf.memory().numTensors;
      for (let b = 0; b < batch; b++) {
        const { logits, attention } = rt.predictWithAttention(x.subarray(b * per, (b + 1) * per), rt.frames);
        expect(logits.length).toBe(rt.numClasses);
        expect(maxAbsDiff(logits, ref.subarray(b * rt.numClasses, (b + 1) * rt.numClasses))).toBeLessThan(
          1e-5,
        );
        expect(maxAbsDiff(attention, refAtt.subarray(b * rt.steps, (b + 1) * rt.steps))).toBeLessThan(1e-6);
      }
      expect(tf.memory().numTensors).toBe(n0);
      model.dispose();
    });
  }

  it('reports the model geometry', () => {
    const model = crnn();
    const rt = compileCrnn(model);
    expect([rt.frames, rt.mels, rt.numClasses, rt.steps]).toEqual([101, 40, 12, 11]);
    expect(rt.kernelSize).toEqual([20, 5]);
    expect(rt.stride).toEqual([8, 2]);
    expect([rt.gruLayers, rt.hiddenSize, rt.bidirectional]).toEqual([2, 64, false]);
    model.dispose();
  });

  it('hand-built variants: hard-sigmoid gates, 4-D input, no conv/dense bias, no score bias, dropout layers', () => {
    const frames = 17;
    const mels = 9;
    const input = tfl.input({ shape: [frames, mels, 1] });
    let x = tfl.layers.dropout({ rate: 0.3 }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers
      .conv2d({
        filters: 6,
        kernelSize: [4, 3],
        strides: [3, 2],
        useBias: false,
        kernelInitializer: 'glorotUniform',
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reshape({ targetShape: [5, 4 * 6] }).apply(x) as tfl.SymbolicTensor;
    for (let i = 0; i < 2; i++) {
      x = tfl.layers
        .gru({
          units: 5,
          returnSequences: true,
          recurrentActivation: 'hardSigmoid',
          recurrentInitializer: 'glorotUniform',
          kernelInitializer: 'glorotUniform',
        })
        .apply(x) as tfl.SymbolicTensor;
      x = tfl.layers.dropout({ rate: 0.2 }).apply(x) as tfl.SymbolicTensor;
    }
    x = new AttentionPooling({ units: 3, useScoreBias: false, seed: 4 }).apply(x) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, useBias: false }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    perturb(model, 5);
    // Push pre-activations past the hard sigmoid's clipping points.
    const rng = createRng(6);
    const xs = randomArray(2 * frames * mels, rng, 4);
    const rt = compileCrnn(model);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(xs, [2, frames, mels, 1])) as tf.Tensor).dataSync());
    const got = rt.predictBatch(xs, 2, frames);
    expect(maxAbsDiff(got, ref)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('variableFrames: any length ≥ the kernel, same as a tfjs CRNN built for that length', () => {
    const model = build(DEEP, 8);
    const rt = compileCrnn(model, { variableFrames: true });
    const rng = createRng(9);
    for (const frames of [6, 7, 41]) {
      const long = crnn({ ...DEEP, inputShape: [frames, 10] });
      long.setWeights(model.getWeights());
      const x = randomArray(frames * 10, rng, 2);
      const ref = tfPredict(long, x, 1, frames, 10);
      expect(maxAbsDiff(rt.predict(x, frames), ref)).toBeLessThan(1e-5);
      expect(rt.attention().length).toBe(Math.floor((frames - 6) / 2) + 1);
      long.dispose();
    }
    // After a longer input, the model's own length still gives the same result as before.
    const x = randomArray(26 * 10, rng, 2);
    const fixed = compileCrnn(model);
    expect(rt.predict(x, 26)).toEqual(fixed.predict(x, 26));
    model.dispose();
  });

  it('a saved and reloaded CRNN (bidirectional too) compiles to the same runtime, bit for bit', async () => {
    for (const options of [DEEP, { ...SMALL, bidirectional: true }]) {
      const model = build(options, 12);
      const loaded = await modelFromArtifacts(await modelToArtifacts(model));
      const rt = compileCrnn(model);
      const x = randomArray(rt.frames * rt.mels, createRng(2), 2);
      expect(compileCrnn(loaded).predict(x, rt.frames)).toEqual(rt.predict(x, rt.frames));
      loaded.dispose();
      model.dispose();
    }
  });

  it('copies the weights: changing the model afterwards does not change the runtime', () => {
    const model = build(SMALL, 2);
    const rt = compileCrnn(model);
    const x = randomArray(30 * 12, createRng(1));
    const before = rt.predict(x, 30);
    perturb(model, 77);
    expect(rt.predict(x, 30)).toEqual(before);
    expect(maxAbsDiff(compileCrnn(model).predict(x, 30), before)).toBeGreaterThan(1e-4);
    model.dispose();
  });
});

describe('CrnnRuntime: batch and attention', () => {
  it("predictBatch equals per-example predict bit for bit; attention() is [batch, T']", () => {
    const model = build(DEEP, 4);
    const rt = compileCrnn(model);
    const rng = createRng(12);
    const per = rt.frames * rt.mels;
    const x = randomArray(5 * per, rng, 2);
    const singles: Float32Array[] = [];
    const singleAtt: Float32Array[] = [];
    for (let b = 0; b < 5; b++) {
      singles.push(rt.predict(x.subarray(b * per, (b + 1) * per), rt.frames));
      singleAtt.push(rt.attention());
    }
    const n0 = tf.memory().numTensors;
    const batch = rt.predictBatch(x, 5, rt.frames);
    expect(tf.memory().numTensors).toBe(n0);
    expect(batch.length).toBe(5 * rt.numClasses);
    const att = rt.attention();
    expect(att.length).toBe(5 * rt.steps);
    for (let b = 0; b < 5; b++) {
      expect(batch.subarray(b * rt.numClasses, (b + 1) * rt.numClasses)).toEqual(singles[b]);
      const row = att.subarray(b * rt.steps, (b + 1) * rt.steps);
      expect(row).toEqual(singleAtt[b]);
      expect(Math.abs(row.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    }
    model.dispose();
  });

  it('returns fresh arrays: mutating an output does not affect later calls', () => {
    const model = build(SMALL, 5);
    const rt = compileCrnn(model);
    const x = randomArray(30 * 12, createRng(3));
    const a = rt.predict(x, 30);
    const copy = a.slice();
    a.fill(123);
    rt.attention().fill(5);
    expect(rt.predict(x, 30)).toEqual(copy);
    expect(rt.attention().every((v) => v < 1)).toBe(true);
    model.dispose();
  });
});

describe('CrnnRuntime: streaming', () => {
  for (const [name, options] of [
    ['default CRNN', {}],
    ['stride > kernel', SMALL],
    ['kernel > stride, 3 layers', DEEP],
    ['bidirectional', { ...DEEP, gruLayers: 2, bidirectional: true }],
  ] as [string, CrnnOptions][]) {
    it(`${name}, mode 'window': every output equals predict on its window, bit for bit`, () => {
      const model = build(options, 6);
      const rt = compileCrnn(model);
      const loose = compileCrnn(model, { variableFrames: true });
      const [kt, st] = [rt.kernelSize[0], rt.stride[0]];
      const rng = createRng(21);
      const totalFrames = 3 * rt.frames + 7;
      const stream = randomArray(totalFrames * rt.mels, rng, 2);
      const state = rt.createState();
      expect(state.window).toBe(rt.steps);
      // Chunks of at most `stride` frames complete at most one conv step each: one output per step.
      const { results } = feed(rt, state, stream, rng, st);
      const totalSteps = Math.floor((totalFrames - kt) / st) + 1;
      expect(state.framesSeen).toBe(totalFrames);
      expect(state.stepsSeen).toBe(totalSteps);
      expect(results.length).toBe(totalSteps - rt.steps + 1);
      let checkedFull = 0;
      for (const [k, r] of results.entries()) {
        const start = k * st;
        expect(r.startFrame).toBe(start);
        expect(r.endFrame).toBe(start + (rt.steps - 1) * st + kt);
        const end = r.endFrame as number;
        const window = stream.subarray(start * rt.mels, end * rt.mels);
        const ref = loose.predictWithAttention(window, end - start);
        expect(r.logits).toEqual(ref.logits);
        expect(r.attention).toEqual(ref.attention);
        if (start + rt.frames <= totalFrames) {
          // The model's own window: the frames after endFrame do not matter.
          const full = stream.subarray(start * rt.mels, (start + rt.frames) * rt.mels);
          expect(rt.predict(full, rt.frames)).toEqual(r.logits);
          checkedFull++;
        }
      }
      expect(checkedFull).toBeGreaterThan(0);
      // One tfjs check on the last full window.
      const last = Math.floor((totalFrames - rt.frames) / st) * st;
      const win = stream.slice(last * rt.mels, (last + rt.frames) * rt.mels);
      const r = results[last / st] as CrnnStepResult;
      expect(maxAbsDiff(r.logits as Float32Array, tfPredict(model, win, 1, rt.frames, rt.mels))).toBeLessThan(
        1e-5,
      );
      model.dispose();
    });
  }

  it("mode 'window': large random chunks give the latest window only; reset restarts the stream", () => {
    const model = build(DEEP, 7);
    const rt = compileCrnn(model);
    const rng = createRng(5);
    const totalFrames = 200;
    const stream = randomArray(totalFrames * rt.mels, rng, 2);
    const fine = rt.createState();
    const byEnd = new Map<number, Float32Array>();
    for (const r of feed(rt, fine, stream, rng, 1).results)
      byEnd.set(r.endFrame as number, r.logits as Float32Array);
    const coarse = rt.createState({ mode: 'window' });
    for (let rep = 0; rep < 2; rep++) {
      const { results } = feed(rt, coarse, stream, rng, 37);
      expect(results.length).toBeGreaterThan(3);
      for (const r of results) expect(r.logits).toEqual(byEnd.get(r.endFrame as number));
      coarse.reset();
      expect([coarse.framesSeen, coarse.stepsSeen]).toEqual([0, 0]);
    }
    // Zero frames: nothing happens.
    expect(rt.step(coarse, new Float32Array(0), 0)).toEqual({ steps: 0 });
    model.dispose();
  });

  it("mode 'window' with a shorter window equals predict on the matching shorter input", () => {
    const model = build(DEEP, 8);
    const rt = compileCrnn(model);
    const loose = compileCrnn(model, { variableFrames: true });
    const rng = createRng(8);
    const stream = randomArray(60 * rt.mels, rng, 2);
    const state = rt.createState({ window: 4 });
    const { results } = feed(rt, state, stream, rng, 2);
    expect(results.length).toBeGreaterThan(5);
    for (const r of results) {
      const [s, e] = [r.startFrame as number, r.endFrame as number];
      expect(e - s).toBe(3 * 2 + 6);
      expect(r.attention?.length).toBe(4);
      expect(r.logits).toEqual(loose.predict(stream.subarray(s * rt.mels, e * rt.mels), e - s));
    }
    model.dispose();
  });

  for (const [name, options] of [
    ['default CRNN', {}],
    ['kernel > stride, 3 layers', DEEP],
    ['stride > kernel', SMALL],
  ] as [string, CrnnOptions][]) {
    it(`${name}, mode 'carry': GRU over the whole stream, attention over the last window (vs tfjs)`, () => {
      const model = build(options, 9);
      const rt = compileCrnn(model);
      const [kt, st] = [rt.kernelSize[0], rt.stride[0]];
      const rng = createRng(31);
      const totalFrames = 2 * rt.frames + 13;
      const stream = randomArray(totalFrames * rt.mels, rng, 2);
      const state = rt.createState({ mode: 'carry' });
      const { results } = feed(rt, state, stream, rng, st);
      const totalSteps = Math.floor((totalFrames - kt) / st) + 1;
      expect(results.length).toBe(totalSteps - rt.steps + 1);
      // First output: the GRU started at frame 0, exactly the offline model on the first window.
      expect(results[0]?.logits).toEqual(rt.predict(stream.subarray(0, rt.frames * rt.mels), rt.frames));

      // Reference: the same CRNN built for the whole stream; its (causal) top GRU outputs at
      // step j depend on frames < j·stride + kernel only. Pool the last `window` of them.
      const long = crnn({ ...options, inputShape: [totalFrames, rt.mels] });
      long.setWeights(model.getWeights());
      const gruName = `crnn_gru_${rt.gruLayers}`;
      const trunk = tfl.model({
        inputs: long.inputs,
        outputs: long.getLayer(gruName).output as tfl.SymbolicTensor,
      });
      const [w, b, v, c] = model.getLayer('crnn_attention').getWeights();
      const [dk, db] = model.getLayer('crnn_logits').getWeights();
      tf.tidy(() => {
        const seq = trunk.predict(tf.tensor3d(stream, [1, totalFrames, rt.mels])) as tf.Tensor3D;
        expect(seq.shape[1]).toBe(totalSteps);
        for (const r of results) {
          const lastStep = ((r.endFrame as number) - kt) / st;
          const first = lastStep - rt.steps + 1;
          expect(r.startFrame).toBe(first * st);
          const part = tf.slice(seq, [0, first, 0], [1, rt.steps, rt.hiddenSize]);
          const { pooled, weights } = attentionPool(
            part,
            w as tf.Tensor2D,
            b as tf.Tensor1D,
            v as tf.Tensor2D,
            (c ?? null) as tf.Tensor1D | null,
          );
          const logits = tf.add(tf.matMul(pooled, dk as tf.Tensor2D), db as tf.Tensor1D);
          expect(maxAbsDiff(r.logits as Float32Array, logits.dataSync())).toBeLessThan(1e-5);
          expect(maxAbsDiff(r.attention as Float32Array, weights.dataSync())).toBeLessThan(1e-6);
        }
      });
      long.dispose();
      model.dispose();
    });
  }

  it('several streams on one runtime, interleaved with predict calls, do not disturb each other', () => {
    const model = build(DEEP, 13);
    const rt = compileCrnn(model);
    const rng = createRng(40);
    const streams = [0, 1].map(() => randomArray(80 * rt.mels, rng, 2));
    const alone = streams.map((x, i) => {
      const window = feed(rt, rt.createState(), x, createRng(i), 2).results.map((r) => r.logits);
      const carry = feed(rt, rt.createState({ mode: 'carry' }), x, createRng(i), 2).results.map(
        (r) => r.logits,
      );
      return { window, carry };
    });
    const states = streams.map(() => ({
      window: rt.createState(),
      carry: rt.createState({ mode: 'carry' }),
    }));
    const got = streams.map(() => ({
      window: [] as (Float32Array | undefined)[],
      carry: [] as (Float32Array | undefined)[],
    }));
    const noise = randomArray(rt.frames * rt.mels, rng);
    for (let f = 0; f < 80; f++) {
      for (let i = 0; i < 2; i++) {
        const frame = (streams[i] as Float32Array).subarray(f * rt.mels, (f + 1) * rt.mels);
        for (const mode of ['window', 'carry'] as const) {
          const r = rt.step((states[i] as (typeof states)[0])[mode], frame, 1);
          if (r.logits) (got[i] as (typeof got)[0])[mode].push(r.logits);
        }
        rt.predict(noise, rt.frames);
      }
    }
    // 80 frames, kernel 6, stride 2: 38 conv steps, so 38 − 11 + 1 outputs per stream and mode.
    expect(alone[0]?.window.length).toBe(28);
    expect(alone[1]?.carry.length).toBe(28);
    expect(got).toEqual(alone);
    model.dispose();
  });

  it('stream steps create no tensors', () => {
    const model = build(SMALL, 10);
    const rt = compileCrnn(model);
    const n0 = tf.memory().numTensors;
    const stream = randomArray(100 * rt.mels, createRng(2));
    feed(rt, rt.createState(), stream, createRng(3), 9);
    feed(rt, rt.createState({ mode: 'carry', window: 3 }), stream, createRng(4), 9);
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
});

describe('CrnnRuntime: errors', () => {
  it('bad inputs to predict / predictBatch / attention', () => {
    const model = build(SMALL, 1);
    const rt = compileCrnn(model);
    const x = new Float32Array(30 * 12);
    expectKwsError(() => rt.attention(), 'INVALID_ARGUMENT', /nothing was predicted/);
    expectKwsError(() => rt.predict(x, 29), 'SHAPE_MISMATCH', /input length 30/);
    expectKwsError(() => rt.predict(x.subarray(1), 30), 'SHAPE_MISMATCH', /360 values; got 359/);
    expectKwsError(
      () => rt.predict(new Float64Array(360) as unknown as Float32Array, 30),
      'INVALID_ARGUMENT',
    );
    expectKwsError(() => rt.predict([1, 2] as unknown as Float32Array, 30), 'INVALID_ARGUMENT');
    const nan = x.slice();
    nan[100] = Number.NaN;
    expectKwsError(() => rt.predict(nan, 30), 'NON_FINITE_INPUT');
    nan[100] = Number.POSITIVE_INFINITY;
    expectKwsError(() => rt.predictBatch(nan, 1, 30), 'NON_FINITE_INPUT');
    expectKwsError(() => rt.predictBatch(x, 0, 30), 'INVALID_ARGUMENT');
    expectKwsError(() => rt.predictBatch(x, 2, 30), 'SHAPE_MISMATCH');
    expectKwsError(() => rt.predictBatch(x, 1.5, 30), 'INVALID_ARGUMENT');
    const loose = compileCrnn(model, { variableFrames: true });
    expectKwsError(() => loose.predict(new Float32Array(2 * 12), 2), 'INVALID_ARGUMENT', /frames/);
    expectKwsError(() => compileCrnn(model, { variableFrames: 1 as unknown as boolean }), 'INVALID_ARGUMENT');
    model.dispose();
  });

  it('bad streaming calls', () => {
    const model = build(SMALL, 1);
    const bi = build({ ...SMALL, bidirectional: true }, 1);
    const rt = compileCrnn(model);
    const other = compileCrnn(model);
    expectKwsError(() => rt.createState({ mode: 'stateful' as 'carry' }), 'INVALID_ARGUMENT');
    expectKwsError(() => rt.createState({ window: 0 }), 'INVALID_ARGUMENT');
    expectKwsError(() => rt.createState({ window: 4097 }), 'INVALID_ARGUMENT');
    expectKwsError(() => rt.createState(null as unknown as undefined), 'INVALID_ARGUMENT');
    expectKwsError(
      () => compileCrnn(bi).createState({ mode: 'carry' }),
      'INVALID_ARGUMENT',
      /unidirectional/,
    );
    const state = rt.createState();
    expectKwsError(() => other.step(state, new Float32Array(12), 1), 'INVALID_ARGUMENT', /this runtime/);
    expectKwsError(() => rt.step({} as typeof state, new Float32Array(12), 1), 'INVALID_ARGUMENT');
    expectKwsError(() => rt.step(state, new Float32Array(13), 1), 'SHAPE_MISMATCH');
    expectKwsError(() => rt.step(state, new Float32Array(12), -1), 'INVALID_ARGUMENT');
    expectKwsError(
      () => rt.step(state, new Float32Array([Number.NaN, ...new Array(11).fill(0)]), 1),
      'NON_FINITE_INPUT',
    );
    expect(state.framesSeen).toBe(0);
    model.dispose();
    bi.dispose();
  });

  it('unsupported models: MODEL_INVALID naming the layer', () => {
    expectKwsError(() => compileCrnn({} as tfl.LayersModel), 'INVALID_ARGUMENT');

    const lstmModel = tinyModel({ rnn: (x) => lstm('my_lstm').apply(x) as tfl.SymbolicTensor });
    expectKwsError(() => compileCrnn(lstmModel), 'MODEL_INVALID', /"my_lstm" \(LSTM\)/);
    const reluConv = tinyModel({ convActivation: 'relu' });
    expectKwsError(() => compileCrnn(reluConv), 'MODEL_INVALID', /"c" \(Conv2D\) has activation "relu"/);
    const softmax = tinyModel({ headActivation: 'softmax' });
    expectKwsError(() => compileCrnn(softmax), 'MODEL_INVALID', /"head" \(Dense\) has activation "softmax"/);
    const lastOnly = tinyModel({ returnSequences: false });
    expectKwsError(() => compileCrnn(lastOnly), 'MODEL_INVALID', /"g" \(GRU\)/);
    const tanhGates = tinyModel({ recurrentActivation: 'tanh' });
    expectKwsError(() => compileCrnn(tanhGates), 'MODEL_INVALID', /recurrentActivation "tanh"/);
    // The same structure with supported settings compiles (so the errors above are the settings').
    const ok = tinyModel({});
    expect(compileCrnn(ok).numClasses).toBe(2);

    const dense = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [4] })] });
    expectKwsError(() => compileCrnn(dense), 'MODEL_INVALID', /input must be/);

    const base = crnn({ ...SMALL, gruLayers: 2 });
    const twoOutputs = tfl.model({
      inputs: base.inputs,
      outputs: [
        base.outputs[0] as tfl.SymbolicTensor,
        base.getLayer('crnn_gru_1').output as tfl.SymbolicTensor,
      ],
    });
    expectKwsError(() => compileCrnn(twoOutputs), 'MODEL_INVALID', /one input and one output/);

    for (const m of [lstmModel, reluConv, softmax, lastOnly, tanhGates, ok, dense, base]) m.dispose();
  });
});
