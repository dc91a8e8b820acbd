import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/random.js';
import { ChannelConv } from '../../src/train/compiled/channel-conv.js';
import { channelMaskBackward, channelMaskForward } from '../../src/train/compiled/channel-mask-grad.js';
import type { ChannelConvGeometry } from '../../src/train/compiled/conv-grad.js';
import {
  accumulateWeightGrad,
  denseBackward,
  denseForward,
  densePanels,
} from '../../src/train/compiled/dense-grad.js';
import {
  addBackward,
  addForward,
  meanBackward,
  meanForward,
  swishBackward,
  swishForward,
} from '../../src/train/compiled/elementwise-grad.js';
import { batchNormBackward, batchNormForward } from '../../src/train/compiled/norm-grad.js';

// The compiled trainer's kernels for BC-ResNet's shapes (and their remainders and fallbacks)
// against the formulas written as plain loops in float64.

const rng = createRng(11);
const floats = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const doubles = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());

/** Max |a − b| over max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return err / scale;
}

/** y, dx and dw of a per-channel convolution from its definition (`conv-grad.ts`). */
function referenceConv(
  g: ChannelConvGeometry,
  batch: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const {
    frames,
    rows: bins,
    inChannels: ci,
    outFrames,
    outRows: outBins,
    channels: C,
    kt,
    kf,
    dt,
    df,
    stride,
  } = g;
  const y = new Float64Array(batch * outFrames * outBins * C);
  const dx = new Float64Array(batch * frames * bins * ci);
  const dw = new Float64Array(kt * kf * C);
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      for (let f = 0; f < outBins; f++) {
        for (let c = 0; c < C; c++) {
          const o = ((n * outFrames + t) * outBins + f) * C + c;
          for (let i = 0; i < kt; i++) {
            for (let j = 0; j < kf; j++) {
              const ti = t + i * dt - g.padTime;
              const fj = f * stride + j * df - g.padRows;
              if (ti < 0 || ti >= frames || fj < 0 || fj >= bins) continue;
              const xi = ((n * frames + ti) * bins + fj) * ci + (ci === 1 ? 0 : c);
              const wi = (i * kf + j) * C + c;
              y[o] = (y[o] as number) + (x[xi] as number) * (w[wi] as number);
              dx[xi] = (dx[xi] as number) + (dy[o] as number) * (w[wi] as number);
              dw[wi] = (dw[wi] as number) + (dy[o] as number) * (x[xi] as number);
            }
          }
        }
      }
    }
  }
  return { y, dx, dw };
}

function geometry(g: Omit<ChannelConvGeometry, 'outFrames' | 'outRows'>): ChannelConvGeometry {
  const span = (g.kf - 1) * g.df + 1;
  const outRows = Math.floor((g.rows + 2 * g.padRows - span) / g.stride) + 1;
  return { ...g, outFrames: g.frames, outRows };
}

