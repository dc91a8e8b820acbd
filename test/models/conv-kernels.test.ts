import { describe, expect, it } from 'vitest';
import {
  type ConvGeometry,
  type ConvKernel,
  conv5x5,
  padFrames,
  type ResidualOperands,
  residualFreqConv,
  siluOf,
  timeConv,
  timeConv3Silu,
  timeConvSilu,
} from '../../src/models/conv-kernels.js';
import { createRng } from '../../src/random.js';

// The compiled conv runtime's fused kernels against the unfused ones and the formulas, in
// float64. Fusion and the halved weights of a ReLU must not change a bit.

const rng = createRng(31);
const doubles = (n: number, scale = 1): Float64Array =>
  Float64Array.from({ length: n }, () => scale * rng.normal());

/** A temporal (kf = 1) geometry: `frames × rows × C`, `kt` taps spaced `dt`, `padTime` zeros before. */
function timeGeometry(
  rows: number,
  C: number,
  kt: number,
  dt: number,
  padTime: number,
  groups: number,
): ConvGeometry {
  return {
    frames: 101,
    rows,
    outFrames: 101,
    outRows: rows,
    channels: C,
    kt,
    kf: 1,
    dt,
    df: 1,
    stride: 1,
    padTime,
    padRows: 0,
    rowsPerGroup: rows / groups,
  };
}

describe('siluOf', () => {
  it('equals a / (1 + e^−a) to 1e-9 relative, and a or 0 far out', () => {
    let worst = 0;
    for (let a = -40; a <= 40; a += 0.001237) {
      const exact = a / (1 + Math.exp(-a));
      worst = Math.max(worst, Math.abs(siluOf(a) - exact) / Math.max(Math.abs(exact), 1e-300));
    }
    expect(worst).toBeLessThan(1e-9);
    expect(siluOf(0)).toBe(0);
    expect(siluOf(1e-300)).toBe(5e-301);
    expect(siluOf(1000)).toBe(1000);
    expect(siluOf(41)).toBe(41);
    expect(Math.abs(siluOf(-1000))).toBeLessThan(1e-14);
    expect(siluOf(-1000)).toBeLessThanOrEqual(0);
  });
});

describe('timeConv3Silu and timeConvSilu', () => {
  // BC-ResNet's temporal shapes ('same' and causal padding, dilations 1–8, one row), and rows with
  // weight groups (a folded SubSpectralNorm), and a 5-tap convolution for the general path.
  const cases: [string, ConvGeometry][] = [
    ['8 ch, dilation 1, same', timeGeometry(1, 8, 3, 1, 1, 1)],
    ['20 ch, dilation 8, same', timeGeometry(1, 20, 3, 8, 8, 1)],
    ['12 ch, dilation 4, causal', timeGeometry(1, 12, 3, 4, 8, 1)],
    ['3 rows × 5 ch, 3 groups', timeGeometry(3, 5, 3, 2, 2, 3)],
    ['5 taps, 7 ch', timeGeometry(1, 7, 5, 3, 6, 1)],
  ];
  it.each(cases)('%s: equal timeConv then SiLU, bit for bit', (_, g) => {
    const groups = g.outRows / g.rowsPerGroup;
    const k: ConvKernel = { g, w: doubles(groups * g.kt * g.channels), bias: doubles(groups * g.channels) };
    const x = doubles(g.frames * g.rows * g.channels, 3);
    const size = g.outFrames * g.outRows * g.channels;
    const ref = new Float64Array(size);
    timeConv(x, k, ref, false);
    for (let i = 0; i < size; i++) ref[i] = siluOf(ref[i] as number);
    const fused = new Float64Array(size);
    if (g.kt === 3) {
      timeConv3Silu(x, k, fused);
      expect(Array.from(fused)).toEqual(Array.from(ref));
    }
    const general = new Float64Array(size);
    timeConvSilu(x, k, general);
    expect(Array.from(general)).toEqual(Array.from(ref));
  });
});

describe('a fused ReLU', () => {
  it('conv5x5 with relu (through halved weights) stores max(0, ·) of its linear output, bit for bit', () => {
    // BC-ResNet-1's stem: 40 bins, stride 2, 16 channels, 2 zero frames and rows each side.
    const frames = 101;
    const g: ConvGeometry = {
      frames,
      rows: 40,
      outFrames: frames,
      outRows: 20,
      channels: 16,
      kt: 5,
      kf: 5,
      dt: 1,
      df: 1,
      stride: 2,
      padTime: 2,
      padRows: 2,
      rowsPerGroup: 20,
    };
    const k: ConvKernel = { g, w: doubles(25 * 16, 0.3), bias: doubles(16) };
    const paddedRows = 44;
    const xp = new Float64Array((frames + 4) * paddedRows);
    padFrames(doubles(frames * 40), frames, 40, 1, 2, 2, paddedRows, xp);
    const linear = new Float64Array(frames * 20 * 16);
    const relu = new Float64Array(frames * 20 * 16);
    conv5x5(xp, paddedRows, 1, 0, k, linear, false);
    conv5x5(xp, paddedRows, 1, 0, k, relu, true);
    expect(Array.from(relu)).toEqual(Array.from(linear, (v) => Math.max(0, v)));
    expect(linear.some((v) => v < 0)).toBe(true);
  });

  it.each([1, 2])(
    'residualFreqConv (stride %i) with relu stores max(0, ·) of its linear output',
    (stride) => {
      const rows = 20;
      const outRows = rows / stride;
      const C = 6;
      const g: ConvGeometry = {
        frames: 101,
        rows,
        outFrames: 101,
        outRows,
        channels: C,
        kt: 1,
        kf: 3,
        dt: 1,
        df: 1,
        stride,
        padTime: 0,
        padRows: 1,
        rowsPerGroup: outRows / 5,
      };
      const k: ConvKernel = { g, w: doubles(5 * 3 * C), bias: doubles(5 * C) };
      const x = doubles(101 * rows * C);
      const e = doubles(101 * C);
      const operands = (relu: boolean): ResidualOperands => ({
        x,
        k,
        e,
        y: new Float64Array(101 * outRows * C),
        relu,
        mean: null,
        meanW: x,
        meanB: x,
      });
      const linear = operands(false);
      const relu = operands(true);
      residualFreqConv(linear);
      residualFreqConv(relu);
      expect(Array.from(relu.y)).toEqual(Array.from(linear.y, (v) => Math.max(0, v)));
    },
  );
});
