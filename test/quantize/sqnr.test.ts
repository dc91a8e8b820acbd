import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { modelFromArtifacts } from '../../src/models/index.js';
import {
  calibrateActivations,
  formatQuantReport,
  layerSqnr,
  quantizeWeights,
  simulateInt8,
  type WeightScheme,
} from '../../src/quantize/index.js';
import {
  BC_FRAMES,
  CRNN_INPUT,
  convNet,
  mlp,
  predictData,
  randomInputs,
  smallBcResNet,
  smallCrnn,
} from './helpers.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

function twoLayer(units: number, kernel: number[]): tfl.LayersModel {
  const model = tfl.sequential({
    name: `two_${units}`,
    layers: [tfl.layers.dense({ inputShape: [2], units, name: 'fc' }), tfl.layers.reLU({ name: 'relu' })],
  });
  const w = [tf.tensor2d(kernel, [2, units]), tf.zeros([units])];
  model.setWeights(w);
  tf.dispose(w);
  return model;
}

function sqnr(y: Float32Array, q: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    s += (y[i] as number) ** 2;
    n += ((y[i] as number) - (q[i] as number)) ** 2;
  }
  return 10 * Math.log10(s / n);
}

async function quantized(model: tfl.LayersModel, scheme: WeightScheme): Promise<tfl.LayersModel> {
  return modelFromArtifacts((await quantizeWeights(model, { scheme })).artifacts);
}

