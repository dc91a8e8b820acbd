/**
 * Compute kernels of the compiled conv runtime ({@link compileConvNet}): plain functions on
 * `Float64Array`s in the runtime's layout, with no allocation, no closures and no calls in their
 * inner loops except to small functions V8 inlines. The compiled trainer's forward passes call
 * {@link conv5x5}, {@link residualFreqConv} and {@link timeConv} on its `Float32Array`
 * activations ({@link FloatArray}).
 *
 * Layout: a feature map of `T` frames, `R` frequency rows and `C` channels is stored
 * channels-last, `x[(t·R + r)·C + c]`; a vector after the time pooling is `T = R = 1`.
 *
 * Activation: kernels that write a layer output take `relu` and apply `max(0, ·)` as they store,
 * written branch-free and inline as `(v + |v|) · 0.5` (exact, as 2v and the halving are): a
 * `v > 0 ? v : 0` compiles to a branch that mispredicts on about half of a network's values
 * (measured 15–25 % slower), and a helper function costs V8 an identity check per call. The
 * FP-bound kernels ({@link conv5x5}, and the weight-stationary products of `panel-matmul.ts`)
 * halve their weights and bias when they apply a ReLU, so that the store is `u + |u|` of the
 * halved sum `u`: exact (a power of two), the same results bit for bit, one multiplication less
 * per output (0.93–0.97× their time; no gain measured in the residual kernel, which keeps the
 * plain form). Other activations (an upper clip, …) run over the output afterwards: a clip bound
 * passed as a number would stay live in a floating-point register through the multiply-add
 * loops, and V8 has only 16 of them (measured 25–30 % slower matrix products); BC-ResNet's SiLU
 * after its temporal convolution has its own fused kernel ({@link timeConv3Silu}).
 *
 * Cost model (V8, measured here): a typed-array access costs several instructions (map, bounds
 * and base checks are not hoisted out of loops), a local variable none. So kernels maximise the
 * work per access. The matrix products (1×1 convolutions) and the general 1 → C convolution are
 * the panel kernels of `panel-matmul.ts`, which the CRNN runtime shares. The
 * kernels for BC-ResNet's fixed shapes ({@link conv5x5}, {@link residualFreqConv},
 * {@link freqConvMean}, {@link timeConv}) hold their weights in local variables and loop over
 * frames innermost: 1.6–2.8× faster than the general loops they fall back to for other shapes
 * (interleaved A/B on BC-ResNet-1's shapes, one process), which is why both exist.
 *
 * V8 compiles a loop worse inside a larger function or with a choice made per element (a flag
 * tested in the loop, a second loop beside it): the same inner loop measured up to 1.25–2× slower
 * so. Hence kernels of their own for fused variants, and loop-invariant choices made outside the
 * loops. Only A/B runs with all of a model's shapes in one process count: a kernel timed on one
 * shape alone can look 2× faster than it is in the runtime.
 *
 * @internal
 * @packageDocumentation
 */
import { type FloatArray, matRows, type Panels } from './panel-matmul.js';

/** Geometry of a per-channel convolution over (time, frequency rows). */
export interface ConvGeometry {
  /** Input frames and rows. */
  readonly frames: number;
  readonly rows: number;
  /** Output frames, rows and channels. */
  readonly outFrames: number;
  readonly outRows: number;
  readonly channels: number;
  /** Taps along time and frequency. */
  readonly kt: number;
  readonly kf: number;
  /** Tap spacing along time and frequency. */
  readonly dt: number;
  readonly df: number;
  /** Output stride along frequency (time is not strided). */
  readonly stride: number;
  /** Zero frames / rows before the input. */
  readonly padTime: number;
  readonly padRows: number;
  /**
   * Output rows per weight group: output row `r` uses weight set `⌊r / rowsPerGroup⌋` (a folded
   * SubSpectralNorm gives each sub-band its own scaled copy; `outRows` otherwise).
   */
  readonly rowsPerGroup: number;
}

/**
 * A per-channel convolution as the kernels take it: its geometry, its weights `W`
 * `[groups, kt, kf, C]` (a folded normalisation gives each weight group, a sub-band of output
 * rows, its own scaled copy) and bias `[groups, C]`.
 */
export interface ConvKernel {
  readonly g: ConvGeometry;
  readonly w: Float64Array;
  readonly bias: Float64Array;
}

/** The operands of one {@link residualFreqConv} call, bound once when the program is built. */
export interface ResidualOperands {
  /** Block input `[frames, rows, C]`. */
  readonly x: FloatArray;
  /** The 3-tap frequency convolution: `kt = 1`, `kf = 3`, `df = 1`, one zero row each side. */
  readonly k: ConvKernel;
  /** Broadcast term `[frames, 1, C]` (the temporal path), or null. */
  readonly e: Float64Array | null;
  /** Output `[frames, outRows, C]`. */
  readonly y: FloatArray;
  readonly relu: boolean;
  /**
   * The next block's `FrequencyMean` of `y` (`[frames, C]`), computed with its
   * {@link freqConvMean} weights `meanW` (`[outRows, C]`) and bias `meanB` (`[C]`); null for
   * none (then `meanW` and `meanB` are any arrays, never read).
   */
  readonly mean: Float64Array | null;
  readonly meanW: Float64Array;
  readonly meanB: Float64Array;
}

/**
 * Rows of the window of {@link planeConv}: every frequency tap of every output inside, the
 * padding rows zero.
 */
