/**
 * `Dense` on the last axis (a 1×1 convolution, or the logits layer) and its gradients
 * (activations `Float32Array`, weights `Float64Array`, arithmetic in float64): `Y[m, j] = b[j] + Σ_k X[m, k]·W[k, j]` for `X` `[rows, inSize]`, `W`
 * `[inSize, outSize]` (tfjs's kernel layout), and backward
 *
 *   dX = dY·Wᵀ,  dW = Xᵀ·dY,  db = Σ_m dY[m, ·]
 *
 * Register blocking (V8 keeps locals in registers; every typed-array access costs several
 * instructions): the products run over two rows × four columns with eight accumulators in
 * locals, so each load feeds two to four multiply-adds. `dX = dY·Wᵀ` is the forward product
 * with the transposed weights, `dW` blocks two input columns × four output columns and runs
 * over the rows innermost.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * `y[m, j] = b[j] + Σ_k x[m, k]·w[k, j]` (or `y += …` when `accumulate`), rows two at a time,
 * columns four at a time; `b` may be null.
 */
function product(
  rows: number,
  inSize: number,
  outSize: number,
  x: Float32Array,
  w: Float64Array,
  b: Float64Array | null,
  y: Float32Array,
  accumulate: boolean,
): void {
  const J = outSize;
  const K = inSize;
  const jFull = J - (J % 4);
  for (let m = 0; m < rows; m += 2) {
    const pair = m + 1 < rows;
    const xa = m * K;
    const xb = pair ? xa + K : xa;
    const ya = m * J;
    const yb = ya + J;
    for (let j = 0; j < J; j += 4) {
      const n = j < jFull ? 4 : J - j;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      if (n === 4) {
        for (let k = 0; k < K; k++) {
          const u = x[xa + k] as number;
          const v = x[xb + k] as number;
          const o = k * J + j;
          const w0 = w[o] as number;
          const w1 = w[o + 1] as number;
          const w2 = w[o + 2] as number;
          const w3 = w[o + 3] as number;
          a0 += u * w0;
          a1 += u * w1;
          a2 += u * w2;
          a3 += u * w3;
          b0 += v * w0;
          b1 += v * w1;
          b2 += v * w2;
          b3 += v * w3;
        }
      } else {
        for (let k = 0; k < K; k++) {
          const u = x[xa + k] as number;
          const v = x[xb + k] as number;
          const o = k * J + j;
          const w0 = w[o] as number;
          const w1 = n > 1 ? (w[o + 1] as number) : 0;
          const w2 = n > 2 ? (w[o + 2] as number) : 0;
          a0 += u * w0;
          a1 += u * w1;
          a2 += u * w2;
          b0 += v * w0;
          b1 += v * w1;
          b2 += v * w2;
        }
      }
      if (n === 4 && b === null && accumulate) {
        y[ya + j] = (y[ya + j] as number) + a0;
        y[ya + j + 1] = (y[ya + j + 1] as number) + a1;
        y[ya + j + 2] = (y[ya + j + 2] as number) + a2;
        y[ya + j + 3] = (y[ya + j + 3] as number) + a3;
        if (pair) {
          y[yb + j] = (y[yb + j] as number) + b0;
          y[yb + j + 1] = (y[yb + j + 1] as number) + b1;
          y[yb + j + 2] = (y[yb + j + 2] as number) + b2;
          y[yb + j + 3] = (y[yb + j + 3] as number) + b3;
        }
      } else if (n === 4 && b === null) {
        y[ya + j] = a0;
        y[ya + j + 1] = a1;
        y[ya + j + 2] = a2;
        y[ya + j + 3] = a3;
        if (pair) {
          y[yb + j] = b0;
          y[yb + j + 1] = b1;
          y[yb + j + 2] = b2;
          y[yb + j + 3] = b3;
        }
      } else {
        const acc = [a0, a1, a2, a3];
        const bcc = [b0, b1, b2, b3];
        for (let q = 0; q < n; q++) {
          const bias = b === null ? 0 : (b[j + q] as number);
          const va = (acc[q] as number) + bias;
          y[ya + j + q] = accumulate ? (y[ya + j + q] as number) + va : va;
          if (pair) {
            const vb = (bcc[q] as number) + bias;
            y[yb + j + q] = accumulate ? (y[yb + j + q] as number) + vb : vb;
          }
        }
      }
    }
  }
}

