import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { registerBatchNormGradient } from '../../src/models/layers/batch-norm-gradient.js';
import { ChannelDropout } from '../../src/models/layers/channel-dropout.js';
import { FrequencyMean } from '../../src/models/layers/frequency-mean.js';
import { KWS_LAYER_CLASSES, registerKwsLayers } from '../../src/models/layers/register.js';
import { SeededDropout } from '../../src/models/layers/seeded-dropout.js';
import { SpectralConv } from '../../src/models/layers/spectral-conv.js';
import { SubSpectralNorm } from '../../src/models/layers/sub-spectral-norm.js';
import {
  axisPadding,
  coreConv,
  perChannelConv,
  setTapeConvPath,
  type TapGeometry,
  tapConv,
  tapOutputSize,
} from '../../src/models/layers/tap-conv.js';
import { TemporalConv } from '../../src/models/layers/temporal-conv.js';
import { createRng } from '../../src/random.js';
import { registerWasmTrainingKernels } from '../../src/train/wasm-kernels.js';

type Shape4 = [number, number, number, number];

function randn(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Plain-loop reference of the per-channel conv (independent of tfjs). */
function referenceConv(
  x: Float32Array,
  [n, t, f, cin]: Shape4,
  w: Float32Array,
  [kt, kf, c]: [number, number, number],
  g: TapGeometry,
): { data: Float32Array; shape: Shape4 } {
  const [outT, outF] = tapOutputSize(t, f, g);
  const y = new Float32Array(n * outT * outF * c);
  for (let b = 0; b < n; b++)
    for (let ot = 0; ot < outT; ot++)
      for (let of = 0; of < outF; of++)
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let i = 0; i < kt; i++)
            for (let j = 0; j < kf; j++) {
              const ti = ot + i * g.dilation[0] - g.padTime[0];
              const fi = of * g.freqStride + j * g.dilation[1] - g.padFreq[0];
              if (ti < 0 || ti >= t || fi < 0 || fi >= f) continue;
              const xc = cin === 1 ? 0 : ch;
              acc += (x[((b * t + ti) * f + fi) * cin + xc] as number) * (w[(i * kf + j) * c + ch] as number);
            }
          y[((b * outT + ot) * outF + of) * c + ch] = acc;
        }
  return { data: y, shape: [n, outT, outF, c] };
}

function temporalGeometry(k: number, d: number, causal: boolean): TapGeometry {
  return {
    kernel: [k, 1],
    dilation: [d, 1],
    freqStride: 1,
    padTime: axisPadding(causal ? 'causal' : 'same', k, d),
    padFreq: [0, 0],
  };
}

/** Gradients of sum(conv(x, w) · r) with respect to x and w, computed with the tap conv. */
function tapGrads(
  x: Float32Array,
  xs: Shape4,
  w: Float32Array,
  ws: [number, number, number],
  r: Float32Array,
  g: TapGeometry,
): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const [outT, outF] = tapOutputSize(xs[1], xs[2], g);
    const rt = tf.tensor4d(r, [xs[0], outT, outF, ws[2]]);
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      tf.sum(tf.mul(tapConv(a as tf.Tensor4D, b as tf.Tensor3D, g), rt));
    const [gx, gw] = tf.grads(f)([tf.tensor4d(x, xs), tf.tensor3d(w, ws)]);
    return [gx?.dataSync() as Float32Array, gw?.dataSync() as Float32Array];
  });
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