export function planeWindowRows(g: ConvGeometry): number {
  return Math.max(g.padRows + g.rows, (g.outRows - 1) * g.stride + (g.kf - 1) * g.df + 1);
}

/**
 * Full 1 → C convolution of a spectrogram plane `x` (`[frames, rows]`: `SpectralConv` on a
 * 1-channel input other than a 5×5 one, which {@link conv5x5} runs):
 *
 * `y[t, r, c] = act(b[g, c] + Σ_{i<kt, j<kf} x[t + i·dt − pt, r·s + j·df − pr] · W[g, i, j, c])`
 *
 * (zero outside the input), `g` the weight group of row `r`. Per output frame the `kt'` frames
 * it reads are copied transposed into `window` (`[planeWindowRows(g), kt']`, `kt' = (kt − 1)·dt
 * + 1`, its padding rows zero at allocation and never written), where each output's taps form
 * one contiguous run, and the rows of each weight group are one {@link matRows} over the group's
 * `panels` (from `convTapPanels`).
 */
export function planeConv(
  x: Float64Array,
  g: ConvGeometry,
  panels: readonly Panels[],
  window: Float64Array,
  y: Float64Array,
  relu: boolean,
): void {
  const { frames, rows, outFrames, outRows, channels: C, kt, dt, stride, padTime, padRows, rowsPerGroup } = g;
  const span = (kt - 1) * dt + 1;
  for (let t = 0; t < outFrames; t++) {
    for (let i = 0; i < span; i++) {
      const f = t + i - padTime;
      const inside = f >= 0 && f < frames;
      for (let r = 0; r < rows; r++)
        window[(padRows + r) * span + i] = inside ? (x[f * rows + r] as number) : 0;
    }
    for (let r0 = 0; r0 < outRows; r0 += rowsPerGroup) {
      const p = panels[r0 / rowsPerGroup] as Panels;
      matRows(p, window, r0 * stride * span, stride * span, rowsPerGroup, y, (t * outRows + r0) * C, C, relu);
    }
  }
}

/**
 * Copies `x` (`[frames, rows, C]` from `xOff`) into the interior of the zero-bordered `xp`
 * (`[·, paddedRows, C]` from `xpOff`), starting at frame `padTime` and row `padRows`; the border,
 * zero at allocation, is never written.
 */
export function padFrames(
  x: FloatArray,
  frames: number,
  rows: number,
  C: number,
  padTime: number,
  padRows: number,
  paddedRows: number,
  xp: Float64Array,
  xOff = 0,
  xpOff = 0,
): void {
  const run = rows * C;
  for (let t = 0; t < frames; t++) {
    const src = xOff + t * run;
    const dst = xpOff + ((t + padTime) * paddedRows + padRows) * C;
    for (let k = 0; k < run; k++) xp[dst + k] = x[src + k] as number;
  }
}

/**
 * A 5×5 per-channel convolution (BC-ResNet's stem on a 1-channel plane, and its classifier's
 * depthwise convolution), undilated, any frequency stride, on a zero-bordered input `xp` whose
 * value at padded (frame, row, channel) is `xp[frame·frameStride + row·rowStride + c·chanStride]`
 * (`chanStride` 0 reads one plane for every channel):
 *
 * `y[t, r, c] = act(b[g, c] + Σ_{i<5, j<5} xp[t + i, r·s + j, c] · W[g, i, j, c])`
 *
 * with `W` `[groups, 5, 5, C]` and `bias` `[groups, C]`. Per (row, channel) the 25 weights live in
 * local variables and the padded frames stream through once: each frame's five values give the
 * five time taps' partial sums at once, which a shift register of four accumulators adds into
 * the five outputs they belong to (5 loads and 1 store per output instead of 25 loads:
 * 1.7× faster than {@link planeConv} on BC-ResNet-1's stem, 236 vs 399 µs, in an interleaved A/B).
 */
