import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { modelFromArtifacts, modelToArtifacts } from '../../src/models/index.js';
import {
  activationGrid,
  calibrateActivations,
  FakeQuant,
  layerSqnr,
  simulateInt8,
} from '../../src/quantize/index.js';
import { encodeInt8PerTensor } from '../../src/quantize/weight-quantizers.js';
import {
  BC_FRAMES,
  CRNN_INPUT,
  mlp,
  normals,
  predictData,
  randomInputs,
  smallBcResNet,
  smallCrnn,
  spectra,
} from './helpers.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** Dense 3 → 2 (known weights) then ReLU. */
function tinyModel(): tfl.LayersModel {
  const model = tfl.sequential({
    name: 'tiny',
    layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'fc' }), tfl.layers.reLU({ name: 'relu' })],
  });
  const w = [tf.tensor2d([0.5, -1, 2, 0.25, -0.75, 1.5], [3, 2]), tf.tensor1d([0.1, -0.2])];
  model.setWeights(w);
  tf.dispose(w);
  return model;
}

/** Values of one layer's output over `x`, as a plain array. */
function layerValues(model: tfl.LayersModel, layer: string, x: tf.Tensor): Float32Array {
  const probe = tfl.model({
    inputs: model.inputs,
    outputs: model.getLayer(layer).output as tfl.SymbolicTensor,
  });
  return predictData(probe, x);
}

/** JS fake quantization with the FakeQuant formula (ties do not occur with these data). */
function fakeQuant(v: number, min: number, max: number): number {
  const { scale, lo, hi } = activationGrid(min, max);
  return Math.round((Math.min(Math.max(v, lo), hi) - lo) / scale) * scale + lo;
}