describe('tap convolution (TemporalConv geometry)', () => {
  const xs: Shape4 = [2, 21, 3, 4];
  const x = randn(2 * 21 * 3 * 4, 1);
  const w = randn(3 * 4, 2);

  for (const d of [1, 2, 4, 8]) {
    for (const causal of [false, true]) {
      it(`dilation ${d}, ${causal ? 'causal' : 'same'}: taps = core depthwiseConv2d = loops`, () => {
        const g = temporalGeometry(3, d, causal);
        const ref = referenceConv(x, xs, w, [3, 1, 4], g);
        expect(ref.shape).toEqual([2, 21, 3, 4]);
        tf.tidy(() => {
          const xt = tf.tensor4d(x, xs);
          const wt = tf.tensor3d(w, [3, 1, 4]);
          const taps = tapConv(xt, wt, g);
          const core = coreConv(xt, wt, g) as tf.Tensor4D;
          // Core's own 'same' (symmetric d zeros) and an explicit causal pad with 'valid'.
          const w4 = tf.reshape(wt, [3, 1, 4, 1]) as tf.Tensor4D;
          const direct = causal
            ? tf.depthwiseConv2d(
                tf.pad(xt, [
                  [0, 0],
                  [2 * d, 0],
                  [0, 0],
                  [0, 0],
                ]),
                w4,
                1,
                'valid',
                'NHWC',
                [d, 1],
              )
            : tf.depthwiseConv2d(xt, w4, 1, 'same', 'NHWC', [d, 1]);
          expect(taps.shape).toEqual(ref.shape);
          expect(maxAbsDiff(taps.dataSync(), ref.data)).toBeLessThan(1e-5);
          expect(maxAbsDiff(core.dataSync(), ref.data)).toBeLessThan(1e-5);
          expect(maxAbsDiff(direct.dataSync(), taps.dataSync())).toBeLessThan(1e-5);
        });
      });
    }
  }

  it('causal output at frame t ignores frames after t', () => {
    const g = temporalGeometry(3, 4, true);
    const x2 = x.slice();
    for (let i = 11 * 3 * 4; i < 21 * 3 * 4; i++) x2[i] = 100; // frames 11.. of example 0
    const a = referenceConv(x, xs, w, [3, 1, 4], g).data;
    const b = tf.tidy(() => tapConv(tf.tensor4d(x2, xs), tf.tensor3d(w, [3, 1, 4]), g).dataSync());
    expect(maxAbsDiff(a.subarray(0, 11 * 12), b.subarray(0, 11 * 12))).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.subarray(11 * 12, 12 * 12), b.subarray(11 * 12, 12 * 12))).toBeGreaterThan(1);
  });

  it('gradients match finite differences on cpu (dilations 1, 2, 4, 8, causal and same)', () => {
    const eps = 1e-2;
    for (const d of [1, 2, 4, 8]) {
      for (const causal of [false, true]) {
        const g = temporalGeometry(3, d, causal);
        const r = randn(2 * 21 * 3 * 4, 3 + d);
        const [gx, gw] = tapGrads(x, xs, w, [3, 1, 4], r, g);
        const f = (xv: Float32Array, wv: Float32Array): number => {
          const y = referenceConv(xv, xs, wv, [3, 1, 4], g).data;
          let s = 0;
          for (let i = 0; i < y.length; i++) s += (y[i] as number) * (r[i] as number);
          return s;
        };
        const central = (bump: (delta: number) => number): number => (bump(eps) - bump(-eps)) / (2 * eps);
        for (const i of [0, 5, 37, 100, 250, 503]) {
          const num = central((delta) => {
            const xv = x.slice();
            xv[i] = (xv[i] as number) + delta;
            return f(xv, w);
          });
          expect(Math.abs((gx[i] as number) - num)).toBeLessThan(1e-3);
        }
        for (let i = 0; i < w.length; i++) {
          const num = central((delta) => {
            const wv = w.slice();
            wv[i] = (wv[i] as number) + delta;
            return f(x, wv);
          });
          expect(Math.abs((gw[i] as number) - num)).toBeLessThan(1e-3 * Math.max(1, Math.abs(num)));
        }
      }
    }
  });

  it('gradients run on wasm and equal cpu within 1e-5', async () => {
    const results: Record<string, Float32Array[]> = {};
    for (const backend of ['cpu', 'wasm']) {
      expect(await tf.setBackend(backend)).toBe(true);
      results[backend] = [];
      for (const d of [1, 2, 4, 8]) {
        for (const causal of [false, true]) {
          const r = randn(2 * 21 * 3 * 4, 7);
          results[backend]?.push(...tapGrads(x, xs, w, [3, 1, 4], r, temporalGeometry(3, d, causal)));
        }
      }
    }
    const cpu = results.cpu as Float32Array[];
    const wasm = results.wasm as Float32Array[];
    expect(wasm.length).toBe(16);
    cpu.forEach((c, i) => {
      expect(maxAbsDiff(c, wasm[i] as Float32Array)).toBeLessThan(1e-5);
    });
  });
});

describe('tap convolution (SpectralConv geometry)', () => {
  const cases: { name: string; xs: Shape4; ws: [number, number, number]; g: TapGeometry }[] = [
    {
      name: '5×5 stem, 1 → 6 channels, freq stride 2',
      xs: [2, 9, 12, 1],
      ws: [5, 5, 6],
      g: { kernel: [5, 5], dilation: [1, 1], freqStride: 2, padTime: [2, 2], padFreq: [2, 2] },
    },
    {
      name: '3-bin depthwise, freq stride 2, odd bins',
      xs: [1, 4, 11, 3],
      ws: [1, 3, 3],
      g: { kernel: [1, 3], dilation: [1, 1], freqStride: 2, padTime: [0, 0], padFreq: [1, 1] },
    },
    {
      name: '5×5 depthwise, causal time, valid freq',
      xs: [2, 8, 7, 3],
      ws: [5, 5, 3],
      g: { kernel: [5, 5], dilation: [1, 1], freqStride: 1, padTime: [4, 0], padFreq: [0, 0] },
    },
    {
      name: '3×2 depthwise, dilation 2×3, freq stride 3',
      xs: [1, 7, 13, 2],
      ws: [3, 2, 2],
      g: { kernel: [3, 2], dilation: [2, 3], freqStride: 3, padTime: [2, 2], padFreq: [1, 2] },
    },
  ];
  for (const { name, xs, ws, g } of cases) {
    it(`${name}: taps and core equal plain loops; wasm gradients equal cpu`, async () => {
      const x = randn(
        xs.reduce((a, b) => a * b),
        11,
      );
      const w = randn(ws[0] * ws[1] * ws[2], 12);
      const ref = referenceConv(x, xs, w, ws, g);
      tf.tidy(() => {
        const xt = tf.tensor4d(x, xs);
        const wt = tf.tensor3d(w, ws);
        const taps = tapConv(xt, wt, g);
        expect(taps.shape).toEqual(ref.shape);
        expect(maxAbsDiff(taps.dataSync(), ref.data)).toBeLessThan(1e-5);
        const core = coreConv(xt, wt, g);
        // Core cannot combine a stride with a dilation; the dispatcher falls back to taps then.
        if (g.freqStride > 1 && (g.dilation[0] > 1 || g.dilation[1] > 1)) expect(core).toBeNull();
        else expect(maxAbsDiff((core as tf.Tensor).dataSync(), ref.data)).toBeLessThan(1e-5);
      });
      const r = randn(ref.data.length, 13);
      const cpu = tapGrads(x, xs, w, ws, r, g);
      expect(await tf.setBackend('wasm')).toBe(true);
      const wasm = tapGrads(x, xs, w, ws, r, g);
      expect(maxAbsDiff(cpu[0], wasm[0])).toBeLessThan(1e-5);
      expect(maxAbsDiff(cpu[1], wasm[1])).toBeLessThan(1e-5);
    });
  }
});