export function conv5x5(
  xp: Float64Array,
  frameStride: number,
  rowStride: number,
  chanStride: number,
  k: ConvKernel,
  y: FloatArray,
  relu: boolean,
): void {
  const { w, bias } = k;
  const { outFrames, outRows, channels: C, stride, rowsPerGroup } = k.g;
  const outFrame = outRows * C;
  const paddedFrames = outFrames + 4;
  // With a ReLU the weights and bias are halved (exact: a power of two), so that
  // max(0, v) = (v + |v|) / 2 is u + |u| of the halved sum u: the same results bit for bit, one
  // multiplication less per output (0.93× the time on BC-ResNet-1's stem).
  const h = relu ? 0.5 : 1;
  for (let r = 0; r < outRows; r++) {
    const group = Math.floor(r / rowsPerGroup);
    for (let c = 0; c < C; c++) {
      const o0 = group * 25 * C + c;
      const w00 = (w[o0] as number) * h;
      const w01 = (w[o0 + C] as number) * h;
      const w02 = (w[o0 + 2 * C] as number) * h;
      const w03 = (w[o0 + 3 * C] as number) * h;
      const w04 = (w[o0 + 4 * C] as number) * h;
      const w10 = (w[o0 + 5 * C] as number) * h;
      const w11 = (w[o0 + 6 * C] as number) * h;
      const w12 = (w[o0 + 7 * C] as number) * h;
      const w13 = (w[o0 + 8 * C] as number) * h;
      const w14 = (w[o0 + 9 * C] as number) * h;
      const w20 = (w[o0 + 10 * C] as number) * h;
      const w21 = (w[o0 + 11 * C] as number) * h;
      const w22 = (w[o0 + 12 * C] as number) * h;
      const w23 = (w[o0 + 13 * C] as number) * h;
      const w24 = (w[o0 + 14 * C] as number) * h;
      const w30 = (w[o0 + 15 * C] as number) * h;
      const w31 = (w[o0 + 16 * C] as number) * h;
      const w32 = (w[o0 + 17 * C] as number) * h;
      const w33 = (w[o0 + 18 * C] as number) * h;
      const w34 = (w[o0 + 19 * C] as number) * h;
      const w40 = (w[o0 + 20 * C] as number) * h;
      const w41 = (w[o0 + 21 * C] as number) * h;
      const w42 = (w[o0 + 22 * C] as number) * h;
      const w43 = (w[o0 + 23 * C] as number) * h;
      const w44 = (w[o0 + 24 * C] as number) * h;
      const b = (bias[group * C + c] as number) * h;
      // After padded frame f, a_m holds output frame f − 3 + m's sum over time taps 0 … 3 − m.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let p = r * stride * rowStride + c * chanStride;
      let o = r * C + c;
      for (let f = 0; f < paddedFrames; f++) {
        const x0 = xp[p] as number;
        const x1 = xp[p + rowStride] as number;
        const x2 = xp[p + 2 * rowStride] as number;
        const x3 = xp[p + 3 * rowStride] as number;
        const x4 = xp[p + 4 * rowStride] as number;
        // This frame is time tap i of output frame f − i.
        const s0 = x0 * w00 + x1 * w01 + x2 * w02 + x3 * w03 + x4 * w04;
        const s1 = x0 * w10 + x1 * w11 + x2 * w12 + x3 * w13 + x4 * w14;
        const s2 = x0 * w20 + x1 * w21 + x2 * w22 + x3 * w23 + x4 * w24;
        const s3 = x0 * w30 + x1 * w31 + x2 * w32 + x3 * w33 + x4 * w34;
        const s4 = x0 * w40 + x1 * w41 + x2 * w42 + x3 * w43 + x4 * w44;
        if (f >= 4) {
          // Output frame f − 4 is complete.
          const v = b + a0 + s4;
          y[o] = relu ? v + Math.abs(v) : v;
          o += outFrame;
        }
        a0 = a1 + s3;
        a1 = a2 + s2;
        a2 = a3 + s1;
        a3 = s0;
        p += frameStride;
      }
    }
  }
}

/**
 * Per output frame, the first and one-past-last time tap `i` whose input frame
 * `t + i·dt − padTime` lies inside `[0, frames)`: `[t] = first`, `[outFrames + t] = end`.
 */
export function frameTapRanges(g: ConvGeometry): Int32Array {
  const out = new Int32Array(2 * g.outFrames);
  for (let t = 0; t < g.outFrames; t++) {
    let first = 0;
    while (first < g.kt && t + first * g.dt - g.padTime < 0) first++;
    let end = g.kt;
    while (end > first && t + (end - 1) * g.dt - g.padTime >= g.frames) end--;
    out[t] = first;
    out[g.outFrames + t] = end;
  }
  return out;
}

/**
 * Per output row, the first and one-past-last frequency tap `j` whose input row
 * `r·s + j·df − padRows` lies inside `[0, rows)`: `[r] = first`, `[outRows + r] = end`.
 */
export function rowTapRanges(g: ConvGeometry): Int32Array {
  const out = new Int32Array(2 * g.outRows);
  for (let r = 0; r < g.outRows; r++) {
    let first = 0;
    while (first < g.kf && r * g.stride + first * g.df - g.padRows < 0) first++;
    let end = g.kf;
    while (end > first && r * g.stride + (end - 1) * g.df - g.padRows >= g.rows) end--;
    out[r] = first;
    out[g.outRows + r] = end;
  }
  return out;
}

/**
 * Depthwise (per-channel) convolution of any geometry (`TemporalConv`, a `SpectralConv` on C
 * channels):
 *
 * `y[t, r, c] = act(b[g, c] + Σ_{i, j} x[t + i·dt − pt, r·s + j·df − pr, c] · W[g, i, j, c])`
 *
 * over the taps inside the input (zero padding contributes nothing), `W`: `[groups, kt, kf, C]`,
 * `bias`: `[groups, C]`, tap ranges from {@link frameTapRanges} / {@link rowTapRanges}. `act` is
 * a ReLU (`relu`) or the identity. With `mean` (length `outFrames · C`), also
 * writes the mean over output rows of the activated output (a following `FrequencyMean`). Two
 * channels at a time (an odd last channel runs paired with itself).
 */
