import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { modelFromArtifacts } from '../../src/models/index.js';
import { FLOAT16_MAX, float16Bits, float16Value } from '../../src/quantize/float16.js';
import { keepFloatByDefault, quantizeWeights, type WeightQuantReport } from '../../src/quantize/index.js';
import {
  channelLayout,
  encodeInt8PerChannelLattice,
  encodeInt8PerTensor,
  encodeUint8Affine,
  errorStats,
  quantizeInt8PerChannel,
} from '../../src/quantize/weight-quantizers.js';
import { convNet, normals, smallBcResNet, smallCrnn } from './helpers.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** One Dense layer [in, out] with the given kernel and a zero bias. */
function denseWith(kernel: Float32Array, inUnits: number, outUnits: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [inUnits], units: outUnits, name: 'fc' })],
  });
  const values = [tf.tensor(kernel, [inUnits, outUnits]), tf.zeros([outUnits])];
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/** Kernel [16, 4] whose column c is N(0, 1)·10^(−c): channel ranges differ by 1000×. */
function skewedKernel(): Float32Array {
  const k = normals(64, 11);
  for (let i = 0; i < 64; i++) k[i] = (k[i] as number) * 10 ** -(i % 4);
  return k;
}

async function loadedWeights(artifacts: tf.io.ModelArtifacts): Promise<Map<string, Float32Array>> {
  const model = await modelFromArtifacts(artifacts);
  const out = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  model.dispose();
  return out;
}

function entry(report: WeightQuantReport[], name: string): WeightQuantReport {
  const r = report.find((e) => e.name === name);
  if (r === undefined) throw new Error(`no report entry ${name}`);
  return r;
}