describe('calibrateActivations', () => {
  it('minmax: the observed minimum and maximum of the input and every layer output, widened to contain 0', () => {
    const model = tinyModel();
    const data = normals(60, 1);
    const x = tf.tensor2d(data, [20, 3]);
    const count = tf.memory().numTensors;
    const ranges = calibrateActivations(model, x, { batchSize: 7 });
    expect(tf.memory().numTensors).toBe(count);
    expect(ranges.method).toBe('minmax');
    expect(ranges.percentile).toBeNull();
    expect(ranges.samples).toBe(20);
    expect(ranges.ranges.map((r) => r.name)).toEqual([model.inputs[0]?.sourceLayer.name, 'fc', 'relu']);
    const fc = new Float32Array(40);
    for (let n = 0; n < 20; n++) {
      for (let j = 0; j < 2; j++) {
        const W = [0.5, -1, 2, 0.25, -0.75, 1.5];
        fc[n * 2 + j] = Math.fround(
          (data[n * 3] as number) * (W[j] as number) +
            (data[n * 3 + 1] as number) * (W[2 + j] as number) +
            (data[n * 3 + 2] as number) * (W[4 + j] as number) +
            [0.1, -0.2][j]!,
        );
      }
    }
    const expected = [data, fc, fc.map((v) => Math.max(v, 0))];
    ranges.ranges.forEach((r, i) => {
      const values = expected[i] as Float32Array;
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      expect(r.observedMin).toBeCloseTo(lo, 5);
      expect(r.observedMax).toBeCloseTo(hi, 5);
      expect(r.min).toBe(Math.min(r.observedMin, 0));
      expect(r.max).toBe(Math.max(r.observedMax, 0));
      expect(r.count).toBe(values.length);
      for (const v of values) {
        expect(v).toBeGreaterThanOrEqual(r.min - 1e-6);
        expect(v).toBeLessThanOrEqual(r.max + 1e-6);
      }
    });
    expect(ranges.ranges[2]?.min).toBe(0);
    x.dispose();
    model.dispose();
  });

  it('percentile: exactly the requested order statistics of each tap', () => {
    const model = mlp();
    const x = randomInputs(150, [20], 2);
    const p = 99;
    const ranges = calibrateActivations(model, x, { method: 'percentile', percentile: p, batchSize: 64 });
    expect(ranges.percentile).toBe(p);
    const inputName = model.inputs[0]?.sourceLayer.name as string;
    for (const name of [inputName, 'fc1', 'out']) {
      const values = name === inputName ? (x.dataSync() as Float32Array) : layerValues(model, name, x);
      const sorted = Float64Array.from(values).sort();
      const n = sorted.length;
      const r = Math.ceil((p / 100) * n);
      const range = ranges.ranges.find((e) => e.name === name);
      expect(range?.count).toBe(n);
      expect(range?.max).toBe(Math.max(sorted[r - 1] as number, 0));
      expect(range?.min).toBe(Math.min(sorted[n - r] as number, 0));
      expect(range?.observedMax).toBe(sorted[n - 1]);
      // At least p % of the values lie at or below max (and at or above min).
      const below = values.filter((v) => v <= (range?.max as number)).length;
      const above = values.filter((v) => v >= (range?.min as number)).length;
      expect(below / n).toBeGreaterThanOrEqual(p / 100);
      expect(above / n).toBeGreaterThanOrEqual(p / 100);
      if (name !== 'fc1') expect(range?.max).toBeLessThan(range?.observedMax as number);
    }
    x.dispose();
    model.dispose();
  });

  it('throws KwsError for bad input', () => {
    const model = tinyModel();
    const x = tf.ones([4, 3]);
    const cases: [() => unknown, string][] = [
      [() => calibrateActivations(null as never, x), 'INVALID_ARGUMENT'],
      [() => calibrateActivations(model, [1, 2, 3] as never), 'INVALID_ARGUMENT'],
      [() => calibrateActivations(model, tf.ones([4, 3], 'int32')), 'INVALID_ARGUMENT'],
      [() => calibrateActivations(model, tf.ones([4, 4])), 'SHAPE_MISMATCH'],
      [() => calibrateActivations(model, tf.ones([4, 3, 1])), 'SHAPE_MISMATCH'],
      [() => calibrateActivations(model, tf.zeros([0, 3])), 'EMPTY_INPUT'],
      [() => calibrateActivations(model, tf.tensor2d([1, Number.NaN, 3], [1, 3])), 'NON_FINITE_INPUT'],
      [() => calibrateActivations(model, x, { method: 'kl' as never }), 'INVALID_ARGUMENT'],
      [() => calibrateActivations(model, x, { method: 'percentile', percentile: 50 }), 'INVALID_ARGUMENT'],
      [() => calibrateActivations(model, x, { batchSize: 0 }), 'INVALID_ARGUMENT'],
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
    model.dispose();
  });
});

describe('simulateInt8', () => {
  it('computes FakeQuant(relu(dense(FakeQuant(x)))) with int8 weights, fusing dense + relu, leaving the float model alone', () => {
    const model = tinyModel();
    const x = randomInputs(30, [3], 3);
    const ranges = calibrateActivations(model, x);
    const floatBefore = predictData(model, x);
    const count = tf.memory().numTensors;
    const sim = simulateInt8(model, ranges, { weights: 'per-tensor' });
    const unfused = simulateInt8(model, ranges, { weights: 'per-tensor', fuse: false });
    const targets = (m: tfl.LayersModel): string[] =>
      m.layers.filter((l) => l instanceof FakeQuant).map((l) => (l as FakeQuant).target);
    const inputName = ranges.ranges[0]?.name as string;
    // The dense output feeds only a ReLU, which a runtime fuses: no grid between them.
    expect(targets(sim)).toEqual([inputName, 'relu']);
    expect(targets(unfused)).toEqual([inputName, 'fc', 'relu']);
    // Kernel on the symmetric int8 grid, bias float32.
    const kernel = encodeInt8PerTensor(new Float32Array([0.5, -1, 2, 0.25, -0.75, 1.5])).dequantized;
    expect(Array.from(sim.getLayer('fc').getWeights()[0]?.dataSync() ?? [])).toEqual(Array.from(kernel));
    expect(Array.from(sim.getLayer('fc').getWeights()[1]?.dataSync() ?? [])).toEqual([
      Math.fround(0.1),
      Math.fround(-0.2),
    ]);
    const range = (name: string) => ranges.ranges.find((r) => r.name === name) as (typeof ranges.ranges)[0];
    const [rin, rfc, rrelu] = [range(inputName), range('fc'), range('relu')];
    const xs = x.dataSync();
    const got = predictData(sim, x);
    const gotUnfused = predictData(unfused, x);
    for (let n = 0; n < 30; n++) {
      for (let j = 0; j < 2; j++) {
        let acc = [0.1, -0.2][j] as number;
        for (let k = 0; k < 3; k++) {
          acc += fakeQuant(xs[n * 3 + k] as number, rin.min, rin.max) * (kernel[k * 2 + j] as number);
        }
        expect(got[n * 2 + j]).toBeCloseTo(fakeQuant(Math.max(acc, 0), rrelu.min, rrelu.max), 5);
        const fc = fakeQuant(acc, rfc.min, rfc.max);
        expect(gotUnfused[n * 2 + j]).toBeCloseTo(fakeQuant(Math.max(fc, 0), rrelu.min, rrelu.max), 5);
      }
    }
    expect(Array.from(predictData(model, x))).toEqual(Array.from(floatBefore));
    sim.dispose();
    unfused.dispose();
    expect(tf.memory().numTensors).toBe(count);
    x.dispose();
    model.dispose();
  });

  it('keepFloat for every layer and the input gives the float model back; FakeQuant survives save/load', async () => {
    const model = mlp();
    const x = randomInputs(20, [20], 4);
    const ranges = calibrateActivations(model, x);
    const identity = simulateInt8(model, ranges, { keepFloat: () => true });
    expect(Array.from(predictData(identity, x))).toEqual(Array.from(predictData(model, x)));
    const sim = simulateInt8(model, ranges);
    const reloaded = await modelFromArtifacts(await modelToArtifacts(sim));
    expect(Array.from(predictData(reloaded, x))).toEqual(Array.from(predictData(sim, x)));
    for (const m of [identity, sim, reloaded]) m.dispose();
    x.dispose();
    model.dispose();
  });

  it('simulated int8 BC-ResNet and CRNN agree with the float models (top-1 ≥ 90 % on random inputs)', () => {
    const bcCalib = spectra(96, [BC_FRAMES, 40], 5);
    const cases = [
      {
        name: 'bc-resnet τ=0.25',
        model: smallBcResNet(bcCalib),
        shape: [BC_FRAMES, 40] as const,
        calib: bcCalib,
      },
      { name: 'crnn small', model: smallCrnn(), shape: CRNN_INPUT, calib: spectra(96, CRNN_INPUT, 5) },
    ];
    for (const { name, model, shape, calib } of cases) {
      const test = spectra(64, shape, 6);
      const floatClasses = new Set(
        tf.tidy(() => Array.from(tf.argMax(model.predict(test) as tf.Tensor, 1).dataSync())),
      );
      // A model that predicts one class for everything would make agreement meaningless.
      expect(floatClasses.size).toBeGreaterThanOrEqual(4);
      const count = tf.memory().numTensors;
      const ranges = calibrateActivations(model, calib);
      const results: Record<string, { sqnr: number; top1: number }> = {};
      const variants = {
        'int8 per-channel': { weights: 'per-channel' },
        'int8 per-tensor': { weights: 'per-tensor' },
        'weights-only per-channel': { weights: 'per-channel', activations: false },
      } as const;
      for (const [label, options] of Object.entries(variants)) {
        const sim = simulateInt8(model, ranges, options);
        const report = layerSqnr(model, sim, test);
        // With activations quantized every layer output has some error; weights-only leaves the
        // input (and weight-free layers before the first kernel) exact.
        const finite = !('activations' in options);
        expect(report.layers.every((l) => (finite ? Number.isFinite(l.sqnrDb) : l.sqnrDb > 0))).toBe(true);
        results[label] = { sqnr: report.output.sqnrDb, top1: report.output.top1Agreement as number };
        sim.dispose();
      }
      expect(tf.memory().numTensors).toBe(count);
      console.log(
        `simulated ${name} (${floatClasses.size} classes predicted, 64 random inputs): ${Object.entries(
          results,
        )
          .map(([k, v]) => `${k}: top-1 ${(100 * v.top1).toFixed(1)} %, output SQNR ${v.sqnr.toFixed(1)} dB`)
          .join('; ')}`,
      );
      for (const label of ['int8 per-channel', 'weights-only per-channel']) {
        expect(results[label]?.top1).toBeGreaterThanOrEqual(0.9);
        expect(results[label]?.sqnr).toBeGreaterThan(15);
      }
      // Per-channel weights never do worse than per-tensor ones here.
      expect(results['int8 per-channel']?.sqnr).toBeGreaterThanOrEqual(
        (results['int8 per-tensor']?.sqnr as number) - 1,
      );
      tf.dispose([calib, test]);
      model.dispose();
    }
  });

  it('throws KwsError for bad input', () => {
    const model = tinyModel();
    const x = randomInputs(8, [3], 7);
    const ranges = calibrateActivations(model, x);
    const other = mlp();
    const nested = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [3] }), tinyModel()] });
    const cases: [() => unknown, string][] = [
      [() => simulateInt8(model, null as never), 'INVALID_ARGUMENT'],
      [() => simulateInt8(model, { ranges: [{ name: 'x', min: 1, max: 0 }] } as never), 'INVALID_ARGUMENT'],
      [() => simulateInt8(other, ranges), 'INVALID_ARGUMENT'],
      [() => simulateInt8(model, ranges, { weights: 'int4' as never }), 'INVALID_ARGUMENT'],
      [() => simulateInt8(model, ranges, { activationBits: 1 }), 'INVALID_ARGUMENT'],
      [() => simulateInt8(model, ranges, { keepFloat: 'fc' as never }), 'INVALID_ARGUMENT'],
      [() => simulateInt8(nested, ranges), 'MODEL_INVALID'],
      [() => new FakeQuant({ min: 1, max: 0 }), 'INVALID_ARGUMENT'],
    ];
    for (const [run, code] of cases) {
      try {
        run();
        expect.unreachable(`expected ${code}`);
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        expect((e as KwsError).code).toBe(code);
      }
    }
    x.dispose();
    for (const m of [model, other, nested]) m.dispose();
  });
});
