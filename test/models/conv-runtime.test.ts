import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomStatistics } from '../../bench/lib/random-statistics.js';
import { KwsError } from '../../src/errors.js';
import { type BcResNetOptions, bcResNet } from '../../src/models/bc-resnet.js';
import { compileConvNet } from '../../src/models/conv-runtime.js';
import { modelFromArtifacts, modelToArtifacts } from '../../src/models/io.js';
import { FrequencyMean } from '../../src/models/layers/frequency-mean.js';
import { registerKwsLayers } from '../../src/models/layers/register.js';
import { SpectralConv, type SpectralConvArgs } from '../../src/models/layers/spectral-conv.js';
import { SubSpectralNorm } from '../../src/models/layers/sub-spectral-norm.js';
import { TemporalConv } from '../../src/models/layers/temporal-conv.js';
import { profile } from '../../src/models/profile.js';
import { createRng, type Rng } from '../../src/random.js';

/**
 * Makes a freshly built model's inference function non-trivial: trained-looking normalisation
 * statistics and biases, and N(0, 0.05²) noise on every kernel.
 */
function randomize(model: tfl.LayersModel, seed: number): void {
  randomStatistics(model, seed, 0.05);
}

/** Log-mel-like features: around −4, slowly varying, with noise. */
function features(count: number, frames: number, bins: number, rng: Rng): Float32Array {
  const x = new Float32Array(count * frames * bins);
  for (let b = 0; b < count; b++) {
    for (let t = 0; t < frames; t++) {
      for (let m = 0; m < bins; m++) {
        x[(b * frames + t) * bins + m] = -4 + 2 * Math.sin(t / 7 + m / 5 + b) + rng.normal();
      }
    }
  }
  return x;
}

function tfLogits(model: tfl.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}

/**
 * Asserts that runtime logits equal tfjs' to float32 rounding: max abs difference ≤ 1e-6 of the
 * largest logit (at least 1e-6). Measured: about 2e-7 of it.
 */
function expectLogits(ours: Float32Array, ref: Float32Array): void {
  const scale = Math.max(1, ...Array.from(ref, Math.abs));
  const diff = maxAbsDiff(ours, ref);
  expect(diff, `max |diff| ${diff} at max |logit| ${scale}`).toBeLessThanOrEqual(1e-6 * scale);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KwsError) return e.code;
    throw e;
  }
  throw new Error('expected a KwsError');
}

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  registerKwsLayers();
});

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

describe('compileConvNet on BC-ResNet', () => {
  const cases: [number, boolean][] = [
    [1, false],
    [1, true],
    [1.5, false],
    [1.5, true],
    [2, false],
    [2, true],
  ];
  it.each(cases)(
    'width %s, causal %s: logits equal tfjs cpu (batch 3, random statistics)',
    (width, causal) => {
      const model = bcResNet({ width, causal, seed: 11 });
      randomize(model, 12);
      const runtime = compileConvNet(model);
      const x = features(3, 101, 40, createRng(13));
      const ref = tfLogits(model, x, [3, 101, 40]);
      const batch = runtime.predictBatch(x, 3);
      const scale = Math.max(...Array.from(ref, Math.abs));
      // float64 against tfjs' float32: about 1e-7 of the largest logit (measured 1.9e-6 at |logit| 9).
      expect(maxAbsDiff(batch, ref)).toBeLessThan(Math.max(1e-5, 1e-6 * scale));
      expect(maxAbsDiff(batch, ref)).toBeLessThan(1e-4 * Math.max(1, scale / 10));
      // Each example alone gives bit-identical logits.
      for (let b = 0; b < 3; b++) {
        const one = runtime.predict(x.subarray(b * 4040, (b + 1) * 4040));
        expect(Array.from(one)).toEqual(Array.from(batch.subarray(b * 12, (b + 1) * 12)));
      }
      expect(runtime.macs).toBe(profile(model).total.macs);
      expect(runtime.frames).toBe(101);
      expect(runtime.bins).toBe(40);
      expect(runtime.numClasses).toBe(12);
      model.dispose();
    },
  );

  it('BC-ResNet-1 counts 2,482,156 MACs and compiles to fused steps', () => {
    const model = bcResNet({ width: 1 });
    const runtime = compileConvNet(model);
    expect(runtime.macs).toBe(2_482_156);
    // Far fewer steps than layers: norms, activations, frequency means and residual sums fuse.
    expect(model.layers.length).toBe(143);
    expect(runtime.steps).toBe(50);
    model.dispose();
  });

  it('writes into a given output array and reuses it', () => {
    const model = bcResNet({ width: 1, numClasses: 5, seed: 3 });
    randomize(model, 4);
    const runtime = compileConvNet(model);
    const x = features(2, 101, 40, createRng(5));
    const out = new Float32Array(5);
    expect(runtime.predict(x.subarray(0, 4040), out)).toBe(out);
    const batchOut = new Float32Array(10);
    expect(runtime.predictBatch(x, 2, batchOut)).toBe(batchOut);
    expect(Array.from(batchOut.subarray(0, 5))).toEqual(Array.from(out));
    expectLogits(batchOut, tfLogits(model, x, [2, 101, 40]));
    model.dispose();
  });

  it('geometries off the 40-mel fast paths: 48 bins with 3 sub-bands, 1 sub-band, [frames, bins, 1] input', () => {
    const options: BcResNetOptions[] = [
      { inputShape: [37, 48], subBands: 3, numClasses: 4 },
      { inputShape: [23, 40, 1], subBands: 1, numClasses: 3, causal: true },
    ];
    for (const [k, o] of options.entries()) {
      const model = bcResNet({ width: 1.25, seed: 20 + k, ...o });
      randomize(model, 30 + k);
      const runtime = compileConvNet(model);
      const [frames, bins] = o.inputShape as [number, number];
      const x = features(2, frames, bins, createRng(40 + k));
      const shape = o.inputShape?.length === 3 ? [2, frames, bins, 1] : [2, frames, bins];
      expectLogits(runtime.predictBatch(x, 2), tfLogits(model, x, shape));
      model.dispose();
    }
  });

  it('takes a variable-length model at the frames it is compiled for', () => {
    const model = bcResNet({ width: 1, inputShape: [null, 40], seed: 7 });
    randomize(model, 8);
    const runtime = compileConvNet(model, { frames: 64 });
    expect(runtime.frames).toBe(64);
    const x = features(1, 64, 40, createRng(9));
    expectLogits(runtime.predict(x), tfLogits(model, x, [1, 64, 40]));
    expect(compileConvNet(model).frames).toBe(101);
    model.dispose();
  });

  it('compiles a model loaded from its saved artifacts to the same logits', async () => {
    const model = bcResNet({ width: 1, causal: true, seed: 14 });
    randomize(model, 15);
    const loaded = await modelFromArtifacts(await modelToArtifacts(model));
    const x = features(1, 101, 40, createRng(16));
    expect(Array.from(compileConvNet(loaded).predict(x))).toEqual(
      Array.from(compileConvNet(model).predict(x)),
    );
    model.dispose();
    loaded.dispose();
  });
});