describe('layerSqnr', () => {
  it('is +Infinity for identical models, with full top-1 agreement', () => {
    const model = mlp();
    const x = randomInputs(10, [20], 1);
    const count = tf.memory().numTensors;
    const r = layerSqnr(model, model, x, { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(count);
    expect(r.samples).toBe(10);
    expect(r.unmatched).toEqual([]);
    expect(r.layers.map((l) => l.name)).toEqual([model.inputs[0]?.sourceLayer.name, 'fc1', 'fc2', 'out']);
    for (const l of r.layers) {
      expect(l.sqnrDb).toBe(Number.POSITIVE_INFINITY);
      expect(l.maxAbsError).toBe(0);
      expect(l.noisePower).toBe(0);
    }
    expect(r.output).toEqual({ sqnrDb: Number.POSITIVE_INFINITY, maxAbsError: 0, top1Agreement: 1 });
    x.dispose();
    model.dispose();
  });

  it('equals 10·log10(Σy² / Σ(y − ŷ)²) computed by hand, per layer and at the output', () => {
    const a = twoLayer(3, [1, -2, 0.5, 0.25, 1, -1]);
    const b = twoLayer(3, [1.01, -2, 0.5, 0.25, 0.98, -1]);
    const x = randomInputs(25, [2], 2);
    const r = layerSqnr(a, b, x, { batchSize: 10 });
    const probe = (m: tfl.LayersModel) =>
      predictData(tfl.model({ inputs: m.inputs, outputs: m.getLayer('fc').output as tfl.SymbolicTensor }), x);
    const fa = probe(a);
    const fb = probe(b);
    const fc = r.layers.find((l) => l.name === 'fc');
    expect(fc?.sqnrDb).toBeCloseTo(sqnr(fa, fb), 9);
    expect(fc?.elements).toBe(75);
    expect(fc?.signalPower).toBeCloseTo(fa.reduce((s, v) => s + v * v, 0) / 75, 9);
    expect(fc?.inputSqnrDb).toBe(Number.POSITIVE_INFINITY);
    const ya = predictData(a, x);
    const yb = predictData(b, x);
    expect(r.output.sqnrDb).toBeCloseTo(sqnr(ya, yb), 9);
    expect(r.output.maxAbsError).toBeCloseTo(
      Math.max(...ya.map((v, i) => Math.abs(v - (yb[i] as number)))),
      7,
    );
    const relu = r.layers.find((l) => l.name === 'relu');
    expect(relu?.inputSqnrDb).toBe(fc?.sqnrDb);
    expect(relu?.dropDb).toBeCloseTo((fc?.sqnrDb as number) - (relu?.sqnrDb as number), 12);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('is finite and higher for float16 weights than for int8 weights, layer by layer (conv net, BC-ResNet, CRNN)', async () => {
    const cases = [
      { model: convNet(), shape: [6, 8, 1] },
      { model: smallBcResNet(), shape: [BC_FRAMES, 40] },
      { model: smallCrnn(), shape: [...CRNN_INPUT] },
    ];
    for (const { model, shape } of cases) {
      const x = randomInputs(24, shape, 3);
      const half = await quantized(model, 'float16');
      const int8 = await quantized(model, 'int8-per-tensor');
      const rh = layerSqnr(model, half, x);
      const r8 = layerSqnr(model, int8, x);
      const inputName = model.inputs[0]?.sourceLayer.name;
      let compared = 0;
      rh.layers.forEach((l, i) => {
        const l8 = r8.layers[i];
        expect(l8?.name).toBe(l.name);
        // Weight quantization leaves the input (and anything before the first kernel) exact.
        if (l.name === inputName || !Number.isFinite(l8?.sqnrDb as number)) return;
        expect(Number.isFinite(l.sqnrDb)).toBe(true);
        expect(l.sqnrDb).toBeGreaterThan(l8?.sqnrDb as number);
        compared++;
      });
      expect(compared).toBeGreaterThan(2);
      expect(rh.output.sqnrDb).toBeGreaterThan(r8.output.sqnrDb + 10);
      expect(Number.isFinite(r8.output.sqnrDb)).toBe(true);
      tf.dispose([x]);
      for (const m of [model, half, int8]) m.dispose();
    }
  });

  it('lines a simulated model up with the float one through the FakeQuant targets', () => {
    const model = mlp();
    const x = randomInputs(16, [20], 4);
    const sim = simulateInt8(model, calibrateActivations(model, x), { fuse: false });
    const r = layerSqnr(model, sim, x);
    expect(r.unmatched).toEqual([]);
    expect(r.layers.map((l) => l.name)).toEqual([model.inputs[0]?.sourceLayer.name, 'fc1', 'fc2', 'out']);
    for (const l of r.layers) {
      expect(Number.isFinite(l.sqnrDb)).toBe(true);
      expect(l.sqnrDb).toBeGreaterThan(20);
    }
    // The input tap compares x with its 8-bit rounding: error ≤ half a step.
    const input = calibrateActivations(model, x).ranges[0];
    const step = ((input?.max as number) - (input?.min as number)) / 255;
    expect(r.layers[0]?.maxAbsError).toBeLessThanOrEqual(step / 2 + 1e-6);
    const text = formatQuantReport({ sqnr: r, worst: 2, title: 'mlp int8' });
    expect(text).toContain('## mlp int8');
    expect(text).toContain('### Layer SQNR (16 examples)');
    expect(text).toContain('| fc1 | Dense |');
    expect(text).toMatch(/Largest SQNR drops: \w+ \(-?\d+\.\d dB\), \w+ \(-?\d+\.\d dB\)\./);
    expect(text).toContain('top-1 agreement');
    sim.dispose();
    x.dispose();
    model.dispose();
  });

  it('throws KwsError for bad input', () => {
    const a = twoLayer(3, [1, 2, 3, 4, 5, 6]);
    const b = twoLayer(2, [1, 2, 3, 4]);
    const other = mlp();
    const x = randomInputs(4, [2], 5);
    const cases: [() => unknown, string][] = [
      [() => layerSqnr(null as never, a, x), 'INVALID_ARGUMENT'],
      [() => layerSqnr(a, {} as never, x), 'INVALID_ARGUMENT'],
      [() => layerSqnr(a, b, x), 'SHAPE_MISMATCH'],
      [() => layerSqnr(a, a, tf.ones([4, 3])), 'SHAPE_MISMATCH'],
      [() => layerSqnr(a, a, x, { batchSize: 1.5 }), 'INVALID_ARGUMENT'],
      [() => layerSqnr(a, other, x), 'SHAPE_MISMATCH'],
      [() => formatQuantReport({}), 'INVALID_ARGUMENT'],
      [() => formatQuantReport({ sqnr: { layers: 3 } as never }), 'INVALID_ARGUMENT'],
    ];
    for (const [run, code] of cases) {
      try {
        tf.tidy(() => {
          run();
        });
        expect.unreachable(`expected ${code}`);
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        expect((e as KwsError).code).toBe(code);
      }
    }
    x.dispose();
    for (const m of [a, b, other]) m.dispose();
  });
});

describe('formatQuantReport', () => {
  it('renders the weight table with sizes, errors and per-channel SQNR', async () => {
    const model = convNet();
    const q = await quantizeWeights(model, { scheme: 'int8-per-channel', perChannelStorage: 'uint16' });
    const text = formatQuantReport({ weights: q });
    expect(text).toContain('## Quantization report');
    expect(text).toContain('scheme **int8-per-channel**, stored as uint16');
    expect(text).toContain('| conv/kernel | Conv2D | [3, 3, 1, 4] | int8-per-channel | uint16 | 144 → 72 |');
    expect(text).not.toContain('| bn/gamma |');
    expect(formatQuantReport({ weights: q, allWeights: true })).toContain(
      '| bn/gamma | BatchNormalization | [4] | none | float32 | 16 → 16 | 0 | ∞ |',
    );
    model.dispose();
  });
});