describe('TemporalConv layer', () => {
  it('applies its kernel with dilation and causal padding, inside and outside a gradient tape', () => {
    const xs: Shape4 = [1, 30, 2, 3];
    const x = randn(180, 21);
    const layer = new TemporalConv({ dilation: 4, causal: true, seed: 5 });
    tf.tidy(() => {
      const xt = tf.tensor4d(x, xs);
      const y = layer.apply(xt) as tf.Tensor;
      const w = layer.getWeights()[0] as tf.Tensor;
      expect(w.shape).toEqual([3, 3]);
      const ref = referenceConv(x, xs, w.dataSync() as Float32Array, [3, 1, 3], temporalGeometry(3, 4, true));
      expect(y.shape).toEqual([1, 30, 2, 3]);
      expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(1e-5);
      // Under a tape the layer switches to the differentiable taps: same numbers, and a gradient.
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.apply(xt) as tf.Tensor)) as tf.Scalar,
      );
      const expected = ref.data.reduce((s, v) => s + v * v, 0);
      expect(Math.abs((value.dataSync()[0] as number) - expected)).toBeLessThan(1e-4 * expected);
      expect(Object.keys(grads)).toHaveLength(1);
    });
    expect(layer.lookBehind).toBe(8);
    expect(layer.computeOutputShape([null, null, 2, 3])).toEqual([null, null, 2, 3]);
    expect(layer.countMacs([null, 30, 2, 3])).toEqual({ macs: 30 * 2 * 3 * 3, normMacs: 0 });
    expect(layer.countMacs([30, 2, 3])).toEqual({ macs: 540, normMacs: 0 });
    layer.dispose();
  });

  it('is configurable and serialisable, and rejects bad arguments with KwsError', () => {
    const layer = new TemporalConv({
      kernelSize: 5,
      dilation: 2,
      causal: true,
      useBias: true,
      seed: 3,
      name: 'tc',
    });
    const config = layer.getConfig();
    expect(config).toMatchObject({
      kernelSize: 5,
      dilation: 2,
      causal: true,
      useBias: true,
      seed: 3,
      name: 'tc',
    });
    const copy = new TemporalConv(config as never);
    expect(copy.getConfig()).toEqual(config);
    const bad = (f: () => unknown, code: string): void => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KwsError);
        expect((e as KwsError).code).toBe(code);
      }
    };
    bad(() => new TemporalConv({ dilation: 0 }), 'INVALID_ARGUMENT');
    bad(() => new TemporalConv({ kernelSize: 1.5 }), 'INVALID_ARGUMENT');
    bad(() => new TemporalConv({ causal: 'yes' as never }), 'INVALID_ARGUMENT');
    bad(() => layer.computeOutputShape([null, 3, 4]), 'SHAPE_MISMATCH');
    bad(() => layer.countMacs([null, null, 4, 2]), 'INVALID_ARGUMENT');
  });
});

describe('SpectralConv layer', () => {
  it('takes a rank-3 spectrogram as one channel and reports shapes and MACs', () => {
    const layer = new SpectralConv({ filters: 4, kernelSize: [5, 5], freqStride: 2, seed: 1 });
    expect(layer.computeOutputShape([null, 101, 40])).toEqual([null, 101, 20, 4]);
    const x = randn(2 * 7 * 10, 4);
    tf.tidy(() => {
      const y = layer.apply(tf.tensor3d(x, [2, 7, 10])) as tf.Tensor;
      const w = (layer.getWeights()[0] as tf.Tensor).dataSync() as Float32Array;
      const ref = referenceConv(x, [2, 7, 10, 1], w, [5, 5, 4], layer.geometry());
      expect(y.shape).toEqual([2, 7, 5, 4]);
      expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(1e-5);
    });
    expect(layer.countMacs([null, 101, 40])).toEqual({ macs: 101 * 20 * 4 * 25, normMacs: 0 });
    const dw = new SpectralConv({
      filters: 3,
      kernelSize: [5, 5],
      freqPadding: 'valid',
      timePadding: 'causal',
    });
    expect(dw.computeOutputShape([null, 50, 5, 3])).toEqual([null, 50, 1, 3]);
    expect(() => dw.computeOutputShape([null, 50, 4, 3])).toThrow(KwsError);
    expect(() => dw.apply(tfl.input({ shape: [10, 5, 2] }))).toThrow(KwsError);
    expect(() => new SpectralConv({ filters: 3, kernelSize: [5] as never })).toThrow(KwsError);
    layer.dispose();
  });
});