const CONVS: [string, ChannelConvGeometry][] = [
  [
    'stem 5×5, 1 → 4, freq stride 2',
    geometry({
      frames: 9,
      rows: 20,
      inChannels: 1,
      channels: 4,
      kt: 5,
      kf: 5,
      dt: 1,
      df: 1,
      stride: 2,
      padTime: 2,
      padRows: 2,
    }),
  ],
  [
    'causal 5×5, 1 → 3',
    geometry({
      frames: 7,
      rows: 9,
      inChannels: 1,
      channels: 3,
      kt: 5,
      kf: 5,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 4,
      padRows: 2,
    }),
  ],
  [
    "classifier's depthwise 5×5 over 5 bins",
    geometry({
      frames: 8,
      rows: 5,
      inChannels: 3,
      channels: 3,
      kt: 5,
      kf: 5,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 2,
      padRows: 0,
    }),
  ],
  [
    'frequency 3-tap, stride 1, 10 bins',
    geometry({
      frames: 6,
      rows: 10,
      inChannels: 3,
      channels: 3,
      kt: 1,
      kf: 3,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 0,
      padRows: 1,
    }),
  ],
  [
    'frequency 3-tap, stride 2, 20 → 10 bins',
    geometry({
      frames: 5,
      rows: 20,
      inChannels: 2,
      channels: 2,
      kt: 1,
      kf: 3,
      dt: 1,
      df: 1,
      stride: 2,
      padTime: 0,
      padRows: 1,
    }),
  ],
  [
    'frequency 3-tap, stride 1, 7 bins (general loop)',
    geometry({
      frames: 4,
      rows: 7,
      inChannels: 3,
      channels: 3,
      kt: 1,
      kf: 3,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 0,
      padRows: 1,
    }),
  ],
  [
    'frequency 3-tap, stride 2, 9 → 5 bins (general loop)',
    geometry({
      frames: 4,
      rows: 9,
      inChannels: 2,
      channels: 2,
      kt: 1,
      kf: 3,
      dt: 1,
      df: 1,
      stride: 2,
      padTime: 0,
      padRows: 1,
    }),
  ],
  [
    'temporal 3-tap, dilation 2',
    geometry({
      frames: 11,
      rows: 1,
      inChannels: 5,
      channels: 5,
      kt: 3,
      kf: 1,
      dt: 2,
      df: 1,
      stride: 1,
      padTime: 2,
      padRows: 0,
    }),
  ],
  [
    'causal temporal 3-tap, dilation 4, two rows',
    geometry({
      frames: 9,
      rows: 2,
      inChannels: 3,
      channels: 3,
      kt: 3,
      kf: 1,
      dt: 4,
      df: 1,
      stride: 1,
      padTime: 8,
      padRows: 0,
    }),
  ],
  [
    'temporal 3-tap, dilation 8 beyond the frames',
    geometry({
      frames: 6,
      rows: 1,
      inChannels: 2,
      channels: 2,
      kt: 3,
      kf: 1,
      dt: 8,
      df: 1,
      stride: 1,
      padTime: 8,
      padRows: 0,
    }),
  ],
  [
    'temporal 5-tap (general loop)',
    geometry({
      frames: 8,
      rows: 1,
      inChannels: 2,
      channels: 2,
      kt: 5,
      kf: 1,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 2,
      padRows: 0,
    }),
  ],
  [
    'depthwise 3×3 (general loop)',
    geometry({
      frames: 6,
      rows: 6,
      inChannels: 3,
      channels: 3,
      kt: 3,
      kf: 3,
      dt: 1,
      df: 1,
      stride: 1,
      padTime: 1,
      padRows: 1,
    }),
  ],
];

describe('ChannelConv', () => {
  it.each(CONVS)('%s: output, input and kernel gradients equal the definition', (_, g) => {
    const batch = 3;
    const x = floats(batch * g.frames * g.rows * g.inChannels);
    const dy = floats(batch * g.outFrames * g.outRows * g.channels);
    const w = doubles(g.kt * g.kf * g.channels);
    const ref = referenceConv(g, batch, x, w, dy);
    const conv = new ChannelConv(g, w);
    conv.alloc(batch);
    const y = new Float32Array(ref.y.length).fill(Number.NaN);
    conv.forward(batch, x, y);
    expect(relError(y, ref.y)).toBeLessThan(1e-6);
    // Overwriting: stale values in dx must not leak; adding: onto a known base.
    const assigned = new Float32Array(ref.dx.length).fill(Number.NaN);
    const dw = new Float64Array(ref.dw.length);
    conv.backward(batch, x, dy, assigned, true, dw);
    expect(relError(assigned, ref.dx)).toBeLessThan(1e-6);
    expect(relError(dw, ref.dw)).toBeLessThan(1e-12);
    const base = floats(ref.dx.length);
    const added = Float32Array.from(base);
    const dw2 = new Float64Array(ref.dw.length).fill(1);
    conv.backward(batch, x, dy, added, false, dw2);
    expect(
      relError(
        added,
        ref.dx.map((v, i) => v + (base[i] as number)),
      ),
    ).toBeLessThan(1e-6);
    expect(
      relError(
        dw2,
        ref.dw.map((v) => v + 1),
      ),
    ).toBeLessThan(1e-12);
    // The model input: no input gradient.
    const dw3 = new Float64Array(ref.dw.length);
    conv.backward(batch, x, dy, null, true, dw3);
    expect(dw3).toEqual(dw);
  });
});

