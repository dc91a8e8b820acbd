import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { BC_RESNET_FRAME_LAYER, bcResNet, profile } from '../../src/models/index.js';
import { createRng } from '../../src/random.js';
// From the modules (until src/streaming/index.ts re-exports them).
import type { StreamingConvNet } from '../../src/streaming/streaming-conv-net.js';
import { DEFAULT_WINDOW_FRAMES } from '../../src/streaming/streaming-kws.js';
import { toStreaming } from '../../src/streaming/to-streaming.js';
import { features, MELS, pretendTrained } from './causal-bc-resnet.js';

const CLASSES = 5;
const W = 101;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** The layers model's frame layer over the whole sequence: `[frames, C]`. */
function offlineFrames(model: tfl.LayersModel, x: Float32Array, frames: number): Float32Array {
  const frameModel = tfl.model({
    inputs: model.inputs,
    outputs: model.getLayer(BC_RESNET_FRAME_LAYER).output,
  });
  return tf.tidy(
    () => (frameModel.predict(tf.tensor3d(x, [1, frames, MELS])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function offlineLogits(model: tfl.LayersModel, x: Float32Array, frames: number): Float32Array {
  return tf.tidy(
    () => (model.predict(tf.tensor3d(x, [1, frames, MELS])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
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

describe.each([
  { width: 1, seed: 3 },
  { width: 1.5, seed: 4 },
])('toStreaming, causal BC-ResNet width $width', ({ width, seed }) => {
  const T = 160; // longer than the 117-frame receptive field plus a window offset
  let model: tfl.LayersModel;
  let x: Float32Array;
  let reference: Float32Array;
  let net: StreamingConvNet;

  beforeAll(() => {
    model = bcResNet({
      width,
      causal: true,
      numClasses: CLASSES,
      inputShape: [null, MELS],
      dropout: 0,
      seed,
    });
    x = features(T, seed);
    pretendTrained(model, seed + 100, features(T, seed + 50), T);
    reference = offlineFrames(model, x, T);
    net = toStreaming(model);
    // Model building and the calibration pass are slow on a loaded machine.
  }, 120_000);
  afterAll(() => model.dispose());

  it('describes the model: frame layer, window, receptive field, MACs = full pass / T', () => {
    const c = Math.round(32 * width);
    expect(net.frameLayer).toBe(BC_RESNET_FRAME_LAYER);
    expect([net.frameRows, net.frameCols, net.featureSize]).toEqual([1, c, c]);
    expect(net.bins).toBe(MELS);
    expect(net.numClasses).toBe(CLASSES);
    expect(net.windowFrames).toBe(DEFAULT_WINDOW_FRAMES);
    expect(net.receptiveField).toBe(116);
    expect(net.headMacs).toBe(c * CLASSES);
    // Every layer but the logits runs once per frame in the offline model too.
    const full = profile(model, { inputShape: [W, MELS] }).total;
    expect(W * net.macsPerFrame + net.headMacs).toBe(full.macs);
    expect(W * net.normMacsPerFrame).toBe(full.normMacs);
  });

  it('equals the layers model frame by frame, fed one frame at a time (≤ 1e-4)', () => {
    net.reset();
    const c = net.frameCols;
    const out = new Float32Array(T * c);
    for (let t = 0; t < T; t++) net.pushFrames(x.subarray(t * MELS, (t + 1) * MELS), 1, out.subarray(t * c));
    expect(maxAbs(reference)).toBeGreaterThan(0.5);
    for (let t = 0; t < T; t++) {
      const d = maxAbsDiff(out.subarray(t * c, (t + 1) * c), reference.subarray(t * c, (t + 1) * c));
      expect(d, `frame ${t}`).toBeLessThan(1e-4);
    }
    expect(net.framesSeen).toBe(T);
  });

  it('gives bit-identical frame outputs for random groups of frames', () => {
    const c = net.frameCols;
    net.reset();
    const single = new Float32Array(T * c);
    for (let t = 0; t < T; t++)
      net.pushFrames(x.subarray(t * MELS, (t + 1) * MELS), 1, single.subarray(t * c));
    const rng = createRng(seed + 7);
    net.reset();
    const grouped = new Float32Array(T * c);
    for (let t = 0; t < T; ) {
      const n = Math.min(1 + rng.int(40), T - t);
      net.pushFrames(x.subarray(t * MELS, (t + n) * MELS), n, grouped.subarray(t * c));
      t += n;
    }
    expect(grouped).toEqual(single);
    expect(maxAbsDiff(grouped, reference)).toBeLessThan(1e-4);
  });

  it('window logits from a zero state equal model.predict on the window', () => {
    for (const start of [0, 37, T - W]) {
      const window = x.slice(start * MELS, (start + W) * MELS);
      const expected = offlineLogits(model, window, W);
      net.reset();
      net.pushFrames(window);
      const logits = net.logits();
      expect(maxAbsDiff(logits, expected), `window at ${start}`).toBeLessThan(1e-4);
    }
  });

  it('with a warm state, window logits are the head on the mean of the whole-stream frame outputs', () => {
    const start = T - W;
    net.reset();
    net.pushFrames(x);
    const warm = net.logits();
    // The classifier on the mean over [start, T) of the frame layer run on the whole stream.
    const c = net.frameCols;
    const mean = new Float32Array(c);
    for (let t = start; t < T; t++)
      for (let k = 0; k < c; k++) mean[k] = (mean[k] as number) + (reference[t * c + k] as number) / W;
    const head = tf.tidy(
      () =>
        (model.getLayer('logits').apply(tf.tensor2d(mean, [1, c])) as tf.Tensor).dataSync() as Float32Array,
    );
    expect(maxAbsDiff(warm, head)).toBeLessThan(1e-4);
    // …which is not the model on the window alone: it sees real history instead of zero padding.
    const cold = offlineLogits(model, x.slice(start * MELS), W);
    expect(maxAbsDiff(warm, cold)).toBeGreaterThan(1e-3);
  });

  it('creates no tensors and allocates nothing that grows per frame', () => {
    const start = tf.memory().numTensors;
    net.reset();
    const state = net.stateValues;
    for (let r = 0; r < 20; r++) net.pushFrames(x);
    net.logits();
    expect(tf.memory().numTensors).toBe(start);
    expect(net.stateValues).toBe(state);
  });
});

describe('toStreaming errors and other models', () => {
  it('refuses a non-causal (same-padded) BC-ResNet, explaining causal: true', () => {
    const model = bcResNet({ numClasses: CLASSES, seed: 1 });
    expect(code(() => toStreaming(model))).toBe('MODEL_INVALID');
    expect(() => toStreaming(model)).toThrow(/not causal.*bcResNet\(\{ causal: true \}\)/s);
    model.dispose();
  });

  it('rejects non-models, bad options and layers without a streaming form', () => {
    expect(code(() => toStreaming({} as tfl.LayersModel))).toBe('INVALID_ARGUMENT');
    const model = bcResNet({ causal: true, numClasses: CLASSES, seed: 1 });
    expect(code(() => toStreaming(model, { windowFrames: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => toStreaming(model, { windowFrames: 2.5 }))).toBe('INVALID_ARGUMENT');
    expect(toStreaming(model, { windowFrames: 50 }).windowFrames).toBe(50);
    const net = toStreaming(model);
    expect(code(() => net.logits())).toBe('INVALID_ARGUMENT');
    expect(code(() => net.pushFrames(new Float32Array(39)))).toBe('SHAPE_MISMATCH');
    expect(code(() => net.pushFrames([1] as unknown as Float32Array))).toBe('INVALID_ARGUMENT');
    const nan = new Float32Array(2 * MELS);
    nan[MELS + 3] = Number.NaN;
    expect(code(() => net.pushFrames(nan))).toBe('NON_FINITE_INPUT');
    expect(net.framesSeen).toBe(0);
    model.dispose();

    const input = tfl.input({ shape: [W, MELS] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const flatModel = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 3 }).apply(flat) as tfl.SymbolicTensor,
    });
    expect(code(() => toStreaming(flatModel))).toBe('MODEL_INVALID');
    expect(() => toStreaming(flatModel)).toThrow(/Flatten.*no streaming form/);
    flatModel.dispose();
  });

  it('streams a pooled dense classifier on [batch, time, mels] (GlobalAveragePooling1D)', () => {
    const input = tfl.input({ shape: [null, MELS] });
    const h = tfl.layers.dense({
      units: 6,
      activation: 'tanh',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    });
    const pooled = tfl.layers
      .globalAveragePooling1d()
      .apply(h.apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    });
    const model = tfl.model({ inputs: input, outputs: out.apply(pooled) as tfl.SymbolicTensor });
    const net = toStreaming(model, { windowFrames: 20 });
    const x = features(20, 9);
    net.pushFrames(x);
    expect(maxAbsDiff(net.logits(), offlineLogits(model, x, 20))).toBeLessThan(1e-5);
    model.dispose();
  });
});