export function depthwiseConv(
  x: Float64Array,
  k: ConvKernel,
  frameTaps: Int32Array,
  rowTaps: Int32Array,
  y: Float64Array,
  relu: boolean,
  mean: Float64Array | null,
): void {
  const { g, w, bias } = k;
  const { rows, outFrames, outRows, channels: C, kt, kf, dt, df, stride, padTime, padRows, rowsPerGroup } = g;
  const inv = 1 / outRows;
  const rowStep = df * C;
  const frameStep = dt * rows * C;
  for (let t = 0; t < outFrames; t++) {
    const iFirst = frameTaps[t] as number;
    const iEnd = frameTaps[outFrames + t] as number;
    const mt = t * C;
    for (let c = 0; c < C; c += 2) {
      const d = c + 1 < C ? 1 : 0;
      let ma = 0;
      let mb = 0;
      for (let r = 0; r < outRows; r++) {
        const group = Math.floor(r / rowsPerGroup);
        const jFirst = rowTaps[r] as number;
        const jEnd = rowTaps[outRows + r] as number;
        let a = bias[group * C + c] as number;
        let b = bias[group * C + c + d] as number;
        let xi = ((t + iFirst * dt - padTime) * rows + r * stride + jFirst * df - padRows) * C + c;
        let wi = ((group * kt + iFirst) * kf + jFirst) * C + c;
        const taps = jEnd - jFirst;
        const wSkip = (kf - taps) * C;
        const xSkip = frameStep - taps * rowStep;
        for (let i = iFirst; i < iEnd; i++) {
          for (let j = 0; j < taps; j++) {
            a += (x[xi] as number) * (w[wi] as number);
            b += (x[xi + d] as number) * (w[wi + d] as number);
            xi += rowStep;
            wi += C;
          }
          xi += xSkip;
          wi += wSkip;
        }
        if (relu) {
          a = (a + Math.abs(a)) * 0.5;
          b = (b + Math.abs(b)) * 0.5;
        }
        const yo = (t * outRows + r) * C + c;
        y[yo] = a;
        y[yo + d] = b;
        ma += a;
        mb += b;
      }
      if (mean !== null) {
        mean[mt + c] = ma * inv;
        mean[mt + c + d] = mb * inv;
      }
    }
  }
}

/**
 * Effective weights of the mean over output rows of a 3-tap frequency convolution (see
 * {@link freqConvMean}), from the convolution's `[groups, 3, C]` weights and `[groups, C]` bias:
 * `weff[q, c] = (1/R') Σ_{r, j : r·s + j − 1 = q} W[g(r), j, c]` for input row `q`, and
 * `beff[c] = (1/R') Σ_r b[g(r), c]`.
 */
export function freqConvMeanWeights(k: ConvKernel): { weights: Float64Array; bias: Float64Array } {
  const { g, w, bias } = k;
  const { rows, outRows, channels: C, stride, rowsPerGroup } = g;
  const weights = new Float64Array(rows * C);
  const b = new Float64Array(C);
  for (let r = 0; r < outRows; r++) {
    const group = Math.floor(r / rowsPerGroup);
    for (let c = 0; c < C; c++) b[c] = (b[c] as number) + (bias[group * C + c] as number) / outRows;
    for (let j = 0; j < 3; j++) {
      const q = r * stride + j - 1;
      if (q < 0 || q >= rows) continue;
      for (let c = 0; c < C; c++) {
        weights[q * C + c] =
          (weights[q * C + c] as number) + (w[(group * 3 + j) * C + c] as number) / outRows;
      }
    }
  }
  return { weights, bias: b };
}

/**
 * `FrequencyMean` of a 3-tap frequency convolution computed from its input: since both are
 * linear, `mean_r conv(x)[t, r, c] = beff[c] + Σ_q x[t, q, c] · weff[q, c]` (weights from
 * {@link freqConvMeanWeights}): one multiply-add per input value instead of three per output,
 * and the convolution's output need not be stored.
 */
export function freqConvMean(
  x: Float64Array,
  frames: number,
  rows: number,
  C: number,
  weff: Float64Array,
  beff: Float64Array,
  m: Float64Array,
): void {
  if (rows % 5 === 0) {
    // Per channel and chunk of five rows, the weights in local variables, frames innermost: 2–2.3×
    // the plain loop below on BC-ResNet-1's shapes (interleaved A/B).
    const frame = rows * C;
    for (let c = 0; c < C; c++) {
      for (let r0 = 0; r0 < rows; r0 += 5) {
        const k = r0 * C + c;
        const w0 = weff[k] as number;
        const w1 = weff[k + C] as number;
        const w2 = weff[k + 2 * C] as number;
        const w3 = weff[k + 3 * C] as number;
        const w4 = weff[k + 4 * C] as number;
        let p = k;
        let o = c;
        // The first chunk writes (bias first), the others add: two loops, as a choice inside the
        // loop made it 1.25× slower.
        if (r0 === 0) {
          const b = beff[c] as number;
          for (let t = 0; t < frames; t++) {
            m[o] =
              b +
              ((x[p] as number) * w0 +
                (x[p + C] as number) * w1 +
                (x[p + 2 * C] as number) * w2 +
                (x[p + 3 * C] as number) * w3 +
                (x[p + 4 * C] as number) * w4);
            p += frame;
            o += C;
          }
        } else {
          for (let t = 0; t < frames; t++) {
            m[o] =
              (m[o] as number) +
              ((x[p] as number) * w0 +
                (x[p + C] as number) * w1 +
                (x[p + 2 * C] as number) * w2 +
                (x[p + 3 * C] as number) * w3 +
                (x[p + 4 * C] as number) * w4);
            p += frame;
            o += C;
          }
        }
      }
    }
    return;
  }
  for (let t = 0; t < frames; t++) {
    const xt = t * rows * C;
    const mt = t * C;
    for (let c = 0; c < C; c++) {
      let a = beff[c] as number;
      for (let q = 0; q < rows; q++) a += (x[xt + q * C + c] as number) * (weff[q * C + c] as number);
      m[mt + c] = a;
    }
  }
}

/**
 * {@link residualFreqConv} for any geometry: per frame and pair of channels, the output rows in
 * order with their sub-band's weights in registers.
 */