describe('Dense kernels', () => {
  it.each([
    [7, 1, 1],
    [9, 2, 3],
    [5, 3, 4],
    [8, 5, 6],
    [11, 12, 8],
    [6, 7, 13],
    [5, 16, 6],
    [4, 8, 16],
  ])('rows %i, %i → %i: forward, dX (assigned and added), dW and db equal the definition', (rows, K, J) => {
    const x = floats(rows * K);
    const w = doubles(K * J);
    const bias = doubles(J);
    const dy = floats(rows * J);
    const y = new Float32Array(rows * J);
    const p = densePanels(K, J);
    denseForward(rows, p, w, bias, x, y);
    const refY = new Float64Array(rows * J);
    const refDx = new Float64Array(rows * K);
    const refDw = new Float64Array(K * J);
    const refDb = new Float64Array(J);
    for (let m = 0; m < rows; m++) {
      for (let j = 0; j < J; j++) {
        let s = bias[j] as number;
        for (let k = 0; k < K; k++) {
          s += (x[m * K + k] as number) * (w[k * J + j] as number);
          refDx[m * K + k] =
            (refDx[m * K + k] as number) + (dy[m * J + j] as number) * (w[k * J + j] as number);
          refDw[k * J + j] =
            (refDw[k * J + j] as number) + (x[m * K + k] as number) * (dy[m * J + j] as number);
        }
        refY[m * J + j] = s;
        refDb[j] = (refDb[j] as number) + (dy[m * J + j] as number);
      }
    }
    expect(relError(y, refY)).toBeLessThan(1e-6);
    const dx = new Float32Array(rows * K).fill(Number.NaN);
    const dw = new Float64Array(K * J);
    const db = new Float64Array(J);
    denseBackward(rows, p, w, x, dy, dx, true, new Float32Array(0), dw, db);
    expect(relError(dx, refDx)).toBeLessThan(1e-6);
    expect(relError(dw, refDw)).toBeLessThan(1e-12);
    expect(relError(db, refDb)).toBeLessThan(1e-12);
    const base = floats(rows * K);
    const added = Float32Array.from(base);
    denseBackward(rows, p, w, x, dy, added, false, new Float32Array(rows * K), dw, null);
    expect(
      relError(
        added,
        refDx.map((v, i) => v + (base[i] as number)),
      ),
    ).toBeLessThan(1e-6);
    expect(
      relError(
        dw,
        refDw.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-12);
  });

  it('accumulates the weight gradient over more rows than one chunk', () => {
    const [rows, K, J] = [300, 7, 5];
    const x = floats(rows * K);
    const dy = floats(rows * J);
    const dw = new Float64Array(K * J).fill(0.5);
    accumulateWeightGrad(rows, K, J, x, dy, dw);
    const ref = new Float64Array(K * J).fill(0.5);
    for (let m = 0; m < rows; m++) {
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < J; j++) {
          ref[k * J + j] = (ref[k * J + j] as number) + (x[m * K + k] as number) * (dy[m * J + j] as number);
        }
      }
    }
    expect(relError(dw, ref)).toBeLessThan(1e-12);
  });
});

