import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { modelFromArtifacts, modelToArtifacts } from '../../src/models/index.js';
import { exportQuantized } from '../../src/quantize/export.js';
import { activationGrid, FakeQuant } from '../../src/quantize/fake-quant.js';
import { MovingFakeQuant, registerQatLayers } from '../../src/quantize/moving-fake-quant.js';
import { convertQat, prepareQat } from '../../src/quantize/qat.js';
import { fakeQuantizeSte } from '../../src/quantize/ste.js';
import { channelLayout, quantizeInt8PerChannel } from '../../src/quantize/weight-quantizers.js';
import { train } from '../../src/train/index.js';
import { bandSplit, convModel, weightValues } from '../train/synthetic.js';
import { predictData, randomInputs, readModelFolder, smallCrnn, spectra } from './helpers.js';

let dir = '';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'kws-qat-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectKwsError(fn: () => unknown, code: string, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(KwsError);
  expect((thrown as KwsError).code).toBe(code);
  expect((thrown as KwsError).message).toMatch(pattern);
}

describe('fakeQuantizeSte', () => {
  it('rounds like FakeQuant and passes the gradient inside the range only', () => {
    const before = tf.memory().numTensors;
    // [−1, 1] with 2 bits: 3 steps of 2/3, zero point round(1.5) = 2 → grid −4/3 … 2/3.
    const grid = activationGrid(-1, 1, 2);
    expect(grid.lo).toBeCloseTo(-4 / 3, 12);
    expect(grid.hi).toBeCloseTo(2 / 3, 12);
    const x = tf.tensor([-2, -1, -0.2, 0.3, 0.6, 0.7, 5]);
    const fq = new FakeQuant({ min: -1, max: 1, bits: 2 });
    const expected = tf.tidy(() => (fq.apply(x) as tf.Tensor).dataSync());
    const y = fakeQuantizeSte(x, grid);
    expect(Array.from(y.dataSync())).toEqual(Array.from(expected));
    const dy = tf.tensor([1, 2, 3, 4, 5, 6, 7]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fakeQuantizeSte(v, grid), dy)))(x);
    // −2 < lo and 0.7, 5 > hi are clipped: gradient 0 there, dy elsewhere.
    expect(Array.from(g.dataSync())).toEqual([0, 2, 3, 4, 5, 0, 0]);
    tf.dispose([x, y, dy, g]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('MovingFakeQuant', () => {
  it('sets its range from the first training batch, then moves it by the momentum, frozen in inference', () => {
    registerQatLayers();
    const input = tfl.input({ shape: [3] });
    const layer = new MovingFakeQuant({ momentum: 0.75, name: 'fq' });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.apply(tf.tensor([[-1, 0.5, 2]]), { training: true });
      expect(layer.range()).toEqual([-1, 2]);
      model.apply(tf.tensor([[-3, 0, 6]]), { training: true });
      // 0.75·(−1) + 0.25·(−3) = −1.5; 0.75·2 + 0.25·6 = 3.
      expect(layer.range()).toEqual([-1.5, 3]);
      const y = model.predict(tf.tensor([[-10, 0.01, 10]])) as tf.Tensor;
      expect(layer.range()).toEqual([-1.5, 3]);
      const grid = activationGrid(-1.5, 3, 8);
      const v = y.dataSync();
      expect(v[0]).toBeCloseTo(grid.lo, 6);
      expect(v[2]).toBeCloseTo(grid.hi, 6);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('round-trips through model artifacts with its range', async () => {
    registerQatLayers();
    const input = tfl.input({ shape: [2] });
    const layer = new MovingFakeQuant({ bits: 6, name: 'fq' });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    layer.setRange(-0.5, 1.25);
    const loaded = await modelFromArtifacts(await modelToArtifacts(model));
    const copy = loaded.getLayer('fq') as MovingFakeQuant;
    expect(copy).toBeInstanceOf(MovingFakeQuant);
    expect(copy.bits).toBe(6);
    expect(copy.range()).toEqual([-0.5, 1.25]);
    model.dispose();
    loaded.dispose();
  });
});

describe('prepareQat', () => {
  it('computes the gradient at the int8 weights and hands it to the float masters unchanged (STE)', () => {
    const model = convModel(6, 9, 3);
    const qat = prepareQat(model, { activations: false });
    expect(qat.folded.map((f) => f.into)).toEqual([model.layers[1]?.name]);
    expect(qat.weights.map((w) => w.shape.length)).toEqual([4, 2]);
    const x = randomInputs(4, [6, 9, 1], 1);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    const variables = qat.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const masters = variables.map((v) => (v.dataSync() as Float32Array).slice());
    const loss = () =>
      tf.losses.softmaxCrossEntropy(labels, qat.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const before = tf.memory().numTensors;

    const state = qat.hooks.prepareBatch?.({} as never) as NonNullable<
      ReturnType<NonNullable<typeof qat.hooks.prepareBatch>>
    >;
    const qatGrads = tf.variableGrads(loss, variables);
    qat.hooks.disposeBatch?.(state);
    // Masters are restored bit for bit.
    variables.forEach((v, i) => {
      expect(Array.from(v.dataSync())).toEqual(Array.from(masters[i] as Float32Array));
    });

    // Reference: a float model holding the per-channel int8 values, differentiated directly.
    const quantized = qat.model.trainableWeights.map((w, i) => {
      const q = qat.weights.find((e) => e.name === w.originalName);
      const values = masters[i] as Float32Array;
      if (q === undefined) return tf.tensor(values, w.shape as number[]);
      const layout = channelLayout(q.className, w.originalName.split('/').pop() as string, q.shape);
      return tf.tensor(quantizeInt8PerChannel(values, layout).dequantized, w.shape as number[]);
    });
    tf.tidy(() => {
      variables.forEach((v, i) => {
        v.assign(quantized[i] as tf.Tensor);
      });
    });
    const reference = tf.variableGrads(loss, variables);
    for (const name of Object.keys(reference.grads)) {
      expect(Array.from((qatGrads.grads[name] as tf.Tensor).dataSync())).toEqual(
        Array.from((reference.grads[name] as tf.Tensor).dataSync()),
      );
    }
    // The quantized weights differ from the masters (so the test is not vacuous).
    expect(Array.from(quantized[0]?.dataSync() ?? [])).not.toEqual(Array.from(masters[0] as Float32Array));
    tf.dispose([
      qatGrads.value,
      reference.value,
      ...Object.values(qatGrads.grads),
      ...Object.values(reference.grads),
    ]);
    tf.dispose(quantized);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels]);
    qat.dispose();
    model.dispose();
  });

  it('fine-tunes with train(): masters change, reproducibly, and stay float', async () => {
    const data = bandSplit(12, 5, 6, 9);
    const run = async (): Promise<{ weights: Float32Array[]; losses: number[] }> => {
      const model = convModel(6, 9, 3);
      const qat = prepareQat(model);
      const start = weightValues(qat.model);
      const losses: number[] = [];
      await train(
        qat.model,
        {
          train: data,
          epochs: 1,
          batchSize: 4,
          learningRate: 0.05,
          schedule: { kind: 'constant', warmupEpochs: 0 },
          seed: 9,
          logger: 'silent',
          callbacks: { onBatchEnd: (s) => void losses.push(s.loss) },
        },
        qat.hooks,
      );
      const weights = weightValues(qat.model);
      // Every trainable weight moved.
      qat.model.weights.forEach((w, i) => {
        if (w.trainable)
          expect(Array.from(weights[i] as Float32Array)).not.toEqual(Array.from(start[i] as Float32Array));
      });
      // The kernels hold float masters, not int8 values.
      const kernel = qat.weights[0];
      const index = qat.model.weights.findIndex((w) => w.originalName === kernel?.name);
      const values = weights[index] as Float32Array;
      const layout = channelLayout(kernel?.className ?? '', 'kernel', kernel?.shape ?? []);
      expect(Array.from(quantizeInt8PerChannel(values, layout).dequantized)).not.toEqual(Array.from(values));
      qat.dispose();
      model.dispose();
      return { weights, losses };
    };
    const before = tf.memory().numTensors;
    const a = await run();
    const b = await run();
    expect(a.losses.length).toBe(3);
    expect(b.losses).toEqual(a.losses);
    a.weights.forEach((w, i) => {
      expect(Array.from(b.weights[i] as Float32Array)).toEqual(Array.from(w));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates the quantized weights inside train() (aroundValidation)', async () => {
    const data = bandSplit(9, 6, 6, 9);
    const model = convModel(6, 9, 3);
    const qat = prepareQat(model);
    let validated = 0;
    const hooks = {
      ...qat.hooks,
      aroundValidation: <T>(validate: () => T): T => {
        validated++;
        return qat.hooks.aroundValidation?.(validate) as T;
      },
    };
    const result = await train(
      qat.model,
      { train: data, validation: data, epochs: 1, batchSize: 9, logger: 'silent' },
      hooks,
    );
    expect(validated).toBe(1);
    const accuracy = qat.withQuantizedWeights(() => {
      const p = tf.tidy(() =>
        tf.argMax(qat.model.predict(tf.tensor(data.features, [9, 6, 9, 1])) as tf.Tensor, 1).dataSync(),
      );
      return Array.from(p).filter((c, i) => c === data.labels[i]).length / 9;
    });
    expect(result.history[0]?.validationAccuracy).toBeCloseTo(accuracy, 10);
    qat.dispose();
    model.dispose();
  });

  it('handles a CRNN (GRU kernel and recurrent kernel, attention) and calibrates ranges from samples', () => {
    const model = smallCrnn();
    const x = spectra(3, [40, 20], 2);
    const qat = prepareQat(model, { samples: x });
    const names = qat.weights.map((w) => w.name);
    expect(names).toContain('crnn_gru_1/kernel');
    expect(names).toContain('crnn_gru_1/recurrent_kernel');
    expect(names).toContain('crnn_conv/kernel');
    expect(names.some((n) => n.startsWith('crnn_attention/'))).toBe(true);
    const fq = qat.model.layers.filter((l) => l instanceof MovingFakeQuant) as MovingFakeQuant[];
    expect(fq.length).toBeGreaterThan(4);
    for (const layer of fq) {
      const [min, max] = layer.range();
      expect(max - min).toBeGreaterThan(0);
    }
    qat.dispose();
    x.dispose();
    model.dispose();
  });
});

describe('convertQat', () => {
  it('gives a model on the int8 lattice that predicts as the QAT model, and exports so tfjs loads it', async () => {
    const model = convModel(6, 9, 3);
    const x = randomInputs(8, [6, 9, 1], 4);
    const qat = prepareQat(model, { samples: x });
    const before = tf.memory().numTensors;
    const int8 = convertQat(qat);
    const qatPredictions = qat.withQuantizedWeights(() => predictData(qat.model, x));
    const converted = predictData(int8, x);
    expect(Array.from(converted)).toEqual(Array.from(qatPredictions));
    // Quantized weights are per-channel int8 values: quantizing them again changes nothing.
    for (const w of qat.weights) {
      const v = int8.weights
        .find((t) => t.originalName === w.name)
        ?.read()
        .dataSync() as Float32Array;
      const again = quantizeInt8PerChannel(v, channelLayout(w.className, 'kernel', w.shape)).dequantized;
      for (let i = 0; i < v.length; i++) expect(again[i]).toBeCloseTo(v[i] as number, 6);
    }
    expect(int8.layers.filter((l) => l instanceof FakeQuant).length).toBeGreaterThan(0);

    const out = await exportQuantized(int8, join(dir, 'qat'), {
      scheme: 'int8-per-channel',
      perChannelStorage: 'uint16',
    });
    expect(out.sizeRatio).toBeGreaterThan(1.2);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await readModelFolder(out.dir)));
    const exported = predictData(loaded, x);
    let diff = 0;
    let top = 0;
    for (let i = 0; i < exported.length; i++) {
      diff = Math.max(diff, Math.abs((exported[i] as number) - (qatPredictions[i] as number)));
      top = Math.max(top, Math.abs(qatPredictions[i] as number));
    }
    // The uint16 file moves channel scales to a common lattice (< 1 % of a step change in the
    // largest channels); measured 0.4 % of the largest logit here.
    expect(diff / top).toBeLessThan(0.02);
    loaded.dispose();
    int8.dispose();
    expect(tf.memory().numTensors).toBe(before);
    qat.dispose();
    x.dispose();
    model.dispose();
  });

  it('drops the activation quantizers on request', () => {
    const model = convModel(6, 9, 3);
    const qat = prepareQat(model);
    const plain = convertQat(qat, { activations: false });
    expect(plain.layers.some((l) => l instanceof FakeQuant || l instanceof MovingFakeQuant)).toBe(false);
    plain.dispose();
    qat.dispose();
    model.dispose();
  });
});

describe('bad input', () => {
  it('names an unsupported layer class, bad bits and a non-handle', () => {
    const input = tfl.input({ shape: [5, 3] });
    const lstm = tfl.layers
      .lstm({ units: 2, recurrentInitializer: 'glorotUniform', name: 'my_lstm' })
      .apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: lstm });
    expectKwsError(() => prepareQat(model), 'MODEL_INVALID', /my_lstm \(LSTM\)/);
    const allowed = prepareQat(model, { keepFloat: (name) => name === 'my_lstm' });
    expect(allowed.weights).toEqual([]);
    allowed.dispose();
    model.dispose();

    const conv = convModel(6, 9, 3);
    expectKwsError(() => prepareQat(conv, { activationBits: 1 }), 'INVALID_ARGUMENT', /activationBits/);
    expectKwsError(() => prepareQat(conv, { activationBits: 17 }), 'INVALID_ARGUMENT', /activationBits/);
    expectKwsError(() => prepareQat(conv, { momentum: 1 }), 'INVALID_ARGUMENT', /momentum/);
    expectKwsError(
      () => prepareQat(conv, { bits: 8 } as never),
      'INVALID_ARGUMENT',
      /unknown prepareQat option "bits"/,
    );
    expectKwsError(() => prepareQat({} as tfl.LayersModel), 'INVALID_ARGUMENT', /LayersModel/);
    expectKwsError(() => convertQat(conv as never), 'INVALID_ARGUMENT', /prepareQat/);
    expectKwsError(() => new MovingFakeQuant({ bits: 20 }), 'INVALID_ARGUMENT', /bits/);
    conv.dispose();
  });
});