describe('float16 encoding', () => {
  it('round-trips every finite float16 value exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      const v = float16Value(bits);
      // ±0 both map back to their own pattern.
      expect(float16Bits(v)).toBe(bits);
    }
  });

  it('rounds to the nearest half, ties to even; relative error ≤ 2^-11 (normal), abs ≤ 2^-25 (subnormal)', () => {
    const values = [
      ...normals(4000, 1, 100),
      ...normals(2000, 2, 1e-5),
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      65519,
      -(2 ** -25),
    ];
    for (const x0 of values) {
      const x = Math.fround(x0);
      const b = float16Bits(x);
      const h = float16Value(b);
      const err = Math.abs(x - h);
      if (Math.abs(x) >= 2 ** -14) expect(err).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11);
      else expect(err).toBeLessThanOrEqual(2 ** -25);
      // Nearest: neither neighbour pattern is closer.
      for (const nb of [b - 1, b + 1]) {
        if (nb < 0 || (nb & 0x7c00) === 0x7c00 || (nb & 0x8000) !== (b & 0x8000)) continue;
        expect(Math.abs(x - float16Value(nb))).toBeGreaterThanOrEqual(err);
      }
    }
    // Ties go to the even significand: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
    expect(float16Value(float16Bits(1 + 2 ** -11))).toBe(1);
    expect(float16Value(float16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(float16Value(float16Bits(65519))).toBe(FLOAT16_MAX);
    expect(float16Bits(65520)).toBe(0x7c00);
  });

  it('float16 weights load (tfjs decoder) to exactly the encoded values', async () => {
    // Representable values come back exactly; others within 2^-11 relative.
    const representable = [0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14), 1.5, 3.140625, -1024];
    const other = [0.1, -1 / 3, 12345.678, 1e-6];
    const kernel = new Float32Array([...representable, ...other, 0.2, 0.3]);
    const model = denseWith(kernel, 4, 4);
    const q = await quantizeWeights(model, { scheme: 'float16', skip: () => false });
    const loaded = (await loadedWeights(q.artifacts)).get('fc/kernel') as Float32Array;
    expect(Array.from(loaded)).toEqual(Array.from(q.dequantized.get('fc/kernel') as Float32Array));
    representable.forEach((v, i) => {
      expect(loaded[i]).toBe(v);
    });
    for (let i = representable.length; i < kernel.length; i++) {
      const x = kernel[i] as number;
      const tol = Math.abs(x) >= 2 ** -14 ? Math.abs(x) * 2 ** -11 : 2 ** -25;
      expect(Math.abs((loaded[i] as number) - x)).toBeLessThanOrEqual(tol);
    }
    const r = entry(q.report, 'fc/kernel');
    expect(r.dtype).toBe('float16');
    expect(r.bytesAfter).toBe(32);
    model.dispose();
  });

  it('rejects float16 weights beyond ±65504 with a KwsError', async () => {
    const model = denseWith(new Float32Array([1, 2, 7e4, 3]), 2, 2);
    await expect(quantizeWeights(model, { scheme: 'float16' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    model.dispose();
  });
});

describe('integer grids', () => {
  it('uint8 affine: error ≤ scale/2 per weight, zero exact, range nudged to contain 0', () => {
    const w = normals(1000, 3);
    w[17] = 0;
    const e = encodeUint8Affine(w);
    const { min, scale } = e.quantization;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(scale).toBeCloseTo((hi - lo) / 255, 12);
    // min is a multiple of scale so 0 = zp·scale + min.
    expect(Math.abs(-min / scale - Math.round(-min / scale))).toBeLessThan(1e-9);
    expect(e.dequantized[17]).toBe(0);
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs((w[i] as number) - (e.dequantized[i] as number));
      expect(err).toBeLessThanOrEqual(scale / 2 + 1e-7 * Math.abs(w[i] as number));
      expect(e.dequantized[i]).toBe(Math.fround((e.values[i] as number) * scale + min));
    }
  });

  it('uint8 affine of a constant tensor is exact; of an all-positive tensor uses its own minimum', () => {
    const c = encodeUint8Affine(new Float32Array([0.25, 0.25, 0.25]));
    expect(Array.from(c.dequantized)).toEqual([0.25, 0.25, 0.25]);
    const p = encodeUint8Affine(new Float32Array([1, 2, 3, 4]));
    expect(p.quantization.min).toBe(1);
    expect(Array.from(p.dequantized)).toEqual([1, 2, 3, 4]);
  });

  it('int8 per tensor: symmetric q ∈ [-127, 127] stored exactly as q + 128, error ≤ s/2', () => {
    const w = normals(500, 4);
    const e = encodeInt8PerTensor(w);
    const s = e.quantization.scale;
    let maxAbs = 0;
    for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
    expect(s).toBe(maxAbs / 127);
    expect(e.quantization.min).toBe(-128 * s);
    for (let i = 0; i < w.length; i++) {
      const u = e.values[i] as number;
      expect(u).toBeGreaterThanOrEqual(1);
      expect(u).toBeLessThanOrEqual(255);
      expect(u - 128).toBe(Math.round((w[i] as number) / s) + 0);
      expect(Math.abs((w[i] as number) - (e.dequantized[i] as number))).toBeLessThanOrEqual(s / 2 + 1e-7);
    }
  });

  it('int8 per channel: s_c = max|w_c|/127, error ≤ s_c/2, far below per-tensor error on skewed channels', () => {
    const w = skewedKernel();
    const layout = channelLayout('Dense', 'kernel', [16, 4]);
    expect(layout).toEqual({ channels: 4, inner: 1 });
    const pc = quantizeInt8PerChannel(w, layout);
    const pt = encodeInt8PerTensor(w);
    const channel = (c: number): number[] => Array.from({ length: 16 }, (_, r) => r * 4 + c);
    for (let c = 0; c < 4; c++) {
      const channelMax = Math.max(...channel(c).map((i) => Math.abs(w[i] as number)));
      const s = pc.scales[c] as number;
      expect(s).toBe(channelMax / 127);
      for (const i of channel(c)) {
        const err = Math.abs((w[i] as number) - (pc.dequantized[i] as number));
        expect(err).toBeLessThanOrEqual(s / 2 + 1e-7 * Math.abs(w[i] as number));
        expect(Math.abs(Math.round((pc.dequantized[i] as number) / s))).toBeLessThanOrEqual(127);
      }
    }
    // Channel 3 (range 1000× smaller) is crushed by the per-tensor grid, not by the per-channel one.
    const perTensorErr3 = Math.max(
      ...channel(3).map((i) => Math.abs((w[i] as number) - (pt.dequantized[i] as number))),
    );
    expect(pc.channelMaxAbsError[3] as number).toBeLessThan(perTensorErr3 / 100);
    expect(errorStats(w, pc.dequantized).sqnrDb).toBeGreaterThan(errorStats(w, pt.dequantized).sqnrDb);
  });

  it('int8 per channel on the uint16 lattice: integer multiples of g, exact uint16 storage, error ≤ s_c/2', () => {
    const w = normals(96, 12);
    // Channel ranges 1, 0.5, 0.01 and 0.001: the last is below 1/258 of the largest.
    const factors = [1, 0.5, 0.01, 0.001];
    for (let i = 0; i < 96; i++) w[i] = (w[i] as number) * (factors[i % 4] as number);
    const layout = { channels: 4, inner: 1 };
    const lattice = encodeInt8PerChannelLattice(w, layout);
    const textbook = quantizeInt8PerChannel(w, layout);
    const { min, scale: g } = lattice.quantization;
    expect(lattice.quantization.dtype).toBe('uint16');
    expect(min).toBe(-32767 * g);
    for (let c = 0; c < 4; c++) {
      const s = lattice.scales[c] as number;
      const m = Math.round(s / g);
      expect(Math.abs(s / g - m)).toBeLessThan(1e-9);
      expect(m).toBeGreaterThanOrEqual(1);
      expect(m).toBeLessThanOrEqual(258);
      const t = textbook.scales[c] as number;
      expect(s).toBeGreaterThanOrEqual(t * (1 - 1e-12));
      // Above 1/258 of the largest range the scale is the textbook one rounded up by < g.
      if (c < 3) expect(s - t).toBeLessThan(g);
      else expect(m).toBe(1);
      expect(lattice.channelMaxAbsError[c] as number).toBeLessThanOrEqual(s / 2 + 1e-9);
    }
    for (let i = 0; i < w.length; i++) {
      const u = lattice.values[i] as number;
      const m = Math.round((lattice.scales[i % 4] as number) / g);
      // u − 32767 = q·m_c with |q| ≤ 127, decoded by tfjs's formula.
      expect(Math.abs((u - 32767) % m)).toBe(0);
      expect(Math.abs((u - 32767) / m)).toBeLessThanOrEqual(127);
      expect(lattice.dequantized[i]).toBe(Math.fround(u * g + min));
    }
  });

  it('channel layouts: last axis, depthwise last two axes, transposed conv second-to-last', () => {
    expect(channelLayout('Conv2D', 'kernel', [3, 3, 2, 8])).toEqual({ channels: 8, inner: 1 });
    expect(channelLayout('DepthwiseConv2D', 'depthwise_kernel', [3, 3, 4, 2])).toEqual({
      channels: 8,
      inner: 1,
    });
    expect(channelLayout('Conv2DTranspose', 'kernel', [3, 3, 6, 2])).toEqual({ channels: 6, inner: 2 });
    expect(channelLayout('Dense', 'bias', [5])).toEqual({ channels: 5, inner: 1 });
    expect(channelLayout('X', 'w', [])).toEqual({ channels: 1, inner: 1 });
  });
});