function residualSliding(o: ResidualOperands): void {
  const { x, e, y, relu, mean, meanW, meanB } = o;
  const { g, w, bias } = o.k;
  const { rows: R, outFrames, outRows, channels: C, stride, rowsPerGroup } = g;
  const groups = outRows / rowsPerGroup;
  const inFrame = R * C;
  const outFrame = outRows * C;
  for (let t = 0; t < outFrames; t++) {
    for (let c = 0; c < C; c += 2) {
      // An odd last channel runs paired with itself (same values, stored twice).
      const d = c + 1 < C ? 1 : 0;
      const ea = e === null ? 0 : (e[t * C + c] as number);
      const eb = e === null ? 0 : (e[t * C + c + d] as number);
      let q = t * outFrame + c;
      let ma = 0;
      let mb = 0;
      let r = 0;
      for (let group = 0; group < groups; group++) {
        const wg = group * 3 * C + c;
        const wa0 = w[wg] as number;
        const wa1 = w[wg + C] as number;
        const wa2 = w[wg + 2 * C] as number;
        const wb0 = w[wg + d] as number;
        const wb1 = w[wg + C + d] as number;
        const wb2 = w[wg + 2 * C + d] as number;
        const ba = (bias[group * C + c] as number) + ea;
        const bb = (bias[group * C + c + d] as number) + eb;
        for (const groupEnd = r + rowsPerGroup; r < groupEnd; r++) {
          const centre = r * stride;
          const xi = t * inFrame + centre * C + c;
          let va = ba;
          let vb = bb;
          if (centre > 0) {
            va += (x[xi - C] as number) * wa0;
            vb += (x[xi - C + d] as number) * wb0;
          }
          va += (x[xi] as number) * wa1;
          vb += (x[xi + d] as number) * wb1;
          if (centre + 1 < R) {
            va += (x[xi + C] as number) * wa2;
            vb += (x[xi + C + d] as number) * wb2;
          }
          if (relu) {
            va = (va + Math.abs(va)) * 0.5;
            vb = (vb + Math.abs(vb)) * 0.5;
          }
          y[q] = va;
          y[q + d] = vb;
          if (mean !== null) {
            ma += va * (meanW[r * C + c] as number);
            mb += vb * (meanW[r * C + c + d] as number);
          }
          q += C;
        }
      }
      if (mean !== null) {
        mean[t * C + c] = (meanB[c] as number) + ma;
        mean[t * C + c + d] = (meanB[c + d] as number) + mb;
      }
    }
  }
}

/**
 * {@link residualFreqConv} at stride 1 or 2 for a number of output rows divisible by 5
 * (BC-ResNet with 40 mels: 20, 10 and 5 rows): per channel and chunk of five output rows, the
 * chunk's 15 weights, 5 biases and 5 mean weights live in local variables and the frames are the
 * inner loop, so each frame costs 7 (stride 1) or 11 (stride 2) loads and 5 stores for 5 outputs
 * (the sliding loop reloads the weights of every sub-band for every frame: 1.6× slower at 20
 * rows × 8 channels, 2.7× at 5 rows × 20 channels, in an interleaved A/B on BC-ResNet-1's shapes).
 */
