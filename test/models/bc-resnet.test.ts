import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  BC_RESNET_FRAME_LAYER,
  type BcResNetOptions,
  bcResNet,
  bcResNetChannels,
  resolveBcResNetOptions,
} from '../../src/models/bc-resnet.js';
import { setSsnTrainingPath } from '../../src/models/layers/sub-spectral-norm.js';
import { setTapeConvPath } from '../../src/models/layers/tap-conv.js';
import { createRng } from '../../src/random.js';
import { registerWasmTrainingKernels } from '../../src/train/wasm-kernels.js';

function randn(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor(data, shape);
}

function size(weights: tfl.LayerVariable[]): number {
  return weights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d as number), 1), 0);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(async () => {
  await tf.setBackend('cpu');
  expect(tf.memory().numTensors).toBe(before);
});

describe('bcResNet parameter counts', () => {
  // Paper (Kim et al. 2021, Table 2) counts trainable parameters, BN/SSN γ and β included,
  // moving statistics excluded.
  const table: [number, number, number, number][] = [
    // width, paper, trainable (ours), total incl. moving statistics (ours)
    [1, 9_200, 9_232, 11_648],
    [1.5, 17_200, 17_154, 20_778],
    [2, 27_300, 27_284, 32_116],
    [3, 54_200, 54_168, 61_416],
    [6, 188_000, 187_812, 202_308],
    [8, 321_000, 321_068, 340_396],
  ];
  for (const [width, paper, trainable, total] of table) {
    it(`BC-ResNet-${width}: ${trainable} trainable (paper ${paper}, within 3%), ${total} in all`, () => {
      const model = bcResNet({ width });
      expect(size(model.trainableWeights)).toBe(trainable);
      expect(model.countParams()).toBe(total);
      expect(Math.abs(trainable - paper) / paper).toBeLessThan(0.03);
      model.dispose();
    });
  }

  it('scales channels as round(τ·c) and builds for any width', () => {
    expect(bcResNetChannels(1)).toEqual({ stem: 16, stages: [8, 12, 16, 20], classifier: 32 });
    expect(bcResNetChannels(1.5)).toEqual({ stem: 24, stages: [12, 18, 24, 30], classifier: 48 });
    expect(bcResNetChannels(0.1)).toEqual({ stem: 2, stages: [1, 1, 2, 2], classifier: 3 });
    // τ = 0.1 has equal stage-1/2 channels, so the strided first block of stage 2 has no
    // identity term (it would not match in frequency) but still builds and runs.
    for (const width of [0.1, 0.3, 1.25]) {
      const model = bcResNet({ width, inputShape: [20, 40] });
      tf.tidy(() => {
        expect((model.predict(tf.zeros([1, 20, 40])) as tf.Tensor).shape).toEqual([1, 12]);
      });
      model.dispose();
    }
  });
});

