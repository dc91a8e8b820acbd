/**
 * Training-mode batch normalisation with per-sub-band statistics (kws-kit's `SubSpectralNorm`;
 * one sub-band is tfjs-layers' `BatchNormalization` on the channel axis), optionally followed by
 * a ReLU, and its gradient, laid out `[rows, bins, channels]` (rows = batch · frames).
 *
 * For sub-band s (bins s·B … s·B + B − 1) and channel c, over the M = rows · B values:
 *
 *   μ = Σx / M,  σ² = Σx² / M − μ² (biased, as `tf.moments`),  r = 1/√(σ² + ε),
 *   x̂ = (x − μ)·r,  y = γ·x̂ + β  (then max(0, y) when fused with a ReLU)
 *
 * and the closed-form backward pass (the gradient through μ and σ² included), with dz the
 * gradient at the normalisation output (dy masked by y > 0 after a ReLU):
 *
 *   dβ = Σ dz,  dγ = Σ dz·x̂,  dx = γ·r·(dz − dβ/M − x̂·dγ/M)
 *
 * Two passes each way, sums in float64; x̂ is recomputed from x rather than stored (one fewer
 * full-size buffer to write and read).
 *
 * @internal
 * @packageDocumentation
 */
import { reluMask } from './elementwise-grad.js';

/** Shape of a normalisation: `[rows, subBands · bandBins, channels]`. */
export interface NormShape {
  readonly rows: number;
  readonly subBands: number;
  readonly bandBins: number;
  readonly channels: number;
}

/** Rows per chunk of the column loops: a chunk of a feature map stays in the L1 cache. */
const CHUNK = 32;

/**
 * Per column k of `[rows, width]`: `a[k] = Σ_r d[r, k]`, `b[k] = Σ_r d[r, k]·x[r, k]` with d = v,
 * or with `relu` d = v·[y > 0] (`y` then the bits of the ReLU's output, see {@link reluMask}),
 * written back into `v` (the second backward pass then reads d alone: cheaper than masking
 * again). With `x = v` (and no mask) this is Σv and Σv². Per chunk of rows, four adjacent
 * columns at a time keep their eight sums in locals.
 */
function columnSums(
  rows: number,
  width: number,
  v: Float32Array,
  y: Int32Array | null,
  relu: boolean,
  x: Float32Array,
  a: Float64Array,
  b: Float64Array,
): void {
  a.fill(0, 0, width);
  b.fill(0, 0, width);
  const w4 = width - (width % 4);
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const end = Math.min(rows, r0 + CHUNK) * width;
    for (let k = 0; k < w4; k += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      if (relu && y !== null) {
        for (let i = r0 * width + k; i < end; i += width) {
          const d0 = (v[i] as number) * (-(y[i] as number) >>> 31);
          const d1 = (v[i + 1] as number) * (-(y[i + 1] as number) >>> 31);
          const d2 = (v[i + 2] as number) * (-(y[i + 2] as number) >>> 31);
          const d3 = (v[i + 3] as number) * (-(y[i + 3] as number) >>> 31);
          v[i] = d0;
          v[i + 1] = d1;
          v[i + 2] = d2;
          v[i + 3] = d3;
          a0 += d0;
          a1 += d1;
          a2 += d2;
          a3 += d3;
          b0 += d0 * (x[i] as number);
          b1 += d1 * (x[i + 1] as number);
          b2 += d2 * (x[i + 2] as number);
          b3 += d3 * (x[i + 3] as number);
        }
      } else if (v === x) {
        // Σv and Σv²: one load per element (V8 cannot know that v and x are one array).
        for (let i = r0 * width + k; i < end; i += width) {
          const d0 = v[i] as number;
          const d1 = v[i + 1] as number;
          const d2 = v[i + 2] as number;
          const d3 = v[i + 3] as number;
          a0 += d0;
          a1 += d1;
          a2 += d2;
          a3 += d3;
          b0 += d0 * d0;
          b1 += d1 * d1;
          b2 += d2 * d2;
          b3 += d3 * d3;
        }
      } else {
        for (let i = r0 * width + k; i < end; i += width) {
          const d0 = v[i] as number;
          const d1 = v[i + 1] as number;
          const d2 = v[i + 2] as number;
          const d3 = v[i + 3] as number;
          a0 += d0;
          a1 += d1;
          a2 += d2;
          a3 += d3;
          b0 += d0 * (x[i] as number);
          b1 += d1 * (x[i + 1] as number);
          b2 += d2 * (x[i + 2] as number);
          b3 += d3 * (x[i + 3] as number);
        }
      }
      a[k] = (a[k] as number) + a0;
      a[k + 1] = (a[k + 1] as number) + a1;
      a[k + 2] = (a[k + 2] as number) + a2;
      a[k + 3] = (a[k + 3] as number) + a3;
      b[k] = (b[k] as number) + b0;
      b[k + 1] = (b[k + 1] as number) + b1;
      b[k + 2] = (b[k + 2] as number) + b2;
      b[k + 3] = (b[k + 3] as number) + b3;
    }
    for (let k = w4; k < width; k++) {
      let sa = 0;
      let sb = 0;
      for (let i = r0 * width + k; i < end; i += width) {
        const d = relu && y !== null ? (v[i] as number) * (-(y[i] as number) >>> 31) : (v[i] as number);
        v[i] = d;
        sa += d;
        sb += d * (x[i] as number);
      }
      a[k] = (a[k] as number) + sa;
      b[k] = (b[k] as number) + sb;
    }
  }
}