function residualChunks5(o: ResidualOperands): void {
  const { x, e, y, relu, mean, meanW, meanB } = o;
  const { g, w, bias } = o.k;
  const { rows: R, outRows, outFrames: T, channels: C, stride, rowsPerGroup } = g;
  const inFrame = R * C;
  const outFrame = outRows * C;
  const withMean = mean !== null;
  const one = stride === 1;
  for (let c = 0; c < C; c++) {
    for (let r0 = 0; r0 < outRows; r0 += 5) {
      // Output row r reads input rows r·s − 1, r·s, r·s + 1; those outside are zero padding.
      const top = r0 > 0;
      const bottom = stride * (r0 + 4) + 1 < R;
      // Row r of the chunk uses the weights of its sub-band: [group][tap][C] and [group][C].
      const k0 = Math.floor(r0 / rowsPerGroup) * C + c;
      const k1 = Math.floor((r0 + 1) / rowsPerGroup) * C + c;
      const k2 = Math.floor((r0 + 2) / rowsPerGroup) * C + c;
      const k3 = Math.floor((r0 + 3) / rowsPerGroup) * C + c;
      const k4 = Math.floor((r0 + 4) / rowsPerGroup) * C + c;
      const a0 = top ? (w[3 * k0 - 2 * c] as number) : 0;
      const a1 = w[3 * k0 - 2 * c + C] as number;
      const a2 = w[3 * k0 - 2 * c + 2 * C] as number;
      const b0 = w[3 * k1 - 2 * c] as number;
      const b1 = w[3 * k1 - 2 * c + C] as number;
      const b2 = w[3 * k1 - 2 * c + 2 * C] as number;
      const c0 = w[3 * k2 - 2 * c] as number;
      const c1 = w[3 * k2 - 2 * c + C] as number;
      const c2 = w[3 * k2 - 2 * c + 2 * C] as number;
      const d0 = w[3 * k3 - 2 * c] as number;
      const d1 = w[3 * k3 - 2 * c + C] as number;
      const d2 = w[3 * k3 - 2 * c + 2 * C] as number;
      const e0 = w[3 * k4 - 2 * c] as number;
      const e1 = w[3 * k4 - 2 * c + C] as number;
      const e2 = bottom ? (w[3 * k4 - 2 * c + 2 * C] as number) : 0;
      const biasA = bias[k0] as number;
      const biasB = bias[k1] as number;
      const biasC = bias[k2] as number;
      const biasD = bias[k3] as number;
      const biasE = bias[k4] as number;
      const mA = withMean ? (meanW[r0 * C + c] as number) : 0;
      const mB = withMean ? (meanW[(r0 + 1) * C + c] as number) : 0;
      const mC = withMean ? (meanW[(r0 + 2) * C + c] as number) : 0;
      const mD = withMean ? (meanW[(r0 + 3) * C + c] as number) : 0;
      const mE = withMean ? (meanW[(r0 + 4) * C + c] as number) : 0;
      const mBias = r0 === 0 && withMean ? (meanB[c] as number) : 0;
      let p = stride * r0 * C + c;
      let q = r0 * C + c;
      let et = c;
      for (let t = 0; t < T; t++) {
        const ev = e === null ? 0 : (e[et] as number);
        const xm = top ? (x[p - C] as number) : 0;
        const x0 = x[p] as number;
        const x1 = x[p + C] as number;
        const x2 = x[p + 2 * C] as number;
        const x3 = x[p + 3 * C] as number;
        const x4 = x[p + 4 * C] as number;
        let vA = ev + biasA + xm * a0 + x0 * a1 + x1 * a2;
        let vB: number;
        let vC: number;
        let vD: number;
        let vE: number;
        if (one) {
          const x5 = bottom ? (x[p + 5 * C] as number) : 0;
          vB = ev + biasB + x0 * b0 + x1 * b1 + x2 * b2;
          vC = ev + biasC + x1 * c0 + x2 * c1 + x3 * c2;
          vD = ev + biasD + x2 * d0 + x3 * d1 + x4 * d2;
          vE = ev + biasE + x3 * e0 + x4 * e1 + x5 * e2;
        } else {
          const x5 = x[p + 5 * C] as number;
          const x6 = x[p + 6 * C] as number;
          const x7 = x[p + 7 * C] as number;
          const x8 = x[p + 8 * C] as number;
          const x9 = bottom ? (x[p + 9 * C] as number) : 0;
          vB = ev + biasB + x1 * b0 + x2 * b1 + x3 * b2;
          vC = ev + biasC + x3 * c0 + x4 * c1 + x5 * c2;
          vD = ev + biasD + x5 * d0 + x6 * d1 + x7 * d2;
          vE = ev + biasE + x7 * e0 + x8 * e1 + x9 * e2;
        }
        if (relu) {
          vA = (vA + Math.abs(vA)) * 0.5;
          vB = (vB + Math.abs(vB)) * 0.5;
          vC = (vC + Math.abs(vC)) * 0.5;
          vD = (vD + Math.abs(vD)) * 0.5;
          vE = (vE + Math.abs(vE)) * 0.5;
        }
        y[q] = vA;
        y[q + C] = vB;
        y[q + 2 * C] = vC;
        y[q + 3 * C] = vD;
        y[q + 4 * C] = vE;
        if (mean !== null) {
          const sum = mBias + vA * mA + vB * mB + vC * mC + vD * mD + vE * mE;
          mean[et] = r0 === 0 ? sum : (mean[et] as number) + sum;
        }
        p += inFrame;
        q += outFrame;
        et += C;
      }
    }
  }
}

/**
 * BC-ResNet's residual sum with its 3-tap frequency convolution computed on the fly (`kt = 1`,
 * `kf = 3`, `df = 1`, one zero row each side, stride `s`, any weight groups):
 *
 * `y[t, r, c] = act(e[t, c] + b[g, c] + Σ_{j<3} x[t, r·s + j − 1, c] · W[g, j, c])`
 *
 * where `e` is a broadcast `[frames, 1, C]` term (the temporal path) or absent (null). An
 * identity term `+ x[t, r, c]` (stride 1) is folded into the centre weight by the caller.
 * Per frame and pair of channels the rows are walked in order with the group's weights and the
 * broadcast term in registers; at stride 1 each input value is loaded once and slides through
 * the three taps.
 *
 * With `mean`, also computes the next block's {@link freqConvMean} of `y` while `y` is in
 * registers.
 */
export function residualFreqConv(o: ResidualOperands): void {
  const { stride, outRows } = o.k.g;
  if ((stride === 1 || stride === 2) && outRows % 5 === 0) residualChunks5(o);
  else residualSliding(o);
}

/** {@link timeConv} for any number of taps: tap by tap over whole frames. */
function timeConvTaps(x: FloatArray, k: ConvKernel, y: FloatArray, relu: boolean): void {
  const { g, w, bias } = k;
  const { frames, rows: R, outFrames, channels: C, kt, dt, padTime, rowsPerGroup } = g;
  const frame = R * C;
  for (let t = 0; t < outFrames; t++) {
    for (let r = 0; r < R; r++) {
      const bg = Math.floor(r / rowsPerGroup) * C;
      const o = t * frame + r * C;
      for (let c = 0; c < C; c++) y[o + c] = bias[bg + c] as number;
    }
  }
  for (let i = 0; i < kt; i++) {
    // Output frame t reads input frame t + shift.
    const shift = i * dt - padTime;
    const first = shift < 0 ? -shift : 0;
    const end = Math.min(outFrames, frames - shift);
    for (let r = 0; r < R; r++) {
      const wo = (Math.floor(r / rowsPerGroup) * kt + i) * C;
      for (let t = first; t < end; t++) {
        const o = t * frame + r * C;
        const xo = o + shift * frame;
        for (let c = 0; c < C; c++)
          y[o + c] = (y[o + c] as number) + (x[xo + c] as number) * (w[wo + c] as number);
      }
    }
  }
  if (relu) reluAll(y, outFrames * frame);
}