describe('bcResNet forward', () => {
  it('maps [1, 101, 40, 1] to [1, 12] logits with the documented intermediate shapes', () => {
    const model = bcResNet({ inputShape: [101, 40, 1] });
    expect(model.inputs[0]?.shape).toEqual([null, 101, 40, 1]);
    const shapeOf = (name: string): unknown => model.getLayer(name).outputShape;
    expect(shapeOf('stem_relu')).toEqual([null, 101, 20, 16]);
    expect(shapeOf('stage1_block2_relu')).toEqual([null, 101, 20, 8]);
    expect(shapeOf('stage2_block1_freq_conv')).toEqual([null, 101, 10, 12]);
    expect(shapeOf('stage2_block1_freq_mean')).toEqual([null, 101, 1, 12]);
    expect(shapeOf('stage3_block4_relu')).toEqual([null, 101, 5, 16]);
    expect(shapeOf('stage4_block4_relu')).toEqual([null, 101, 5, 20]);
    expect(shapeOf('classifier_dw_conv')).toEqual([null, 101, 1, 20]);
    expect(shapeOf(BC_RESNET_FRAME_LAYER)).toEqual([null, 101, 1, 32]);
    expect(model.outputs[0]?.shape).toEqual([null, 12]);
    // Dilation per stage, as in the paper.
    const dilation = (name: string): unknown =>
      (model.getLayer(name).getConfig() as { dilation: number }).dilation;
    expect([1, 2, 3, 4].map((s) => dilation(`stage${s}_block1_time_conv`))).toEqual([1, 2, 4, 8]);
    tf.tidy(() => {
      const y = model.predict(randn([1, 101, 40, 1], 1)) as tf.Tensor;
      expect(y.shape).toEqual([1, 12]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    });
    model.dispose();
  });

  it('takes [batch, time, freq] spectrograms of other sizes, including any length when time is null', () => {
    const wide = bcResNet({ inputShape: [151, 80], numClasses: 35, width: 1.5 });
    expect(wide.getLayer('classifier_dw_conv').outputShape).toEqual([null, 151, 6, 30]);
    tf.tidy(() => {
      expect((wide.predict(randn([2, 151, 80], 2)) as tf.Tensor).shape).toEqual([2, 35]);
    });
    wide.dispose();
    const anyLength = bcResNet({ inputShape: [null, 40] });
    expect(anyLength.inputs[0]?.shape).toEqual([null, null, 40]);
    tf.tidy(() => {
      for (const frames of [1, 37, 101]) {
        expect((anyLength.predict(randn([1, frames, 40], frames)) as tf.Tensor).shape).toEqual([1, 12]);
      }
    });
    anyLength.dispose();
  });

  it('is reproducible from its seed', () => {
    const a = bcResNet({ seed: 3 });
    const b = bcResNet({ seed: 3 });
    const c = bcResNet({ seed: 4 });
    const flat = (m: tfl.LayersModel): number[] => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
    expect(flat(a)).toEqual(flat(b));
    expect(maxAbsDiff(flat(a), flat(c))).toBeGreaterThan(0.1);
    for (const m of [a, b, c]) m.dispose();
  });

  it('gives the same outputs through the fused inference path and the differentiable tape path', () => {
    const model = bcResNet({ causal: true, inputShape: [40, 40] });
    tf.tidy(() => {
      const x = randn([2, 40, 40], 5);
      model.apply(x, { training: true }); // non-trivial moving statistics
      const fast = (model.apply(x) as tf.Tensor).dataSync();
      const taped = tf.variableGrads(
        () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, randn([2, 12], 6))) as tf.Scalar,
      );
      const slowOut = tf.tidy(() => {
        let out: Float32Array = new Float32Array();
        tf.grad((v: tf.Tensor) => {
          const y = model.apply(v) as tf.Tensor;
          out = y.dataSync() as Float32Array;
          return tf.sum(y);
        })(x);
        return out;
      });
      expect(Object.keys(taped.grads).length).toBe(model.trainableWeights.length);
      const scale = Math.max(...Array.from(fast).map(Math.abs));
      expect(maxAbsDiff(fast, slowOut)).toBeLessThan(1e-5 * Math.max(1, scale));
    });
    model.dispose();
  });
});