/** `out[s, c] = Σ_{b<B} col[(s·B + b)·C + c]`: column sums folded to sub-band statistics. */
function foldBands(S: number, B: number, C: number, col: Float64Array, out: Float64Array): void {
  for (let s = 0; s < S; s++) {
    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let b = 0; b < B; b++) t += col[(s * B + b) * C + c] as number;
      out[s * C + c] = t;
    }
  }
}

/** Per-column copy of a `[S, C]` statistic: `col[(s·B + b)·C + c] = v[s·C + c]`. */
function expandBands(S: number, B: number, C: number, v: Float64Array, col: Float64Array): void {
  for (let s = 0; s < S; s++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) col[(s * B + b) * C + c] = v[s * C + c] as number;
    }
  }
}

/**
 * `out[r, k] = act(a[k]·x[r, k] + c[k])` over `[rows, width]`, `act` a ReLU when `relu`: per
 * chunk of rows, four columns at a time with their coefficients in locals.
 */
function columnAffine(
  rows: number,
  width: number,
  x: Float32Array,
  a: Float64Array,
  c: Float64Array,
  relu: boolean,
  out: Float32Array,
): void {
  const w4 = width - (width % 4);
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const end = Math.min(rows, r0 + CHUNK) * width;
    for (let k = 0; k < w4; k += 4) {
      const a0 = a[k] as number;
      const a1 = a[k + 1] as number;
      const a2 = a[k + 2] as number;
      const a3 = a[k + 3] as number;
      const c0 = c[k] as number;
      const c1 = c[k + 1] as number;
      const c2 = c[k + 2] as number;
      const c3 = c[k + 3] as number;
      if (relu) {
        for (let i = r0 * width + k; i < end; i += width) {
          const v0 = a0 * (x[i] as number) + c0;
          const v1 = a1 * (x[i + 1] as number) + c1;
          const v2 = a2 * (x[i + 2] as number) + c2;
          const v3 = a3 * (x[i + 3] as number) + c3;
          out[i] = (v0 + Math.abs(v0)) * 0.5;
          out[i + 1] = (v1 + Math.abs(v1)) * 0.5;
          out[i + 2] = (v2 + Math.abs(v2)) * 0.5;
          out[i + 3] = (v3 + Math.abs(v3)) * 0.5;
        }
      } else {
        for (let i = r0 * width + k; i < end; i += width) {
          out[i] = a0 * (x[i] as number) + c0;
          out[i + 1] = a1 * (x[i + 1] as number) + c1;
          out[i + 2] = a2 * (x[i + 2] as number) + c2;
          out[i + 3] = a3 * (x[i + 3] as number) + c3;
        }
      }
    }
    for (let k = w4; k < width; k++) {
      const ak = a[k] as number;
      const ck = c[k] as number;
      for (let i = r0 * width + k; i < end; i += width) {
        const v = ak * (x[i] as number) + ck;
        out[i] = relu ? (v + Math.abs(v)) * 0.5 : v;
      }
    }
  }
}

/**
 * `dx[r, k] (+)= a[k]·dz[r, k] + b[k]·x[r, k] + c[k]` over `[rows, width]`; `assign` overwrites
 * `dx` instead of adding. Per chunk of rows, four columns at a time with their twelve
 * coefficients in locals when assigning (about 0.95× the time of two), else two.
 */
function columnGrad(
  rows: number,
  width: number,
  dz: Float32Array,
  x: Float32Array,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  dx: Float32Array,
  assign: boolean,
): void {
  const w2 = width - (width % 2);
  const w4 = assign ? width - (width % 4) : 0;
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const end = Math.min(rows, r0 + CHUNK) * width;
    for (let k = 0; k < w4; k += 4) {
      const a0 = a[k] as number;
      const a1 = a[k + 1] as number;
      const a2 = a[k + 2] as number;
      const a3 = a[k + 3] as number;
      const b0 = b[k] as number;
      const b1 = b[k + 1] as number;
      const b2 = b[k + 2] as number;
      const b3 = b[k + 3] as number;
      const c0 = c[k] as number;
      const c1 = c[k + 1] as number;
      const c2 = c[k + 2] as number;
      const c3 = c[k + 3] as number;
      for (let i = r0 * width + k; i < end; i += width) {
        dx[i] = a0 * (dz[i] as number) + b0 * (x[i] as number) + c0;
        dx[i + 1] = a1 * (dz[i + 1] as number) + b1 * (x[i + 1] as number) + c1;
        dx[i + 2] = a2 * (dz[i + 2] as number) + b2 * (x[i + 2] as number) + c2;
        dx[i + 3] = a3 * (dz[i + 3] as number) + b3 * (x[i + 3] as number) + c3;
      }
    }
    for (let k = w4; k < w2; k += 2) {
      const a0 = a[k] as number;
      const a1 = a[k + 1] as number;
      const b0 = b[k] as number;
      const b1 = b[k + 1] as number;
      const c0 = c[k] as number;
      const c1 = c[k + 1] as number;
      if (assign) {
        for (let i = r0 * width + k; i < end; i += width) {
          dx[i] = a0 * (dz[i] as number) + b0 * (x[i] as number) + c0;
          dx[i + 1] = a1 * (dz[i + 1] as number) + b1 * (x[i + 1] as number) + c1;
        }
      } else {
        for (let i = r0 * width + k; i < end; i += width) {
          dx[i] = (dx[i] as number) + a0 * (dz[i] as number) + b0 * (x[i] as number) + c0;
          dx[i + 1] = (dx[i + 1] as number) + a1 * (dz[i + 1] as number) + b1 * (x[i + 1] as number) + c1;
        }
      }
    }
    for (let k = w2; k < width; k++) {
      const ak = a[k] as number;
      const bk = b[k] as number;
      const ck = c[k] as number;
      for (let i = r0 * width + k; i < end; i += width) {
        const v = ak * (dz[i] as number) + bk * (x[i] as number) + ck;
        dx[i] = assign ? v : (dx[i] as number) + v;
      }
    }
  }
}