/**
 * {@link timeConv} for three taps (BC-ResNet's temporal convolutions): per (row, channel) the three
 * weights and the bias live in local variables and the frames are the inner loop, so each output
 * costs three loads and one store: 2.6–2.8× faster than {@link timeConvTaps} on BC-ResNet-1's
 * temporal convolutions (interleaved A/B; about 5 % of the whole model).
 */
function timeConv3(x: FloatArray, k: ConvKernel, y: FloatArray, relu: boolean): void {
  const { g, w, bias } = k;
  const { frames, rows: R, outFrames, channels: C, dt, padTime, rowsPerGroup } = g;
  const frame = R * C;
  const step = dt * frame;
  // Frames whose three taps all fall inside the input need no bounds tests.
  const inner0 = Math.max(0, padTime);
  const inner1 = Math.max(inner0, Math.min(outFrames, frames + padTime - 2 * dt));
  for (let r = 0; r < R; r++) {
    const group = Math.floor(r / rowsPerGroup);
    for (let c = 0; c < C; c++) {
      const wo = group * 3 * C + c;
      const w0 = w[wo] as number;
      const w1 = w[wo + C] as number;
      const w2 = w[wo + 2 * C] as number;
      const b = bias[group * C + c] as number;
      const base = r * C + c;
      for (let t = 0; t < outFrames; t++) {
        if (t === inner0) {
          let p = (t - padTime) * frame + base;
          let o = t * frame + base;
          for (; t < inner1; t++) {
            const v =
              b + (x[p] as number) * w0 + (x[p + step] as number) * w1 + (x[p + 2 * step] as number) * w2;
            y[o] = relu ? (v + Math.abs(v)) * 0.5 : v;
            p += frame;
            o += frame;
          }
          if (t >= outFrames) break;
        }
        // Tap i reads input frame t + i·dt − padTime; frames outside the input are zeros.
        const t0 = t - padTime;
        const p = t0 * frame + base;
        let v = b;
        if (t0 >= 0 && t0 < frames) v += (x[p] as number) * w0;
        if (t0 + dt >= 0 && t0 + dt < frames) v += (x[p + step] as number) * w1;
        if (t0 + 2 * dt >= 0 && t0 + 2 * dt < frames) v += (x[p + 2 * step] as number) * w2;
        y[t * frame + base] = relu ? (v + Math.abs(v)) * 0.5 : v;
      }
    }
  }
}

/**
 * Depthwise convolution along time only (`kf = 1`: `TemporalConv`), any taps, dilation and time
 * padding, weights per row group:
 *
 * `y[t, r, c] = act(b[g, c] + Σ_i x[t + i·dt − pt, r, c] · W[g, i, c])`
 *
 * computed tap by tap over whole frames (`R·C` contiguous values), each tap over the output frames
 * whose input frame exists; `act` is a ReLU or the identity. `W`:
 * `[groups, kt, C]`, `bias`: `[groups, C]`.
 */
export function timeConv(x: FloatArray, k: ConvKernel, y: FloatArray, relu: boolean): void {
  if (k.g.kt === 3) timeConv3(x, k, y, relu);
  else timeConvTaps(x, k, y, relu);
}

/**
 * {@link timeConv} followed by SiLU, `y = s · σ(s)` of each convolution output `s` (a temporal
 * convolution, its normalisation folded, and its swish), through {@link siluOf}. BC-ResNet's
 * shape (three taps) has its own, faster kernel: {@link timeConv3Silu}.
 */
export function timeConvSilu(x: FloatArray, k: ConvKernel, y: FloatArray): void {
  const { outFrames, rows, channels } = k.g;
  timeConv(x, k, y, false);
  const size = outFrames * rows * channels;
  for (let i = 0; i < size; i++) y[i] = siluOf(y[i] as number);
}

/**
 * {@link timeConvSilu} for three taps (`kt = 3`: BC-ResNet's temporal convolution): the loop of
 * {@link timeConv3} with the SiLU applied as each output is stored, in a function of its own that
 * the runtime's step calls directly. 0.78–0.81× the time of {@link timeConv} followed by a SiLU
 * pass on BC-ResNet-1's four temporal shapes (interleaved A/B, all four in one process), with the
 * same sums in the same order. (A frame-major loop over contiguous channels measured 2× faster
 * on one shape alone but no faster than the separate passes with the four shapes in turn.)
 */
export function timeConv3Silu(x: FloatArray, k: ConvKernel, y: FloatArray): void {
  const { g, w, bias } = k;
  const { frames, rows: R, outFrames, channels: C, dt, padTime, rowsPerGroup } = g;
  const frame = R * C;
  const step = dt * frame;
  // Frames whose three taps all fall inside the input need no bounds tests.
  const inner0 = Math.max(0, padTime);
  const inner1 = Math.max(inner0, Math.min(outFrames, frames + padTime - 2 * dt));
  for (let r = 0; r < R; r++) {
    const group = Math.floor(r / rowsPerGroup);
    for (let c = 0; c < C; c++) {
      const wo = group * 3 * C + c;
      const w0 = w[wo] as number;
      const w1 = w[wo + C] as number;
      const w2 = w[wo + 2 * C] as number;
      const b = bias[group * C + c] as number;
      const base = r * C + c;
      for (let t = 0; t < outFrames; t++) {
        if (t === inner0) {
          let p = (t - padTime) * frame + base;
          let o = t * frame + base;
          for (; t < inner1; t++) {
            const v =
              b + (x[p] as number) * w0 + (x[p + step] as number) * w1 + (x[p + 2 * step] as number) * w2;
            y[o] = siluOf(v);
            p += frame;
            o += frame;
          }
          if (t >= outFrames) break;
        }
        // Tap i reads input frame t + i·dt − padTime; frames outside the input are zeros.
        const t0 = t - padTime;
        const p = t0 * frame + base;
        let v = b;
        if (t0 >= 0 && t0 < frames) v += (x[p] as number) * w0;
        if (t0 + dt >= 0 && t0 + dt < frames) v += (x[p + step] as number) * w1;
        if (t0 + 2 * dt >= 0 && t0 + 2 * dt < frames) v += (x[p + 2 * step] as number) * w2;
        y[t * frame + base] = siluOf(v);
      }
    }
  }
}