describe('bcResNet causal mode', () => {
  const frameOutputs = (model: tfl.LayersModel, x: tf.Tensor): Float32Array => {
    const frames = tfl.model({ inputs: model.inputs, outputs: model.getLayer(BC_RESNET_FRAME_LAYER).output });
    return tf.tidy(() => (frames.predict(x) as tf.Tensor).dataSync() as Float32Array);
  };

  it('frame t of the time-resolved features does not depend on input frames after t', () => {
    const t0 = 25;
    for (const causal of [true, false]) {
      const model = bcResNet({ causal, inputShape: [40, 40], dropout: 0, seed: 1 });
      const x = randn([1, 40, 40], 8);
      const perturbed = tf.tidy(() =>
        tf.concat(
          [tf.slice(x, [0, 0, 0], [1, t0, 40]), tf.add(tf.slice(x, [0, t0, 0], [1, 40 - t0, 40]), 3)],
          1,
        ),
      );
      tf.tidy(() => {
        model.apply(randn([4, 40, 40], 9), { training: true });
      });
      const a = frameOutputs(model, x);
      const b = frameOutputs(model, perturbed);
      const perFrame = 32;
      const early = maxAbsDiff(a.subarray(0, t0 * perFrame), b.subarray(0, t0 * perFrame));
      const late = maxAbsDiff(a.subarray(t0 * perFrame), b.subarray(t0 * perFrame));
      if (causal) expect(early).toBeLessThan(1e-6);
      else expect(early).toBeGreaterThan(1e-3); // the 'same' model looks ahead
      expect(late).toBeGreaterThan(1e-3);
      for (const t of [x, perturbed]) t.dispose();
      model.dispose();
    }
  });

  it('has the documented receptive field: frame t sees input frames t − 116 … t', () => {
    const model = bcResNet({ causal: true, inputShape: [120, 40], seed: 2 });
    expect(resolveBcResNetOptions({ causal: true }).receptiveField).toEqual({ past: 116, future: 0 });
    expect(resolveBcResNetOptions().receptiveField).toEqual({ past: 58, future: 58 });
    const x = randn([1, 120, 40], 14);
    const bumped = tf.tidy(() =>
      tf.concat([tf.add(tf.slice(x, [0, 0, 0], [1, 1, 40]), 50), tf.slice(x, [0, 1, 0], [1, 119, 40])], 1),
    );
    const a = frameOutputs(model, x);
    const b = frameOutputs(model, bumped);
    const frameDiff = (t: number): number =>
      maxAbsDiff(a.subarray(t * 32, (t + 1) * 32), b.subarray(t * 32, (t + 1) * 32));
    // The influence at the edge of the field is small but not zero; beyond it, bit-identical.
    expect(frameDiff(116)).toBeGreaterThan(0);
    for (const t of [117, 118, 119]) expect(frameDiff(t)).toBe(0);
    for (const t of [x, bumped]) t.dispose();
    model.dispose();
  });
});

describe('bcResNet serialisation', () => {
  it('round-trips through toJSON / modelFromJSON and through save / loadLayersModel', async () => {
    const model = bcResNet({ width: 1.5, causal: true, subBands: 5, inputShape: [30, 40] });
    tf.tidy(() => {
      model.apply(randn([3, 30, 40], 10), { training: true });
    });
    const x = randn([2, 30, 40], 11);
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());

    const topology = JSON.parse(model.toJSON() as string);
    expect(JSON.stringify(topology)).toContain('"class_name":"SubSpectralNorm"');
    const copy = await tfl.models.modelFromJSON({ modelTopology: topology });
    copy.setWeights(model.getWeights());
    const fromJson = tf.tidy(() => (copy.predict(x) as tf.Tensor).dataSync());
    expect(maxAbsDiff(fromJson, expected)).toBe(0);
    expect((copy.getLayer('stage1_block1_time_conv').getConfig() as { causal: boolean }).causal).toBe(true);

    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts));
    const fromSave = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync());
    expect(maxAbsDiff(fromSave, expected)).toBe(0);
    for (const m of [model, copy, loaded]) m.dispose();
    x.dispose();
  });
});