describe('batch normalisation kernels', () => {
  it.each([
    [1, 3, 5, false, true],
    [1, 4, 3, true, false],
    [5, 2, 3, false, false],
    [5, 1, 4, true, true],
  ])(
    '%i sub-bands of %i bins × %i channels (ReLU %s, assign %s): forward and backward equal the formulas',
    (S, B, C, relu, assign) => {
      const rows = 37;
      const width = S * B * C;
      const stats = S * C;
      const x = Float32Array.from({ length: rows * width }, () => 0.7 + 1.3 * rng.normal());
      const gamma = doubles(stats);
      const beta = doubles(stats);
      const eps = 1e-3;
      const shape = { rows, subBands: S, bandBins: B, channels: C };
      const y = new Float32Array(rows * width);
      const mean = new Float64Array(stats);
      const variance = new Float64Array(stats);
      const rstd = new Float64Array(stats);
      const scale = new Float64Array(stats);
      const shift = new Float64Array(stats);
      const colA = new Float64Array(width);
      const colB = new Float64Array(width);
      const colC = new Float64Array(width);
      batchNormForward(shape, x, gamma, beta, eps, relu, y, mean, variance, rstd, scale, shift, colA, colB);
      // Reference: statistic index of element (r, k) is s·C + c with k = (s·B + b)·C + c.
      const stat = (k: number): number => Math.floor(k / (B * C)) * C + (k % C);
      const m = new Float64Array(stats);
      const v = new Float64Array(stats);
      const count = rows * B;
      for (let i = 0; i < rows * width; i++)
        m[stat(i % width)] = (m[stat(i % width)] as number) + (x[i] as number) / count;
      for (let i = 0; i < rows * width; i++) {
        const d = (x[i] as number) - (m[stat(i % width)] as number);
        v[stat(i % width)] = (v[stat(i % width)] as number) + (d * d) / count;
      }
      expect(relError(mean, m)).toBeLessThan(1e-12);
      expect(relError(variance, v)).toBeLessThan(1e-9);
      const xhat = new Float64Array(rows * width);
      const refY = new Float64Array(rows * width);
      for (let i = 0; i < rows * width; i++) {
        const s = stat(i % width);
        xhat[i] = ((x[i] as number) - (m[s] as number)) / Math.sqrt((v[s] as number) + eps);
        const z = (gamma[s] as number) * (xhat[i] as number) + (beta[s] as number);
        refY[i] = relu ? Math.max(0, z) : z;
      }
      expect(relError(y, refY)).toBeLessThan(1e-6);
      const dy = floats(rows * width);
      const dz = dy.map((d, i) => (relu && !((y[i] as number) > 0) ? 0 : d));
      const dBeta = new Float64Array(stats);
      const dGamma = new Float64Array(stats);
      for (let i = 0; i < rows * width; i++) {
        const s = stat(i % width);
        dBeta[s] = (dBeta[s] as number) + (dz[i] as number);
        dGamma[s] = (dGamma[s] as number) + (dz[i] as number) * (xhat[i] as number);
      }
      const refDx = new Float64Array(rows * width);
      for (let i = 0; i < rows * width; i++) {
        const s = stat(i % width);
        const r = 1 / Math.sqrt((v[s] as number) + eps);
        refDx[i] =
          (gamma[s] as number) *
          r *
          ((dz[i] as number) -
            (dBeta[s] as number) / count -
            ((xhat[i] as number) * (dGamma[s] as number)) / count);
      }
      const base = floats(rows * width);
      const dx = assign ? new Float32Array(rows * width).fill(Number.NaN) : Float32Array.from(base);
      const dg = new Float64Array(stats);
      const db = new Float64Array(stats);
      const sums = new Float64Array(2 * stats);
      batchNormBackward(shape, x, y, relu, mean, rstd, scale, dy, dx, dg, db, sums, colA, colB, colC, assign);
      expect(relError(dg, dGamma)).toBeLessThan(1e-9);
      expect(relError(db, dBeta)).toBeLessThan(1e-9);
      expect(relError(dx, assign ? refDx : refDx.map((d, i) => d + (base[i] as number)))).toBeLessThan(1e-5);
    },
  );
});