/** Adding and subtracting 1.5·2^52 rounds a double of magnitude < 2^51 to the nearest integer. */
const ROUND = 6755399441055744;

/** `2^(k/32)` for integer `k` in [−2048, 2048), at index `k + 2048`: 32 KB. */
const POW2_32THS = /* @__PURE__ */ Float64Array.from({ length: 4096 }, (_, i) => 2 ** ((i - 2048) / 32));

/**
 * SiLU (tfjs' `swish`) `a · σ(a) = a / (1 + e^−a)` with relative error < 1e-9: `e^v` (`v = −a`
 * clamped to [−40, 40], beyond which the result is `a` or within 1e-16·|a| of 0, as in float64
 * without the clamp) as `2^(k/32) · e^r` with `k = round(32·v / ln 2)`, `|r| ≤ ln 2 / 64`, the power
 * from a table and `e^r` by its cubic Taylor polynomial (error < 6e-10). Fewer operations than
 * `fastExp` (which reduces only to `|r| ≤ ln 2 / 2` and needs a degree-7 polynomial); BC-ResNet
 * applies it to every temporal feature of every block.
 */
export function siluOf(a: number): number {
  const v = a > 40 ? -40 : a < -40 ? 40 : -a;
  // 32 / ln 2 and ln 2 / 32 as literals: V8 need not fold them.
  const k = v * 46.16624130844683 + ROUND - ROUND;
  const r = v - k * 0.02166084939249829;
  const e = 1 + r * (1 + r * (0.5 + r * (1 / 6)));
  return a / (1 + e * (POW2_32THS[(k | 0) + 2048] as number));
}

/** `out[t·C + c] = mean_r x[(t·R + r)·C + c]`: `FrequencyMean` on its own. */
export function frequencyMean(
  x: Float64Array,
  frames: number,
  rows: number,
  C: number,
  out: Float64Array,
): void {
  const inv = 1 / rows;
  for (let t = 0; t < frames; t++) {
    const o = t * C;
    const xt = t * rows * C;
    for (let c = 0; c < C; c++) out[o + c] = x[xt + c] as number;
    for (let r = 1; r < rows; r++) {
      const xr = xt + r * C;
      for (let c = 0; c < C; c++) out[o + c] = (out[o + c] as number) + (x[xr + c] as number);
    }
    for (let c = 0; c < C; c++) out[o + c] = (out[o + c] as number) * inv;
  }
}

/**
 * `y[k] = act(x[k] · scale[k mod n] + offset[k mod n])` for `k < size`, `n = scale.length`
 * (a normalisation not folded into a producer, spelled out per element of one frame).
 */
export function affine(
  x: Float64Array,
  size: number,
  scale: Float64Array,
  offset: Float64Array,
  y: Float64Array,
  relu: boolean,
): void {
  const n = scale.length;
  for (let base = 0; base < size; base += n) {
    for (let k = 0; k < n; k++) {
      const v = (x[base + k] as number) * (scale[k] as number) + (offset[k] as number);
      y[base + k] = relu ? (v + Math.abs(v)) * 0.5 : v;
    }
  }
}

/**
 * `y (+)= x` over `frames × rows × C`, where `x` has `rows` rows or 1 (broadcast over
 * frequency: BC-ResNet's residual adds `[T, 1, C]` temporal features); `first` writes instead of
 * adding.
 */
export function addInto(
  x: Float64Array,
  xRows: number,
  frames: number,
  rows: number,
  C: number,
  y: Float64Array,
  first: boolean,
): void {
  const step = xRows === 1 ? 0 : C;
  let o = 0;
  for (let t = 0; t < frames; t++) {
    let ix = t * xRows * C;
    for (let r = 0; r < rows; r++) {
      if (first) for (let c = 0; c < C; c++) y[o + c] = x[ix + c] as number;
      else for (let c = 0; c < C; c++) y[o + c] = (y[o + c] as number) + (x[ix + c] as number);
      o += C;
      ix += step;
    }
  }
}

/** `y[k] = max(0, y[k])` for `k < size`. */
export function reluAll(y: FloatArray, size: number): void {
  for (let k = 0; k < size; k++) {
    const v = y[k] as number;
    y[k] = (v + Math.abs(v)) * 0.5;
  }
}

/** `y[k] = min(hi, y[k])` for `k < size`. */
export function clipAbove(y: Float64Array, size: number, hi: number): void {
  for (let k = 0; k < size; k++) if ((y[k] as number) > hi) y[k] = hi;
}

/** `out[c] = mean_n x[n·C + c]` over `positions` rows: the global average pooling over time (and rows). */
export function meanPositions(x: Float64Array, positions: number, C: number, out: Float64Array): void {
  frequencyMean(x, 1, positions, C, out);
}