/** Hand-written SubSpectralNorm: per (sub-band, channel) statistics over batch, time and band bins. */
function referenceSsn(
  x: Float32Array,
  [n, t, f, c]: Shape4,
  s: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  stats?: { mean: Float32Array; variance: Float32Array },
): { y: Float32Array; mean: Float32Array; variance: Float32Array } {
  const band = f / s;
  const mean = new Float32Array(s * c);
  const variance = new Float32Array(s * c);
  const idx = (b: number, ti: number, fi: number, ch: number): number => ((b * t + ti) * f + fi) * c + ch;
  for (let sb = 0; sb < s; sb++)
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      let count = 0;
      for (let b = 0; b < n; b++)
        for (let ti = 0; ti < t; ti++)
          for (let fi = sb * band; fi < (sb + 1) * band; fi++) {
            sum += x[idx(b, ti, fi, ch)] as number;
            count++;
          }
      const m = sum / count;
      let sq = 0;
      for (let b = 0; b < n; b++)
        for (let ti = 0; ti < t; ti++)
          for (let fi = sb * band; fi < (sb + 1) * band; fi++)
            sq += ((x[idx(b, ti, fi, ch)] as number) - m) ** 2;
      mean[sb * c + ch] = m;
      variance[sb * c + ch] = sq / count;
    }
  const useMean = stats?.mean ?? mean;
  const useVar = stats?.variance ?? variance;
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ti = 0; ti < t; ti++)
      for (let fi = 0; fi < f; fi++)
        for (let ch = 0; ch < c; ch++) {
          const k = Math.floor(fi / band) * c + ch;
          const i = idx(b, ti, fi, ch);
          y[i] =
            (((x[i] as number) - (useMean[k] as number)) / Math.sqrt((useVar[k] as number) + eps)) *
              (gamma[k] as number) +
            (beta[k] as number);
        }
  return { y, mean, variance };
}