describe('elementwise kernels', () => {
  it.each([
    [true, true, true, true],
    [true, false, true, true],
    [false, true, false, false],
    [true, true, false, false],
    [false, false, true, false],
  ])(
    'add (b %s, broadcast %s, ReLU %s, assign %s) and its gradient equal the definition',
    (withB, withE, relu, assign) => {
      // Six channels: a block of four (the ReLU loops) and a tail of two.
      const [rows, bins, C] = [6, 5, 6];
      const n = rows * bins * C;
      const a = floats(n);
      const b = withB ? floats(n) : null;
      const e = withE ? floats(rows * C) : null;
      const y = new Float32Array(n);
      addForward(rows, bins, C, a, b, e, relu, y);
      const ref = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const s =
          (a[i] as number) +
          (b === null ? 0 : (b[i] as number)) +
          (e === null ? 0 : (e[Math.floor(i / (bins * C)) * C + (i % C)] as number));
        ref[i] = relu ? Math.max(0, s) : s;
      }
      expect(relError(y, ref)).toBeLessThan(1e-6);
      const dy = floats(n);
      const dz = dy.map((d, i) => (relu && !((y[i] as number) > 0) ? 0 : d));
      const baseA = floats(n);
      const baseB = floats(n);
      const da = assign ? new Float32Array(n).fill(Number.NaN) : Float32Array.from(baseA);
      const db = b === null ? null : assign ? new Float32Array(n).fill(Number.NaN) : Float32Array.from(baseB);
      const de = e === null ? null : new Float32Array(rows * C).fill(0.25);
      addBackward(rows, bins, C, y, relu, Float32Array.from(dy), da, assign, db, assign, de);
      expect(relError(da, assign ? dz : dz.map((d, i) => d + (baseA[i] as number)))).toBeLessThan(1e-6);
      if (db !== null)
        expect(relError(db, assign ? dz : dz.map((d, i) => d + (baseB[i] as number)))).toBeLessThan(1e-6);
      if (de !== null) {
        const refDe = new Float64Array(rows * C).fill(0.25);
        for (let i = 0; i < n; i++) {
          const k = Math.floor(i / (bins * C)) * C + (i % C);
          refDe[k] = (refDe[k] as number) + (dz[i] as number);
        }
        expect(relError(de, refDe)).toBeLessThan(1e-6);
      }
    },
  );

  it.each([
    [4, 5, 3, true],
    [3, 7, 8, false],
    [2, 2, 5, true],
  ])(
    'mean of %i groups × %i positions × %i channels (assign %s) and its gradient',
    (groups, len, C, assign) => {
      const x = floats(groups * len * C);
      const y = new Float32Array(groups * C);
      meanForward(groups, len, C, x, y);
      const ref = new Float64Array(groups * C);
      for (let i = 0; i < x.length; i++) {
        const k = Math.floor(i / (len * C)) * C + (i % C);
        ref[k] = (ref[k] as number) + (x[i] as number) / len;
      }
      expect(relError(y, ref)).toBeLessThan(1e-6);
      const dy = floats(groups * C);
      const base = floats(x.length);
      const dx = assign ? new Float32Array(x.length).fill(Number.NaN) : Float32Array.from(base);
      meanBackward(groups, len, C, dy, dx, assign);
      const refDx = base.map(
        (v, i) => (assign ? 0 : v) + (dy[Math.floor(i / (len * C)) * C + (i % C)] as number) / len,
      );
      expect(relError(dx, refDx)).toBeLessThan(1e-6);
    },
  );

  it('swish and its gradient equal x·σ(x) with Math.exp', () => {
    const n = 257;
    const x = Float32Array.from({ length: n }, () => 6 * rng.normal());
    const y = new Float32Array(n);
    const sig = new Float32Array(n);
    swishForward(n, x, y, sig);
    const s = Float64Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    expect(
      relError(
        y,
        s.map((v, i) => v * (x[i] as number)),
      ),
    ).toBeLessThan(1e-6);
    const dy = floats(n);
    const dx = new Float32Array(n).fill(Number.NaN);
    swishBackward(n, x, sig, dy, dx, true);
    const ref = s.map((v, i) => (dy[i] as number) * (v + (x[i] as number) * v * (1 - v)));
    expect(relError(dx, ref)).toBeLessThan(1e-6);
  });

  it.each([true, false])('channel mask and its gradient (assign %s) equal the definition', (assign) => {
    // Six channels: a block of four and a tail of two.
    const [batch, positions, C] = [3, 7, 6];
    const n = batch * positions * C;
    const x = floats(n);
    const mask = Float32Array.from({ length: batch * C }, (_, k) => (k % 3 === 0 ? 0 : 1.25));
    const at = (i: number): number => mask[Math.floor(i / (positions * C)) * C + (i % C)] as number;
    const y = new Float32Array(n);
    channelMaskForward(batch, positions, C, x, mask, y);
    expect(Array.from(y)).toEqual(Array.from(x, (v, i) => Math.fround(v * at(i))));
    const dy = floats(n);
    const base = floats(n);
    const dx = assign ? new Float32Array(n).fill(Number.NaN) : Float32Array.from(base);
    channelMaskBackward(batch, positions, C, mask, dy, dx, assign);
    const ref = Float64Array.from(dy, (d, i) => (assign ? 0 : (base[i] as number)) + d * at(i));
    expect(relError(dx, ref)).toBeLessThan(1e-6);
  });
});