/**
 * Forward pass: writes y (shaped like `x`) and the batch mean and biased variance
 * `[subBands, channels]` into `mean`, `variance`; `rstd` receives r. `relu` applies max(0, ·).
 */
export function batchNormForward(
  s: NormShape,
  x: Float32Array,
  gamma: Float64Array,
  beta: Float64Array,
  epsilon: number,
  relu: boolean,
  y: Float32Array,
  mean: Float64Array,
  variance: Float64Array,
  rstd: Float64Array,
  scale: Float64Array,
  shift: Float64Array,
  colA: Float64Array,
  colB: Float64Array,
): void {
  const { rows, subBands: S, bandBins: B, channels: C } = s;
  const count = rows * B;
  const stats = S * C;
  columnSums(rows, S * B * C, x, null, false, x, colA, colB);
  foldBands(S, B, C, colA, mean);
  foldBands(S, B, C, colB, variance);
  for (let k = 0; k < stats; k++) {
    const m = (mean[k] as number) / count;
    const v = Math.max(0, (variance[k] as number) / count - m * m);
    mean[k] = m;
    variance[k] = v;
    const rs = 1 / Math.sqrt(v + epsilon);
    rstd[k] = rs;
    scale[k] = rs * (gamma[k] as number);
    shift[k] = (beta[k] as number) - m * (scale[k] as number);
  }
  expandBands(S, B, C, scale, colA);
  expandBands(S, B, C, shift, colB);
  columnAffine(rows, S * B * C, x, colA, colB, relu, y);
}

/**
 * Backward pass: adds dγ and dβ (`[subBands, channels]`) into `dGamma`, `dBeta` and the input
 * gradient into `dx` (or, with `assign`, overwrites `dx` with it: the step is the first of the
 * backward pass to write it), for gradient `dy` at the output `y` (masked by y > 0 when `relu`;
 * the masked gradient overwrites `dy`, which the caller no longer needs).
 * `sums` is scratch of `2 · subBands · channels`; `colA`, `colB`, `colC` of `bins · channels`.
 */
export function batchNormBackward(
  s: NormShape,
  x: Float32Array,
  y: Float32Array,
  relu: boolean,
  mean: Float64Array,
  rstd: Float64Array,
  scale: Float64Array,
  dy: Float32Array,
  dx: Float32Array,
  dGamma: Float64Array,
  dBeta: Float64Array,
  sums: Float64Array,
  colA: Float64Array,
  colB: Float64Array,
  colC: Float64Array,
  assign: boolean,
): void {
  const { rows, subBands: S, bandBins: B, channels: C } = s;
  const stats = S * C;
  const count = rows * B;
  columnSums(rows, S * B * C, dy, relu ? reluMask(y, rows * S * B * C) : null, relu, x, colA, colB);
  foldBands(S, B, C, colA, sums);
  foldBands(S, B, C, colB, sums.subarray(stats));
  for (let k = 0; k < stats; k++) {
    const m = mean[k] as number;
    const rs = rstd[k] as number;
    const db = sums[k] as number;
    const dg = rs * ((sums[stats + k] as number) - m * db);
    dBeta[k] = (dBeta[k] as number) + db;
    dGamma[k] = (dGamma[k] as number) + dg;
    // dx = a·dz + k1·x + k0 with a = γ·r (= scale), x̂ = (x − μ)·r.
    const a = scale[k] as number;
    const k1 = (-a * rs * dg) / count;
    sums[k] = k1;
    sums[stats + k] = (-a * db) / count - k1 * m;
  }
  expandBands(S, B, C, scale, colA);
  expandBands(S, B, C, sums, colB);
  expandBands(S, B, C, sums.subarray(stats), colC);
  columnGrad(rows, S * B * C, dy, x, colA, colB, colC, dx, assign);
}
