/**
 * `Dense` on the last axis (a 1×1 convolution, or the logits layer) and its gradients
 * (activations `Float32Array`, weights `Float64Array`, arithmetic in float64):
 * `Y[m, j] = b[j] + Σ_k X[m, k]·W[k, j]` for `X` `[rows, inSize]`, `W` `[inSize, outSize]`
 * (tfjs's kernel layout), and backward
 *
 *   dX = dY·Wᵀ,  dW = Xᵀ·dY,  db = Σ_m dY[m, ·]
 *
 * `Y` and `dX` are the inference runtime's panel products over panels of `W` and `Wᵀ` refreshed
 * from the weights on every call (see {@link product}); `dW` keeps blocks of its sums in locals
 * and runs over the rows innermost.
 *
 * @internal
 * @packageDocumentation
 */
import { fillPanels, matRows, matRowsStationary, type Panels, toPanels } from '../../models/panel-matmul.js';

/** A `Dense` kernel as the products read it: panels of `W` (with the bias) and of `Wᵀ`. */
export interface DensePanels {
  readonly forward: Panels;
  readonly transposed: Panels;
}

/** Panels for an `inSize × outSize` kernel (contents written by each forward / backward call). */
export function densePanels(inSize: number, outSize: number): DensePanels {
  return {
    forward: toPanels(new Float64Array(inSize * outSize), inSize, outSize),
    transposed: toPanels(new Float64Array(inSize * outSize), outSize, inSize),
  };
}

/**
 * `y[r, ·] = x[r, ·]·W + bias` for `rows` rows with `p`'s inner size: the weight-stationary
 * product when that size is a multiple of eight (0.7–0.85× the time of `matRows` here on
 * BC-ResNet's 1×1 convolutions), else `matRows` (the stationary one's four-input chunks made it
 * 1.05–1.15× slower at 12 and 20 inputs; interleaved A/B on Float32 activations).
 */
function product(p: Panels, rows: number, x: Float32Array, y: Float32Array): void {
  if (p.inSize % 8 === 0) matRowsStationary(p, x, 0, p.inSize, rows, y, 0, p.outSize, false);
  else matRows(p, x, 0, p.inSize, rows, y, 0, p.outSize, false);
}

/** Forward pass: overwrites `y` `[rows, outSize]` with `x·w + bias` (`bias` may be null). */
export function denseForward(
  rows: number,
  p: DensePanels,
  w: Float64Array,
  bias: Float64Array | null,
  x: Float32Array,
  y: Float32Array,
): void {
  fillPanels(p.forward, w, { bias });
  product(p.forward, rows, x, y);
}

/**
 * Backward pass: adds `dW` `[inSize, outSize]` and `db` `[outSize]` (unless null); unless `dx` is
 * null, writes (`assign`) or adds `dX` `[rows, inSize]`; adding goes through `scratch` (at least
 * `rows · inSize` values).
 */
export function denseBackward(
  rows: number,
  p: DensePanels,
  w: Float64Array,
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array | null,
  assign: boolean,
  scratch: Float32Array,
  dw: Float64Array,
  db: Float64Array | null,
): void {
  const { inSize: K, outSize: J } = p.forward;
  if (dx !== null) {
    fillPanels(p.transposed, w, { transposed: true });
    const out = assign ? dx : scratch;
    product(p.transposed, rows, dy, out);
    if (!assign) {
      const n = rows * K;
      for (let i = 0; i < n; i++) dx[i] = (dx[i] as number) + (scratch[i] as number);
    }
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
 * rows, blocks of k × four j accumulators in locals over the chunk's rows: three k when `inSize`
 * is a multiple of three (seven loads per twelve multiply-adds: 10–25 % faster on those shapes),
 * else two. A last block of fewer k or j repeats its last index and stores only the real ones.
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
  const three = K % 3 === 0;
  for (let m0 = 0; m0 < rows; m0 += CHUNK) {
    const m1 = Math.min(rows, m0 + CHUNK);
    for (let k = 0; k < K; k += three ? 3 : 2) {
      const kb = Math.min(k + 1, K - 1);
      const kc = three ? k + 2 : kb;
      for (let j = 0; j < J; j += 4) {
        const n = Math.min(4, J - j);
        const j1 = n > 1 ? 1 : 0;
        const j2 = n > 2 ? 2 : j1;
        const j3 = n > 3 ? 3 : j2;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        let c0 = 0;
        let c1 = 0;
        let c2 = 0;
        let c3 = 0;
        let xi = m0 * K;
        let o = m0 * J + j;
        if (three) {
          for (let m = m0; m < m1; m++) {
            const u = x[xi + k] as number;
            const v = x[xi + kb] as number;
            const z = x[xi + kc] as number;
            let d = dy[o] as number;
            a0 += u * d;
            b0 += v * d;
            c0 += z * d;
            d = dy[o + j1] as number;
            a1 += u * d;
            b1 += v * d;
            c1 += z * d;
            d = dy[o + j2] as number;
            a2 += u * d;
            b2 += v * d;
            c2 += z * d;
            d = dy[o + j3] as number;
            a3 += u * d;
            b3 += v * d;
            c3 += z * d;
            xi += K;
            o += J;
          }
        } else {
          for (let m = m0; m < m1; m++) {
            const u = x[xi + k] as number;
            const v = x[xi + kb] as number;
            const d0 = dy[o] as number;
            const d1 = dy[o + j1] as number;
            const d2 = dy[o + j2] as number;
            const d3 = dy[o + j3] as number;
            a0 += u * d0;
            a1 += u * d1;
            a2 += u * d2;
            a3 += u * d3;
            b0 += v * d0;
            b1 += v * d1;
            b2 += v * d2;
            b3 += v * d3;
            xi += K;
            o += J;
          }
        }
        addBlock(dw, k * J + j, n, a0, a1, a2, a3);
        if (kb !== k) addBlock(dw, kb * J + j, n, b0, b1, b2, b3);
        if (kc !== kb) addBlock(dw, kc * J + j, n, c0, c1, c2, c3);
      }
    }
  }
}

/** `dw[o + q] += s_q` for the first `n` of four sums (outside the multiply-add loops). */
function addBlock(
  dw: Float64Array,
  o: number,
  n: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
): void {
  dw[o] = (dw[o] as number) + s0;
  if (n > 1) dw[o + 1] = (dw[o + 1] as number) + s1;
  if (n > 2) dw[o + 2] = (dw[o + 2] as number) + s2;
  if (n > 3) dw[o + 3] = (dw[o + 3] as number) + s3;
}