describe('quantizeWeights', () => {
  it('per-channel int8: uint16 storage holds the int8 values exactly, uint8 storage the per-tensor grid', async () => {
    const model = denseWith(skewedKernel(), 16, 4);
    const q16 = await quantizeWeights(model, { scheme: 'int8-per-channel', perChannelStorage: 'uint16' });
    const q8 = await quantizeWeights(model, { scheme: 'int8-per-channel' });
    const qt = await quantizeWeights(model, { scheme: 'int8-per-tensor' });
    const ua = await quantizeWeights(model, { scheme: 'uint8-affine' });
    const k16 = entry(q16.report, 'fc/kernel');
    const k8 = entry(q8.report, 'fc/kernel');
    expect(k16.dtype).toBe('uint16');
    expect(k16.bytesAfter).toBe(128);
    expect(k8.dtype).toBe('uint8');
    expect(k8.bytesAfter).toBe(64);
    // uint16: the file holds the lattice per-channel values exactly.
    const layout = { channels: 4, inner: 1 };
    const loaded16 = (await loadedWeights(q16.artifacts)).get('fc/kernel') as Float32Array;
    expect(Array.from(loaded16)).toEqual(
      Array.from(encodeInt8PerChannelLattice(skewedKernel(), layout).dequantized),
    );
    expect(Array.from(loaded16)).toEqual(Array.from(q16.dequantized.get('fc/kernel') as Float32Array));
    // uint8: the file is the uint8-affine one.
    const loaded8 = (await loadedWeights(q8.artifacts)).get('fc/kernel') as Float32Array;
    expect(Array.from(loaded8)).toEqual(Array.from(ua.dequantized.get('fc/kernel') as Float32Array));
    expect(k8.maxAbsError).toBe(entry(ua.report, 'fc/kernel').maxAbsError);
    // Both keep the textbook per-channel values for simulation and report their error.
    const textbook = Array.from(quantizeInt8PerChannel(skewedKernel(), layout).dequantized);
    expect(Array.from(q8.simulated.get('fc/kernel') as Float32Array)).toEqual(textbook);
    expect(Array.from(q16.simulated.get('fc/kernel') as Float32Array)).toEqual(textbook);
    expect(k8.perChannel?.sqnrDb).toBe(k16.perChannel?.sqnrDb);
    // Per-channel beats per-tensor int8 on this kernel, in the file (uint16) and in simulation.
    const perTensorSqnr = entry(qt.report, 'fc/kernel').sqnrDb;
    expect(k16.sqnrDb).toBeGreaterThan(perTensorSqnr);
    expect(k16.perChannel?.sqnrDb as number).toBeGreaterThan(perTensorSqnr);
    const perChannel = k16.perChannel;
    expect(perChannel?.channels).toBe(4);
    perChannel?.channelMaxAbsError.forEach((err, c) => {
      expect(err).toBeLessThanOrEqual((perChannel.scales[c] as number) / 2 + 1e-9);
    });
    expect(q8.perChannelStorage).toBe('uint8');
    expect(qt.perChannelStorage).toBeNull();
    model.dispose();
  });

  it('reports exactly the error of what tfjs loads, and sizes in bytes', async () => {
    const model = convNet();
    for (const scheme of ['uint8-affine', 'int8-per-tensor', 'float16'] as const) {
      const q = await quantizeWeights(model, { scheme });
      const loaded = await loadedWeights(q.artifacts);
      for (const w of model.weights) {
        const original = w.read().dataSync() as Float32Array;
        const got = loaded.get(w.originalName) as Float32Array;
        expect(Array.from(got)).toEqual(Array.from(q.dequantized.get(w.originalName) as Float32Array));
        const r = entry(q.report, w.originalName);
        expect(r.maxAbsError).toBe(errorStats(original, got).maxAbsError);
        if (r.scheme === 'uint8-affine')
          expect(r.maxAbsError).toBeLessThanOrEqual((r.step as number) / 2 + 1e-7);
      }
      const kernel = entry(q.report, 'conv/kernel');
      expect(kernel.bytesBefore).toBe(36 * 4);
      expect(kernel.bytesAfter).toBe(scheme === 'float16' ? 72 : 36);
      expect(q.totals.bytesBefore).toBe(q.report.reduce((s, r) => s + r.bytesBefore, 0));
      expect(q.totals.bytesAfter).toBe((q.artifacts.weightData as ArrayBuffer).byteLength);
      expect(Number.isFinite(q.totals.sqnrDb)).toBe(true);
      expect(q.artifacts.userDefinedMetadata).toEqual({
        kwsQuantization: { scheme, perChannelStorage: null },
      });
    }
    model.dispose();
  });

  it('keeps biases and normalization parameters in float32 by default (BC-ResNet, CRNN)', async () => {
    for (const model of [smallBcResNet(), smallCrnn()]) {
      const q = await quantizeWeights(model, { scheme: 'uint8-affine' });
      for (const r of q.report) {
        const norm = ['gamma', 'beta', 'moving_mean', 'moving_variance'].includes(r.weight);
        const keep = r.shape.length < 2 || norm || r.className === 'SubSpectralNorm';
        expect(r.scheme).toBe(keep ? 'none' : 'uint8-affine');
        expect(r.dtype).toBe(keep ? 'float32' : 'uint8');
        if (keep) expect(r.maxAbsError).toBe(0);
      }
      // SubSpectralNorm's [subBands, C] parameters are rank 2 but still kept.
      if (model.name === 'bc_resnet') {
        const ssn = q.report.filter((r) => r.className === 'SubSpectralNorm');
        expect(ssn.length).toBeGreaterThan(0);
        expect(ssn.every((r) => r.shape.length === 2 && r.dtype === 'float32')).toBe(true);
      } else {
        expect(entry(q.report, 'crnn_gru_1/recurrent_kernel').dtype).toBe('uint8');
      }
      model.dispose();
    }
  });

  it('keepFloatAs float16 stores the kept weights as float16; custom skip is honoured', async () => {
    const model = convNet();
    const q = await quantizeWeights(model, { scheme: 'uint8-affine', keepFloatAs: 'float16' });
    expect(entry(q.report, 'bn/gamma').dtype).toBe('float16');
    expect(entry(q.report, 'bn/gamma').scheme).toBe('float16');
    expect(entry(q.report, 'conv/kernel').dtype).toBe('uint8');
    const seen: string[] = [];
    const custom = await quantizeWeights(model, {
      scheme: 'int8-per-tensor',
      skip: (layer, weight, info) => {
        seen.push(`${layer}:${weight}:${info.className}`);
        return layer === 'logits';
      },
    });
    expect(seen).toContain('conv:kernel:Conv2D');
    expect(seen).toContain('bn:moving_variance:BatchNormalization');
    expect(entry(custom.report, 'logits/kernel').dtype).toBe('float32');
    expect(entry(custom.report, 'bn/beta').dtype).toBe('uint8');
    expect(
      keepFloatByDefault('l', 'kernel', {
        name: 'l/kernel',
        layer: 'l',
        weight: 'kernel',
        className: 'Dense',
        shape: [2, 2],
      }),
    ).toBe(false);
    model.dispose();
  });

  it('minSqnrDb stores the weights that would fall below it as float16', async () => {
    const model = denseWith(skewedKernel(), 16, 4);
    const plain = await quantizeWeights(model, { scheme: 'int8-per-tensor' });
    const sqnr = entry(plain.report, 'fc/kernel').sqnrDb;
    const above = await quantizeWeights(model, { scheme: 'int8-per-tensor', minSqnrDb: sqnr - 1 });
    const below = await quantizeWeights(model, { scheme: 'int8-per-tensor', minSqnrDb: sqnr + 1 });
    expect(entry(above.report, 'fc/kernel').dtype).toBe('uint8');
    expect(entry(below.report, 'fc/kernel').dtype).toBe('float16');
    expect(entry(below.report, 'fc/kernel').scheme).toBe('float16');
    expect(entry(below.report, 'fc/kernel').sqnrDb).toBeGreaterThan(sqnr);
    await expect(quantizeWeights(model, { scheme: 'float16', minSqnrDb: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    model.dispose();
  });

  it('leaves the model unchanged and leaks no tensors', async () => {
    const model = convNet();
    const before = model.weights.map((w) => Array.from(w.read().dataSync()));
    const count = tf.memory().numTensors;
    await quantizeWeights(model, { scheme: 'int8-per-channel' });
    await quantizeWeights(model, { scheme: 'float16' });
    expect(tf.memory().numTensors).toBe(count);
    expect(model.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(before);
    model.dispose();
  });

  it('throws KwsError for bad input', async () => {
    const model = convNet();
    const bad: [unknown, unknown, string][] = [
      [null, { scheme: 'float16' }, 'INVALID_ARGUMENT'],
      [{}, { scheme: 'float16' }, 'INVALID_ARGUMENT'],
      [model, undefined, 'INVALID_ARGUMENT'],
      [model, { scheme: 'int4' }, 'INVALID_ARGUMENT'],
      [model, { scheme: 'float16', skip: 'bias' }, 'INVALID_ARGUMENT'],
      [model, { scheme: 'int8-per-channel', perChannelStorage: 'int8' }, 'INVALID_ARGUMENT'],
      [model, { scheme: 'float16', keepFloatAs: 'bfloat16' }, 'INVALID_ARGUMENT'],
      [model, { scheme: 'float16', skip: () => 1 }, 'INVALID_ARGUMENT'],
    ];
    for (const [m, o, code] of bad) {
      const run = quantizeWeights(m as tfl.LayersModel, o as never);
      await expect(run).rejects.toBeInstanceOf(KwsError);
      await expect(run).rejects.toMatchObject({ code });
    }
    const nan = denseWith(new Float32Array([1, Number.NaN, 2, 3]), 2, 2);
    await expect(quantizeWeights(nan, { scheme: 'uint8-affine' })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
    });
    nan.dispose();
    model.dispose();
  });
});