describe('compileConvNet on other graphs of kws-kit layers', () => {
  /**
   * Exercises the general kernels: a 3×3 1 → C convolution with bias and a SubSpectralNorm folded
   * per sub-band, a dilated 3×3 depthwise convolution read by a FrequencyMean, a 5-tap temporal
   * convolution, a normalisation that cannot fold (after an Add) with ReLU6, an Add of full-size
   * maps, sigmoid / elu activations, a Dense with its own activation, dropout, and a 3-tap
   * frequency convolution whose Add partner is a full map (stored after all, not fused).
   */
  function generalModel(): tfl.LayersModel {
    const input = tfl.input({ shape: [19, 12] });
    const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
      layer.apply(x) as tfl.SymbolicTensor;
    let x = apply(new SpectralConv({ filters: 6, kernelSize: [3, 3], useBias: true, seed: 1 }), input);
    x = apply(new SubSpectralNorm({ subBands: 3 }), x);
    x = apply(tfl.layers.activation({ activation: 'elu' }), x);
    const d = apply(
      new SpectralConv({ filters: 6, kernelSize: [3, 3], dilation: [2, 1], timePadding: 'causal', seed: 2 }),
      x,
    );
    const m = apply(new FrequencyMean({}), d);
    let t = apply(new TemporalConv({ kernelSize: 5, dilation: 2, seed: 3 }), m);
    t = apply(tfl.layers.activation({ activation: 'sigmoid' }), t);
    const f = apply(new SpectralConv({ filters: 6, kernelSize: [1, 3], seed: 4 }), x);
    const fm = apply(new FrequencyMean({}), f);
    t = apply(tfl.layers.add(), [t, fm]);
    const sum = apply(tfl.layers.add(), [f, d]);
    let y = apply(tfl.layers.batchNormalization({ axis: -1 }), sum);
    y = apply(tfl.layers.activation({ activation: 'relu6' }), y);
    y = apply(tfl.layers.add(), [y, t, x]);
    y = apply(tfl.layers.dropout({ rate: 0.3 }), y);
    y = apply(tfl.layers.dense({ units: 5, activation: 'relu' }), y);
    y = apply(tfl.layers.batchNormalization({ axis: -1 }), y);
    y = apply(tfl.layers.globalAveragePooling2d({}), y);
    y = apply(tfl.layers.dense({ units: 3, activation: 'softmax' }), y);
    return tfl.model({ inputs: input, outputs: y });
  }

  it('matches tfjs on the general kernels', () => {
    const model = generalModel();
    randomize(model, 50);
    const runtime = compileConvNet(model);
    const x = features(2, 19, 12, createRng(51));
    const ours = runtime.predictBatch(x, 2);
    expectLogits(ours, tfLogits(model, x, [2, 19, 12]));
    expect(ours[0]! + ours[1]! + ours[2]!).toBeCloseTo(1, 6);
    expect(runtime.macs).toBe(profile(model).total.macs);
    model.dispose();
  });

  it('runs dilated, strided and padded 1 → C convolutions of the spectrogram', () => {
    const convs: SpectralConvArgs[] = [
      { filters: 5, kernelSize: [3, 2], dilation: [2, 3], freqStride: 2, timePadding: 'causal' },
      { filters: 6, kernelSize: [4, 3], dilation: [1, 2], freqPadding: 'valid', timePadding: 'valid' },
      { filters: 3, kernelSize: [2, 4], freqStride: 3 },
    ];
    for (const [k, args] of convs.entries()) {
      const input = tfl.input({ shape: [17, 13] });
      const conv = new SpectralConv({ ...args, useBias: true, seed: 70 + k });
      let y = conv.apply(input) as tfl.SymbolicTensor;
      y = tfl.layers.activation({ activation: 'relu' }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.dense({ units: 3 }).apply(y) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: y });
      randomize(model, 80 + k);
      const x = features(2, 17, 13, createRng(90 + k));
      expectLogits(compileConvNet(model).predictBatch(x, 2), tfLogits(model, x, [2, 17, 13]));
      model.dispose();
    }
  });

  it('runs Dense on spectrogram frames and GlobalAveragePooling1D', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [7, 9], units: 4, activation: 'tanh' }),
        tfl.layers.globalAveragePooling1d({}),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    randomize(model, 60);
    const x = features(1, 7, 9, createRng(61));
    expectLogits(compileConvNet(model).predict(x), tfLogits(model, x, [1, 7, 9]));
    model.dispose();
  });
});