describe('SubSpectralNorm', () => {
  const xs: Shape4 = [3, 4, 10, 2];
  const x = randn(3 * 4 * 10 * 2, 31).map((v, i) => v * (1 + (i % 7)) + (i % 5));
  const gamma = randn(10, 32).map((v) => 1 + 0.3 * v);
  const beta = randn(10, 33);

  it('training uses batch statistics per sub-band and updates the moving ones; inference uses those', () => {
    const layer = new SubSpectralNorm({ subBands: 5, epsilon: 1e-3, momentum: 0.8 });
    tf.tidy(() => {
      const xt = tf.tensor4d(x, xs);
      layer.apply(xt); // builds
      const mm0 = layer.getWeights()[2];
      expect((mm0 as tf.Tensor).shape).toEqual([5, 2]);
      layer.setWeights([
        tf.tensor2d(gamma, [5, 2]),
        tf.tensor2d(beta, [5, 2]),
        tf.fill([5, 2], 0.5),
        tf.fill([5, 2], 2),
      ]);
      const ref = referenceSsn(x, xs, 5, gamma, beta, 1e-3);
      const train = layer.apply(xt, { training: true }) as tf.Tensor;
      expect(maxAbsDiff(train.dataSync(), ref.y)).toBeLessThan(1e-4);
      const [, , mm, mv] = layer.getWeights();
      const expMean = ref.mean.map((m) => 0.8 * 0.5 + 0.2 * m);
      const expVar = ref.variance.map((v) => 0.8 * 2 + 0.2 * v);
      expect(maxAbsDiff((mm as tf.Tensor).dataSync(), expMean)).toBeLessThan(1e-4);
      expect(maxAbsDiff((mv as tf.Tensor).dataSync(), expVar)).toBeLessThan(1e-4);
      const infer = layer.apply(xt) as tf.Tensor;
      const refInfer = referenceSsn(x, xs, 5, gamma, beta, 1e-3, { mean: expMean, variance: expVar });
      expect(maxAbsDiff(infer.dataSync(), refInfer.y)).toBeLessThan(1e-4);
      // Sub-bands really differ from one shared statistic.
      expect(maxAbsDiff(ref.y, referenceSsn(x, xs, 1, gamma, beta, 1e-3).y)).toBeGreaterThan(0.1);
    });
    expect(layer.countMacs([1, 4, 10, 2])).toEqual({ macs: 0, normMacs: 160 });
    layer.dispose();
  });

  it('with one sub-band equals tfjs-layers BatchNormalization (training, moving stats, inference)', () => {
    const ssn = new SubSpectralNorm({ subBands: 1 });
    const bn = tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-5, momentum: 0.9 });
    tf.tidy(() => {
      const xt = tf.tensor4d(x, xs);
      const a = ssn.apply(xt, { training: true }) as tf.Tensor;
      const b = bn.apply(xt, { training: true }) as tf.Tensor;
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-4);
      const sw = ssn.getWeights();
      const bw = bn.getWeights();
      for (let i = 0; i < 4; i++) {
        expect(maxAbsDiff((sw[i] as tf.Tensor).dataSync(), (bw[i] as tf.Tensor).dataSync())).toBeLessThan(
          1e-5,
        );
      }
      const c = ssn.apply(xt) as tf.Tensor;
      const d = bn.apply(xt) as tf.Tensor;
      expect(maxAbsDiff(c.dataSync(), d.dataSync())).toBeLessThan(1e-4);
    });
    ssn.dispose();
    bn.dispose();
  });

  it('has gradients on cpu (finite differences) and on wasm (equal to cpu)', async () => {
    const small: Shape4 = [2, 3, 4, 2];
    const xv = randn(48, 41);
    const r = randn(48, 42);
    const gradsOn = async (backend: string): Promise<Float32Array[]> => {
      expect(await tf.setBackend(backend)).toBe(true);
      const layer = new SubSpectralNorm({ subBands: 2 });
      const out = tf.tidy(() => {
        const xt = tf.tensor4d(xv, small);
        layer.apply(xt);
        layer.setWeights([
          tf.tensor2d([1.5, 0.5, 1, 2], [2, 2]),
          tf.tensor2d([0.1, -0.2, 0.3, 0], [2, 2]),
          tf.zeros([2, 2]),
          tf.ones([2, 2]),
        ]);
        const rt = tf.tensor4d(r, small);
        const f = (a: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, rt)) as tf.Scalar;
        const gx = tf.grad(f)(xt).dataSync() as Float32Array;
        const { grads } = tf.variableGrads(() => f(xt));
        const names = Object.keys(grads).sort();
        return [gx, ...names.map((k) => (grads[k] as tf.Tensor).dataSync() as Float32Array)];
      });
      layer.dispose();
      return out;
    };
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    expect(cpu).toHaveLength(3); // x, beta, gamma
    cpu.forEach((c, i) => {
      expect(maxAbsDiff(c, wasm[i] as Float32Array)).toBeLessThan(1e-5);
    });
    await tf.setBackend('cpu');
    const g = new Float32Array([1.5, 0.5, 1, 2]);
    const b = new Float32Array([0.1, -0.2, 0.3, 0]);
    const f = (xx: Float32Array): number => {
      const y = referenceSsn(xx, small, 2, g, b, 1e-5).y;
      return y.reduce((s, v, i) => s + v * (r[i] as number), 0);
    };
    const eps = 1e-3;
    for (const i of [0, 7, 19, 30, 47]) {
      const up = xv.slice();
      const down = xv.slice();
      up[i] = (up[i] as number) + eps;
      down[i] = (down[i] as number) - eps;
      const num = (f(up) - f(down)) / (2 * eps);
      expect(Math.abs((cpu[0]?.[i] as number) - num)).toBeLessThan(5e-3);
    }
  });

  it('closed-form training gradients equal autodiff of the written-out formula (x, gamma, beta)', () => {
    const shape: Shape4 = [3, 4, 6, 2];
    const S = 3;
    const n = shape.reduce((a, b) => a * b, 1);
    const layer = new SubSpectralNorm({ subBands: S, epsilon: 1e-3 });
    tf.tidy(() => {
      const xt = tf.tensor4d(randn(n, 51), shape);
      layer.apply(xt);
      const gamma = tf.tensor2d(randn(S * 2, 52), [S, 2]);
      const beta = tf.tensor2d(randn(S * 2, 53), [S, 2]);
      layer.setWeights([gamma, beta, tf.zeros([S, 2]), tf.ones([S, 2])]);
      const rt = tf.tensor4d(randn(n, 54), shape);
      const written = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const grouped = tf.reshape(x, [12, S, 2, 2]);
        const mean = tf.mean(grouped, [0, 2], true);
        const centred = tf.sub(grouped, mean);
        const variance = tf.mean(tf.square(centred), [0, 2], true);
        const y = tf.add(
          tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-3))), tf.reshape(g, [1, S, 1, 2])),
          tf.reshape(b, [1, S, 1, 2]),
        );
        return tf.sum(tf.mul(tf.reshape(y, shape), rt));
      };
      const expected = tf
        .grads(written)([xt, gamma, beta])
        .map((t) => t.dataSync() as Float32Array);
      const gx = tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, rt)))(xt)
        .dataSync() as Float32Array;
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(xt, { training: true }) as tf.Tensor, rt)) as tf.Scalar,
      );
      const byName = (part: string): Float32Array =>
        (
          grads[Object.keys(grads).find((k) => k.endsWith(part)) as string] as tf.Tensor
        ).dataSync() as Float32Array;
      expect(maxAbsDiff(gx, expected[0] as Float32Array)).toBeLessThan(1e-5);
      expect(maxAbsDiff(byName('gamma'), expected[1] as Float32Array)).toBeLessThan(1e-5);
      expect(maxAbsDiff(byName('beta'), expected[2] as Float32Array)).toBeLessThan(1e-5);
    });
    layer.dispose();
  });

  it('rejects sub-bands that do not divide the frequency axis', () => {
    const layer = new SubSpectralNorm({ subBands: 3 });
    expect(() => layer.computeOutputShape([null, 5, 10, 2])).toThrow(KwsError);
    expect(() => layer.apply(tfl.input({ shape: [5, 10, 2] }))).toThrow(/sub-bands must divide/);
    expect(() => new SubSpectralNorm({ subBands: 0 })).toThrow(KwsError);
    expect(() => new SubSpectralNorm({ epsilon: 0 })).toThrow(KwsError);
    expect(() => new SubSpectralNorm({ momentum: 1.5 })).toThrow(KwsError);
  });
});

