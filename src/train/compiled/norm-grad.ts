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

/** Shape of a normalisation: `[rows, subBands · bandBins, channels]`. */
export interface NormShape {
  readonly rows: number;
  readonly subBands: number;
  readonly bandBins: number;
  readonly channels: number;
}

/** Rows per chunk of {@link columnSums}: a chunk of a feature map stays in the L1 cache. */
const CHUNK = 32;

/**
 * Per column k of `[rows, width]`: `a[k] = Σ_r d[r, k]`, `b[k] = Σ_r d[r, k]·x[r, k]` with
 * d = v, or with `relu` d = v·[y > 0] written back into `v`, in chunks of rows so that each column is summed in
 * locals (no read-modify-write of the sums per element). With `x = v` (and no mask) this is
 * Σv and Σv².
 */
function columnSums(
  rows: number,
  width: number,
  v: Float32Array,
  y: Float32Array | null,
  relu: boolean,
  x: Float32Array,
  a: Float64Array,
  b: Float64Array,
): void {
  a.fill(0, 0, width);
  b.fill(0, 0, width);
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const r1 = Math.min(rows, r0 + CHUNK);
    for (let k = 0; k < width; k++) {
      let sa = 0;
      let sb = 0;
      for (let r = r0; r < r1; r++) {
        const i = r * width + k;
        let d = v[i] as number;
        if (relu && y !== null) {
          // Mask once and store: the second backward pass then reads dz without y.
          d *= Math.sign(y[i] as number);
          v[i] = d;
        }
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
 * Per column k of `[rows, width]`, coefficients in locals and rows innermost (in chunks that
 * stay in L1): `out = act(a[k]·v + b[k]·u + c[k])` (`u` null: no b term; `act` a ReLU when
 * `relu`), or with `accumulate` `out += a[k]·v + b[k]·u + k0[k]` where `c` holds b and `k0` the
 * constant. Loading three coefficients per element instead costs more than the arithmetic.
 */
function columnAffine(
  rows: number,
  width: number,
  v: Float32Array,
  a: Float64Array,
  u: Float32Array | null,
  c: Float64Array,
  relu: boolean,
  out: Float32Array,
  accumulate: boolean,
  k0: Float64Array | null = null,
): void {
  for (let r0 = 0; r0 < rows; r0 += CHUNK) {
    const r1 = Math.min(rows, r0 + CHUNK);
    for (let k = 0; k < width; k++) {
      const ak = a[k] as number;
      const ck = c[k] as number;
      if (accumulate && u !== null && k0 !== null) {
        const zk = k0[k] as number;
        for (let r = r0; r < r1; r++) {
          const i = r * width + k;
          out[i] = (out[i] as number) + ak * (v[i] as number) + ck * (u[i] as number) + zk;
        }
      } else if (relu) {
        for (let r = r0; r < r1; r++) {
          const i = r * width + k;
          const t = ak * (v[i] as number) + ck;
          out[i] = (t + Math.abs(t)) * 0.5;
        }
      } else {
        for (let r = r0; r < r1; r++) {
          const i = r * width + k;
          out[i] = ak * (v[i] as number) + ck;
        }
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
  columnAffine(rows, S * B * C, x, colA, null, colB, relu, y, false);
}

/**
 * Backward pass: adds dγ and dβ (`[subBands, channels]`) into `dGamma`, `dBeta` and the input
 * gradient into `dx`, for gradient `dy` at the output `y` (masked by y > 0 when `relu`; the
 * masked gradient overwrites `dy`, which the caller no longer needs). `sums` is scratch of
 * `2 · subBands · channels`; `colA`, `colB`, `colC` of `bins · channels`.
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
): void {
  const { rows, subBands: S, bandBins: B, channels: C } = s;
  const stats = S * C;
  const count = rows * B;
  columnSums(rows, S * B * C, dy, y, relu, x, colA, colB);
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
  // dx += scale·dz + k1·x + k0, per column.
  expandBands(S, B, C, scale, colA);
  expandBands(S, B, C, sums, colB);
  expandBands(S, B, C, sums.subarray(stats), colC);
  columnAffine(rows, S * B * C, dy, colA, x, colB, false, dx, true, colC);
}