describe('bcResNet training', () => {
  const gradsOn = async (backend: string): Promise<{ loss: number; grads: Float32Array[] }> => {
    expect(await tf.setBackend(backend)).toBe(true);
    const model = bcResNet({ inputShape: [24, 40], dropout: 0, seed: 2 });
    const out = tf.tidy(() => {
      const x = randn([2, 24, 40], 12);
      const labels = tf.oneHot(tf.tensor1d([1, 7], 'int32'), 12);
      const names = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      );
      return {
        loss: value.dataSync()[0] as number,
        grads: names.map((n) => (grads[n] as tf.Tensor).dataSync() as Float32Array),
      };
    });
    model.dispose();
    return out;
  };

  it('computes the same gradients on wasm as on cpu', async () => {
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    expect(Number.isFinite(cpu.loss)).toBe(true);
    expect(Math.abs(cpu.loss - wasm.loss)).toBeLessThan(1e-5);
    expect(wasm.grads.length).toBe(cpu.grads.length);
    cpu.grads.forEach((g, i) => {
      const scale = Math.max(1e-3, ...Array.from(g).map(Math.abs));
      expect(maxAbsDiff(g, wasm.grads[i] as Float32Array)).toBeLessThan(1e-3 * scale);
    });
  });

  it('the pre-existing tap-sum / op-by-op path gives the same gradients as the default path (cpu)', async () => {
    const fast = await gradsOn('cpu');
    const previousConv = setTapeConvPath('tap');
    const previousSsn = setSsnTrainingPath('written-out');
    try {
      const slow = await gradsOn('cpu');
      expect(Math.abs(fast.loss - slow.loss)).toBeLessThan(1e-5);
      fast.grads.forEach((g, i) => {
        // float32 rounding of near-zero gradients: relative to the weight's largest, floored at 1e-2.
        const scale = Math.max(1e-2, ...Array.from(g).map(Math.abs));
        expect(maxAbsDiff(g, slow.grads[i] as Float32Array)).toBeLessThan(1e-4 * scale);
      });
    } finally {
      setTapeConvPath(previousConv);
      setSsnTrainingPath(previousSsn);
    }
  });

  it('with the wasm training kernels registered (core-conv path), wasm gradients equal cpu', async () => {
    registerWasmTrainingKernels();
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    expect(Math.abs(cpu.loss - wasm.loss)).toBeLessThan(1e-5);
    cpu.grads.forEach((g, i) => {
      const scale = Math.max(1e-2, ...Array.from(g).map(Math.abs));
      expect(maxAbsDiff(g, wasm.grads[i] as Float32Array)).toBeLessThan(1e-4 * scale);
    });
  });

  it('takes optimizer steps on wasm that lower the loss on a fixed batch', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const model = bcResNet({ inputShape: [16, 40], seed: 4 });
    const x = randn([4, 16, 40], 13);
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 5, 11], 'int32'), 12));
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const loss = optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      );
      losses.push(loss?.dataSync()[0] as number);
      loss?.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[5] as number).toBeLessThan(losses[0] as number);
    optimizer.dispose();
    model.dispose();
    x.dispose();
    labels.dispose();
  });
});

describe('bcResNet options', () => {
  const bad: [string, unknown][] = [
    ['width 0', { width: 0 }],
    ['width -1', { width: -1 }],
    ['width NaN', { width: Number.NaN }],
    ['width string', { width: '1' }],
    ['numClasses 1', { numClasses: 1 }],
    ['numClasses 2.5', { numClasses: 2.5 }],
    ['inputShape of 1', { inputShape: [101] }],
    ['inputShape of 4', { inputShape: [101, 40, 1, 1] }],
    ['inputShape with 2 channels', { inputShape: [101, 40, 2] }],
    ['inputShape with time 0', { inputShape: [0, 40] }],
    ['inputShape with freq null', { inputShape: [101, null] }],
    ['inputShape not an array', { inputShape: '101x40' }],
    ['too few bins for the classifier', { inputShape: [101, 30] }],
    ['subBands not dividing 20, 10, 5', { subBands: 3 }],
    ['subBands 0', { subBands: 0 }],
    ['dropout 1', { dropout: 1 }],
    ['dropout -0.1', { dropout: -0.1 }],
    ['causal not boolean', { causal: 'yes' }],
    ['seed NaN', { seed: Number.NaN }],
    ['empty name', { name: '' }],
    ['misspelt option', { widht: 2 }],
    ['options not an object', [1]],
  ];
  for (const [what, options] of bad) {
    it(`rejects ${what} with KwsError INVALID_ARGUMENT`, () => {
      try {
        bcResNet(options as BcResNetOptions);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        expect((e as KwsError).code).toBe('INVALID_ARGUMENT');
      }
    });
  }

  it('resolves defaults', () => {
    expect(resolveBcResNetOptions()).toMatchObject({
      width: 1,
      numClasses: 12,
      inputShape: [101, 40, 1],
      spectrogramInput: true,
      subBands: 5,
      dropout: 0.1,
      causal: false,
      seed: 0,
      freqSizes: [20, 10, 5],
    });
    expect(resolveBcResNetOptions({ subBands: 2, inputShape: [50, 80, 1] }).freqSizes).toEqual([40, 20, 10]);
  });
});