describe('FrequencyMean and ChannelDropout', () => {
  it('FrequencyMean averages over frequency keeping a size-1 axis', () => {
    const layer = new FrequencyMean();
    expect(layer.computeOutputShape([null, 7, 20, 3])).toEqual([null, 7, 1, 3]);
    tf.tidy(() => {
      const y = layer.apply(tf.tensor4d([1, 10, 2, 20, 3, 30, 6, 60], [1, 2, 2, 2])) as tf.Tensor;
      expect(y.shape).toEqual([1, 2, 1, 2]);
      expect(Array.from(y.dataSync())).toEqual([1.5, 15, 4.5, 45]);
    });
    expect(layer.countMacs([1, 7, 20, 3])).toEqual({ macs: 0, normMacs: 0 });
  });

  it('ChannelDropout drops whole channels, seeded, with fresh masks per step; identity at inference', () => {
    const shape: Shape4 = [8, 3, 2, 16];
    const masks = (layer: ChannelDropout, steps: number): number[][] =>
      tf.tidy(() => {
        const out: number[][] = [];
        for (let s = 0; s < steps; s++) {
          const y = (layer.apply(tf.ones(shape), { training: true }) as tf.Tensor).dataSync();
          const mask: number[] = [];
          for (let n = 0; n < 8; n++)
            for (let c = 0; c < 16; c++) {
              const v = y[n * 96 + c] as number;
              for (let k = 0; k < 6; k++) expect(y[n * 96 + k * 16 + c]).toBe(v);
              expect([0, 1 / 0.75].some((allowed) => Math.abs(v - allowed) < 1e-6)).toBe(true);
              mask.push(v === 0 ? 0 : 1);
            }
          out.push(mask);
        }
        return out;
      });
    const a = masks(new ChannelDropout({ rate: 0.25, seed: 9 }), 2);
    const b = masks(new ChannelDropout({ rate: 0.25, seed: 9 }), 1);
    expect(b[0]).toEqual(a[0]);
    expect(a[1]).not.toEqual(a[0]);
    const dropped = (a[0] as number[]).filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(10);
    expect(dropped).toBeLessThan(55);
    tf.tidy(() => {
      const x = tf.tensor4d(randn(8 * 96, 1), shape);
      const y = new ChannelDropout({ rate: 0.5 }).apply(x) as tf.Tensor;
      expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBe(0);
    });
    expect(() => new ChannelDropout({ rate: 1 })).toThrow(KwsError);
  });

  it('ChannelDropout getRngState/setRngState replays the same masks', () => {
    const layer = new ChannelDropout({ rate: 0.5, seed: 3 });
    const draw = (): number[] =>
      tf.tidy(() =>
        Array.from((layer.apply(tf.ones([4, 1, 1, 8]), { training: true }) as tf.Tensor).dataSync()),
      );
    draw();
    const state = layer.getRngState();
    const a = draw();
    const b = draw();
    layer.setRngState(state);
    expect(draw()).toEqual(a);
    expect(draw()).toEqual(b);
    expect(a).not.toEqual(b);
    expect(() => new ChannelDropout({ rate: -0.1 })).toThrow(KwsError);
  });

  it('SeededDropout drops single elements at the rate, seeded, fresh per step, replayable; identity at inference', () => {
    const rate = 0.3;
    const n = 20_000;
    const draw = (layer: SeededDropout, x: tf.Tensor): Float32Array =>
      tf.tidy(() => (layer.apply(x, { training: true }) as tf.Tensor).dataSync() as Float32Array);
    const x = tf.tensor3d(randn(n, 4), [50, 20, 20]);
    const xs = x.dataSync();
    const layer = new SeededDropout({ rate, seed: 11 });
    const first = draw(layer, x);
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      const v = first[i] as number;
      if (v === 0 && xs[i] !== 0) dropped++;
      else expect(v).toBe(Math.fround((xs[i] as number) * Math.fround(1 / (1 - rate))));
    }
    // Binomial(20000, 0.3): mean 6000, sd ≈ 65; 5 sd either side.
    expect(Math.abs(dropped - rate * n)).toBeLessThan(5 * Math.sqrt(n * rate * (1 - rate)));
    const state = layer.getRngState();
    const second = draw(layer, x);
    expect(Array.from(second)).not.toEqual(Array.from(first));
    layer.setRngState(state);
    expect(Array.from(draw(layer, x))).toEqual(Array.from(second));
    expect(Array.from(draw(new SeededDropout({ rate, seed: 11 }), x))).toEqual(Array.from(first));
    tf.tidy(() => {
      const y = layer.apply(x) as tf.Tensor;
      expect(maxAbsDiff(y.dataSync(), xs)).toBe(0);
      expect(layer.computeOutputShape([null, 20, 20])).toEqual([null, 20, 20]);
    });
    x.dispose();
    expect(layer.countMacs()).toEqual({ macs: 0, normMacs: 0 });
    for (const bad of [1, -0.1, Number.NaN]) expect(() => new SeededDropout({ rate: bad })).toThrow(KwsError);
    expect(() => new SeededDropout({ seed: Number.NaN })).toThrow(KwsError);
  });
});