/** Forward pass: overwrites `y` `[rows, outSize]`; `bias` may be null. */
export function denseForward(
  rows: number,
  inSize: number,
  outSize: number,
  x: Float32Array,
  w: Float64Array,
  bias: Float64Array | null,
  y: Float32Array,
): void {
  product(rows, inSize, outSize, x, w, bias, y, false);
}

/**
 * Backward pass: adds `dW` `[inSize, outSize]`, `db` `[outSize]` (unless null) and, unless `dx`
 * is null, `dX` `[rows, inSize]`. `wT` is scratch of `inSize · outSize` values.
 */
export function denseBackward(
  rows: number,
  inSize: number,
  outSize: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float64Array,
  db: Float64Array | null,
  wT: Float64Array,
): void {
  const K = inSize;
  const J = outSize;
  if (dx !== null) {
    for (let k = 0; k < K; k++) for (let j = 0; j < J; j++) wT[j * K + k] = w[k * J + j] as number;
    product(rows, J, K, dy, wT, null, dx, true);
  }
  if (db !== null) {
    for (let j = 0; j < J; j++) {
      let s = 0;
      for (let m = 0; m < rows; m++) s += dy[m * J + j] as number;
      db[j] = (db[j] as number) + s;
    }
  }
  accumulateWeightGrad(rows, K, J, x, dy, dw);
}

/** Rows per chunk of {@link accumulateWeightGrad}: the chunk's x and dy stay in the L1/L2 cache. */
const CHUNK = 128;

/**
 * `dw[k, j] += Σ_m x[m, k]·dy[m, j]` (`x` `[rows, inSize]`, `dy` `[rows, outSize]`): per chunk of
 * rows, two k × four j accumulators in locals over the chunk's rows.
 */
export function accumulateWeightGrad(
  rows: number,
  inSize: number,
  outSize: number,
  x: Float32Array,
  dy: Float32Array,
  dw: Float64Array,
): void {
  const K = inSize;
  const J = outSize;
  for (let m0 = 0; m0 < rows; m0 += CHUNK) {
    const m1 = Math.min(rows, m0 + CHUNK);
    for (let k = 0; k < K; k += 2) {
      const k2 = k + 1 < K;
      const kb = k2 ? k + 1 : k;
      for (let j = 0; j < J; j += 4) {
        const n = Math.min(4, J - j);
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        if (n === 4) {
          for (let m = m0; m < m1; m++) {
            const u = x[m * K + k] as number;
            const v = x[m * K + kb] as number;
            const o = m * J + j;
            const d0 = dy[o] as number;
            const d1 = dy[o + 1] as number;
            const d2 = dy[o + 2] as number;
            const d3 = dy[o + 3] as number;
            a0 += u * d0;
            a1 += u * d1;
            a2 += u * d2;
            a3 += u * d3;
            b0 += v * d0;
            b1 += v * d1;
            b2 += v * d2;
            b3 += v * d3;
          }
        } else {
          for (let m = m0; m < m1; m++) {
            const u = x[m * K + k] as number;
            const v = x[m * K + kb] as number;
            const o = m * J + j;
            const d0 = dy[o] as number;
            const d1 = n > 1 ? (dy[o + 1] as number) : 0;
            const d2 = n > 2 ? (dy[o + 2] as number) : 0;
            a0 += u * d0;
            a1 += u * d1;
            a2 += u * d2;
            b0 += v * d0;
            b1 += v * d1;
            b2 += v * d2;
          }
        }
        const acc = [a0, a1, a2, a3];
        const bcc = [b0, b1, b2, b3];
        for (let q = 0; q < n; q++) {
          dw[k * J + j + q] = (dw[k * J + j + q] as number) + (acc[q] as number);
          if (k2) dw[(k + 1) * J + j + q] = (dw[(k + 1) * J + j + q] as number) + (bcc[q] as number);
        }
      }
    }
  }
}