describe('compileConvNet errors', () => {
  const model = (): tfl.LayersModel => bcResNet({ width: 1, numClasses: 4, inputShape: [20, 40] });

  it('rejects bad inputs with stable codes', () => {
    const m = model();
    const runtime = compileConvNet(m);
    const x = new Float32Array(800);
    expect(code(() => runtime.predict([] as unknown as Float32Array))).toBe('INVALID_ARGUMENT');
    expect(code(() => runtime.predict(new Float64Array(800) as unknown as Float32Array))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(code(() => runtime.predict(new Float32Array(799)))).toBe('SHAPE_MISMATCH');
    expect(() => runtime.predict(new Float32Array(799))).toThrow(/\[20, 40\] = 800 values; got 799/);
    expect(code(() => runtime.predict(x, new Float32Array(3)))).toBe('SHAPE_MISMATCH');
    expect(code(() => runtime.predictBatch(new Float32Array(1600), 3))).toBe('SHAPE_MISMATCH');
    expect(code(() => runtime.predictBatch(x, 0))).toBe('INVALID_ARGUMENT');
    expect(code(() => runtime.predictBatch(x, 1.5))).toBe('INVALID_ARGUMENT');
    const bad = x.slice();
    bad[123] = Number.NaN;
    expect(code(() => runtime.predict(bad))).toBe('NON_FINITE_INPUT');
    bad[123] = Number.POSITIVE_INFINITY;
    expect(code(() => runtime.predictBatch(bad, 1))).toBe('NON_FINITE_INPUT');
    m.dispose();
  });

  it('rejects bad models and options', () => {
    const m = model();
    expect(code(() => compileConvNet({} as tfl.LayersModel))).toBe('INVALID_ARGUMENT');
    expect(code(() => compileConvNet(m, { frames: 21 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => compileConvNet(m, 3 as never))).toBe('INVALID_ARGUMENT');
    m.dispose();
  });

  it('names the first layer it cannot compile', () => {
    const conv = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [10, 8, 1], filters: 2, kernelSize: 3, name: 'plain_conv' }),
        tfl.layers.globalAveragePooling2d({}),
      ],
    });
    expect(code(() => compileConvNet(conv))).toBe('MODEL_INVALID');
    expect(() => compileConvNet(conv)).toThrow(/layer "plain_conv" \(Conv2D\).*not supported/);
    const noPool = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [10, 8], units: 2, name: 'frames_only' })],
    });
    expect(() => compileConvNet(noPool)).toThrow(/must output \[batch, classes\]/);
    const flat = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [10, 8], name: 'flat' }), tfl.layers.dense({ units: 2 })],
    });
    expect(() => compileConvNet(flat)).toThrow(/layer "flat" \(Flatten\)/);
    const twoInputs = tfl.input({ shape: [10, 8] });
    const other = tfl.input({ shape: [10, 8] });
    const added = tfl.layers.add().apply([twoInputs, other]) as tfl.SymbolicTensor;
    const multi = tfl.model({ inputs: [twoInputs, other], outputs: added });
    expect(code(() => compileConvNet(multi))).toBe('MODEL_INVALID');
    for (const m of [conv, noPool, flat, multi]) m.dispose();
  });
});