describe('registerKwsLayers', () => {
  it('is idempotent and makes every class deserialisable from its config', () => {
    registerKwsLayers();
    registerKwsLayers();
    for (const [name, cls] of Object.entries(KWS_LAYER_CLASSES)) {
      expect(cls.className).toBe(name);
      const args: Record<string, unknown> = { name: `x_${name}` };
      if (name === 'SpectralConv') Object.assign(args, { filters: 2, kernelSize: [3, 3] });
      if (name === 'AttentionPooling') Object.assign(args, { units: 4 });
      const layer = new (cls as unknown as new (a: unknown) => tfl.layers.Layer)(args);
      const back = tf.serialization.SerializationMap.getMap().classNameMap[name];
      expect(back?.[0]).toBe(cls);
      const fromConfig = (back as unknown[])[1] as (c: unknown, cfg: unknown) => tfl.layers.Layer;
      const copy = fromConfig(cls, layer.getConfig());
      expect(copy.getConfig()).toEqual(layer.getConfig());
    }
  });
});

describe('perChannelConv under a gradient tape (core kernels vs tap sums)', () => {
  /** Output and gradients of sum(perChannelConv(x, w) · r) w.r.t. x and w, on the current backend. */
  function convGrads(
    path: 'auto' | 'tap',
    x: Float32Array,
    xs: Shape4,
    w: Float32Array,
    ws: [number, number, number],
    g: TapGeometry,
  ): Float32Array[] {
    const previous = setTapeConvPath(path);
    try {
      return tf.tidy(() => {
        const [outT, outF] = tapOutputSize(xs[1], xs[2], g);
        const r = tf.tensor4d(randn(xs[0] * outT * outF * ws[2], 5), [xs[0], outT, outF, ws[2]]);
        let y: tf.Tensor | null = null;
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
          const out = perChannelConv(a as tf.Tensor4D, b as tf.Tensor3D, g);
          y = tf.keep(tf.clone(out));
          return tf.sum(tf.mul(out, r));
        };
        const [gx, gw] = tf.grads(f)([tf.tensor4d(x, xs), tf.tensor3d(w, ws)]);
        const yv = (y as unknown as tf.Tensor).dataSync() as Float32Array;
        (y as unknown as tf.Tensor).dispose();
        return [yv, gx?.dataSync() as Float32Array, gw?.dataSync() as Float32Array];
      });
    } finally {
      setTapeConvPath(previous);
    }
  }

  const cases: { name: string; xs: Shape4; ws: [number, number, number]; g: TapGeometry }[] = [
    {
      name: 'stem 5×5, 1 → 6 channels, freq stride 2',
      xs: [2, 9, 12, 1],
      ws: [5, 5, 6],
      g: { kernel: [5, 5], dilation: [1, 1], freqStride: 2, padTime: [2, 2], padFreq: [2, 2] },
    },
    {
      name: 'frequency 1×3 depthwise, stride 2, odd bins',
      xs: [2, 5, 11, 4],
      ws: [1, 3, 4],
      g: { kernel: [1, 3], dilation: [1, 1], freqStride: 2, padTime: [0, 0], padFreq: [1, 1] },
    },
    {
      name: 'classifier 5×5 depthwise, causal time, valid freq',
      xs: [2, 8, 5, 3],
      ws: [5, 5, 3],
      g: { kernel: [5, 5], dilation: [1, 1], freqStride: 1, padTime: [4, 0], padFreq: [0, 0] },
    },
    ...[1, 2, 3, 8].flatMap((d) =>
      [false, true].map((causal) => ({
        name: `temporal k=3 dilation ${d}${causal ? ' causal' : ''}`,
        xs: [2, 13, 1, 4] as Shape4,
        ws: [3, 1, 4] as [number, number, number],
        g: temporalGeometry(3, d, causal),
      })),
    ),
    {
      name: 'temporal k=4 dilation 2 on 2 bins (uneven same padding)',
      xs: [1, 7, 2, 3],
      ws: [4, 1, 3],
      g: temporalGeometry(4, 2, false),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: equals the tap path on cpu, and wasm equals cpu`, async () => {
      const x = randn(
        c.xs.reduce((a, b) => a * b, 1),
        1,
      );
      const w = randn(
        c.ws.reduce((a, b) => a * b, 1),
        2,
      );
      const ref = referenceConv(x, c.xs, w, c.ws, c.g);
      const tap = convGrads('tap', x, c.xs, w, c.ws, c.g);
      const core = convGrads('auto', x, c.xs, w, c.ws, c.g);
      expect(maxAbsDiff(tap[0] as Float32Array, ref.data)).toBeLessThan(1e-5);
      for (let i = 0; i < 3; i++) {
        expect(maxAbsDiff(core[i] as Float32Array, tap[i] as Float32Array)).toBeLessThan(2e-5);
      }
      registerWasmTrainingKernels();
      await tf.setBackend('wasm');
      const wasm = convGrads('auto', x, c.xs, w, c.ws, c.g);
      for (let i = 0; i < 3; i++) {
        const a = wasm[i] as Float32Array;
        const b = core[i] as Float32Array;
        const scale = Math.max(1, ...Array.from(b, Math.abs));
        expect(maxAbsDiff(a, b) / scale).toBeLessThan(1e-4);
      }
    });
  }

  it('the input gradient of a dilated temporal conv matches finite differences', () => {
    const xs: Shape4 = [1, 9, 1, 2];
    const ws: [number, number, number] = [3, 1, 2];
    const g = temporalGeometry(3, 3, false);
    const x = randn(18, 3);
    const w = randn(6, 4);
    const [, gx, gw] = convGrads('auto', x, xs, w, ws, g);
    const [outT, outF] = tapOutputSize(xs[1], xs[2], g);
    const r = randn(xs[0] * outT * outF * ws[2], 5);
    const loss = (xv: Float32Array, wv: Float32Array): number => {
      const y = referenceConv(xv, xs, wv, ws, g).data;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += (y[i] as number) * (r[i] as number);
      return s;
    };
    const h = 1e-2;
    for (const [vec, grad, isX] of [
      [x, gx, true],
      [w, gw, false],
    ] as const) {
      for (let i = 0; i < vec.length; i++) {
        const plus = Float32Array.from(vec);
        const minus = Float32Array.from(vec);
        plus[i] = (plus[i] as number) + h;
        minus[i] = (minus[i] as number) - h;
        const fd = isX
          ? (loss(plus, w) - loss(minus, w)) / (2 * h)
          : (loss(x, plus) - loss(x, minus)) / (2 * h);
        expect(Math.abs(fd - ((grad as Float32Array)[i] as number))).toBeLessThan(1e-3);
      }
    }
  });
});

describe('registerBatchNormGradient', () => {
  /** Gradients of Σ r·batchNorm(x; moments(x), γ, β) w.r.t. x, γ, β (training-mode BN, as tfjs-layers). */
  function bnGrads(xs: number[]): Float32Array[] {
    return tf.tidy(() => {
      const n = xs.reduce((a, b) => a * b, 1);
      const c = xs[xs.length - 1] as number;
      const x = tf.tensor(randn(n, 61), xs);
      const r = tf.tensor(randn(n, 62), xs);
      const gamma = tf.tensor1d(randn(c, 63));
      const beta = tf.tensor1d(randn(c, 64));
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const axes = xs.slice(0, -1).map((_, i) => i);
        const { mean, variance } = tf.moments(a, axes);
        const y = tf.batchNorm(a, mean, variance, b, g, 1e-3);
        return tf.sum(tf.mul(y, r));
      };
      // Always with a scale: tfjs 4.22 cannot record batchNorm without one on a tape (it tries
      // to save the missing input), whichever gradient is registered.
      const grads = tf.grads(f)([x, gamma, beta]);
      return grads.map((t) => t.dataSync() as Float32Array);
    });
  }

  it('gives the stock tfjs gradients (cpu and wasm) and is idempotent', async () => {
    const stock = tf.getGradient('FusedBatchNorm') as tf.GradConfig;
    const shapes = [
      [3, 5, 4, 6],
      [7, 5],
    ];
    try {
      const expected = shapes.map((xs) => bnGrads(xs));
      expect(registerBatchNormGradient()).toBe(true);
      expect(registerBatchNormGradient()).toBe(false);
      for (const backend of ['cpu', 'wasm']) {
        expect(await tf.setBackend(backend)).toBe(true);
        const got = shapes.map((xs) => bnGrads(xs));
        got.forEach((grads, k) => {
          grads.forEach((g, i) => {
            const e = (expected[k] as Float32Array[])[i] as Float32Array;
            const scale = Math.max(1e-2, ...Array.from(e, Math.abs));
            expect(maxAbsDiff(g, e) / scale).toBeLessThan(1e-5);
          });
        });
      }
    } finally {
      tf.registerGradient(stock);
    }
  });
});
