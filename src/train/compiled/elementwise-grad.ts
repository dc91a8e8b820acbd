/**
 * Activations, broadcast sums and means of the compiled trainer and their gradients, on
 * `Float32Array`s (arithmetic in float64) in channels-last layout `[batch, frames, bins, channels]`. Backward functions
 * ADD into the input gradient (a value read by several layers collects every consumer's term).
 *
 * @internal
 * @packageDocumentation
 */
import { sigmoid } from '../../models/activations.js';

/** `y = max(0, x)` over `size` values, branch-free (`(v + |v|)/2` is exact). */
export function reluForward(size: number, x: Float32Array, y: Float32Array): void {
  for (let k = 0; k < size; k++) {
    const v = x[k] as number;
    y[k] = (v + Math.abs(v)) * 0.5;
  }
}

/**
 * The bits of a ReLU's output `y` (≥ 0, never −0) as int32: `-bits >>> 31` is then the mask
 * [y > 0] without a branch or a float compare (`Math.sign` on half-zero data costs about 1.5 ns
 * more per element here).
 */
export function reluMask(y: Float32Array, size: number): Int32Array {
  return new Int32Array(y.buffer, y.byteOffset, size);
}

/** `dx += dy · [y > 0]` (tfjs's ReLU gradient: zero at 0). */
export function reluBackward(size: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const m = reluMask(y, size);
  for (let k = 0; k < size; k++) dx[k] = (dx[k] as number) + (dy[k] as number) * (-(m[k] as number) >>> 31);
}

/**
 * SiLU / swish `y = x·σ(x)`; stores σ(x) in `sig` for the backward pass. σ is the inference
 * runtime's `sigmoid` (its inlined `exp`: absolute error < 1e-8, about twice as fast as
 * `Math.exp`).
 */
export function swishForward(size: number, x: Float32Array, y: Float32Array, sig: Float32Array): void {
  for (let k = 0; k < size; k++) {
    const v = x[k] as number;
    const s = sigmoid(v);
    sig[k] = s;
    y[k] = v * s;
  }
}

/** `dx += dy · (σ + x·σ·(1 − σ))` (`assign`: `=`). */
export function swishBackward(
  size: number,
  x: Float32Array,
  sig: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  assign: boolean,
): void {
  for (let k = 0; k < size; k++) {
    const s = sig[k] as number;
    const d = (dy[k] as number) * (s + (x[k] as number) * s * (1 - s));
    dx[k] = assign ? d : (dx[k] as number) + d;
  }
}

/**
 * `y = act(a + b + broadcast(e))` over `[rows, bins, C]`: `a` full-size, `b` full-size or null,
 * `e` `[rows, 1, C]` broadcast over the bins or null (BC-ResNet's block sum), `act` a ReLU when
 * `relu`, else the identity.
 *
 * With `e`, per (row, channel) the broadcast value sits in a local and the bins run innermost;
 * each combination of `b` and `relu` has its own loop (a loop-invariant test inside the loop
 * costs V8 a compare and branch per element). With a ReLU (BC-ResNet's block), four channels
 * share each pass over the bins: on 5- to 20-bin rows the per-channel loops were mostly loop
 * overhead (0.65× the time of one channel per pass, interleaved A/B on BC-ResNet-1).
 */
export function addForward(
  rows: number,
  bins: number,
  C: number,
  a: Float32Array,
  b: Float32Array | null,
  e: Float32Array | null,
  relu: boolean,
  y: Float32Array,
): void {
  const frame = bins * C;
  if (e === null) {
    const n = rows * frame;
    if (b === null) {
      for (let i = 0; i < n; i++) {
        const v = a[i] as number;
        y[i] = relu ? (v + Math.abs(v)) * 0.5 : v;
      }
    } else if (relu) {
      for (let i = 0; i < n; i++) {
        const v = (a[i] as number) + (b[i] as number);
        y[i] = (v + Math.abs(v)) * 0.5;
      }
    } else {
      for (let i = 0; i < n; i++) y[i] = (a[i] as number) + (b[i] as number);
    }
    return;
  }
  // BC-ResNet's block (a ReLU, with or without the identity input): four channels per pass over
  // the bins, a quarter of the loop overhead on 5-bin rows.
  const c4 = relu ? C - (C % 4) : 0;
  for (let r = 0; r < rows; r++) {
    const base = r * frame;
    const end = base + frame;
    const eo = r * C;
    for (let c = 0; c < c4; c += 4) {
      const e0 = e[eo + c] as number;
      const e1 = e[eo + c + 1] as number;
      const e2 = e[eo + c + 2] as number;
      const e3 = e[eo + c + 3] as number;
      if (b !== null) {
        for (let i = base + c; i < end; i += C) {
          const v0 = (a[i] as number) + (b[i] as number) + e0;
          const v1 = (a[i + 1] as number) + (b[i + 1] as number) + e1;
          const v2 = (a[i + 2] as number) + (b[i + 2] as number) + e2;
          const v3 = (a[i + 3] as number) + (b[i + 3] as number) + e3;
          y[i] = (v0 + Math.abs(v0)) * 0.5;
          y[i + 1] = (v1 + Math.abs(v1)) * 0.5;
          y[i + 2] = (v2 + Math.abs(v2)) * 0.5;
          y[i + 3] = (v3 + Math.abs(v3)) * 0.5;
        }
      } else {
        for (let i = base + c; i < end; i += C) {
          const v0 = (a[i] as number) + e0;
          const v1 = (a[i + 1] as number) + e1;
          const v2 = (a[i + 2] as number) + e2;
          const v3 = (a[i + 3] as number) + e3;
          y[i] = (v0 + Math.abs(v0)) * 0.5;
          y[i + 1] = (v1 + Math.abs(v1)) * 0.5;
          y[i + 2] = (v2 + Math.abs(v2)) * 0.5;
          y[i + 3] = (v3 + Math.abs(v3)) * 0.5;
        }
      }
    }
    for (let c = c4; c < C; c++) {
      const ev = e[r * C + c] as number;
      if (b !== null && relu) {
        for (let i = base + c; i < end; i += C) {
          const v = (a[i] as number) + (b[i] as number) + ev;
          y[i] = (v + Math.abs(v)) * 0.5;
        }
      } else if (b !== null) {
        for (let i = base + c; i < end; i += C) y[i] = (a[i] as number) + (b[i] as number) + ev;
      } else if (relu) {
        for (let i = base + c; i < end; i += C) {
          const v = (a[i] as number) + ev;
          y[i] = (v + Math.abs(v)) * 0.5;
        }
      } else {
        for (let i = base + c; i < end; i += C) y[i] = (a[i] as number) + ev;
      }
    }
  }
}

/**
 * Gradient of {@link addForward}: with dz = dy (masked by y > 0 when `relu`), `da += dz`,
 * `db += dz`, `de[r, 0, c] += Σ_f dz[r, f, c]` (each skipped when null). With `assignA` /
 * `assignB` the step is the first to write that gradient in the backward pass and overwrites it
 * (no zeroing pass, no read).
 *
 * One pass: per (row, channel) the bins run innermost and `de`'s sum stays in a local. The
 * hot case (BC-ResNet's block: a ReLU, both full-size gradients assigned, a broadcast term) has
 * its own loop, over four channels per pass (0.75–0.85× the time of one channel per pass); the
 * others share one with loop-invariant tests.
 */
export function addBackward(
  rows: number,
  bins: number,
  C: number,
  y: Float32Array,
  relu: boolean,
  dy: Float32Array,
  da: Float32Array,
  assignA: boolean,
  db: Float32Array | null,
  assignB: boolean,
  de: Float32Array | null,
): void {
  const frame = bins * C;
  const m = reluMask(y, rows * frame);
  if (relu && assignA && (assignB || db === null) && de !== null) {
    const c4 = C - (C % 4);
    for (let r = 0; r < rows; r++) {
      const base = r * frame;
      const end = base + frame;
      const eo = r * C;
      // Four channels per pass over the bins: a quarter of the loop overhead on 5-bin rows.
      for (let c = 0; c < c4; c += 4) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let i = base + c; i < end; i += C) {
          const d0 = (dy[i] as number) * (-(m[i] as number) >>> 31);
          const d1 = (dy[i + 1] as number) * (-(m[i + 1] as number) >>> 31);
          const d2 = (dy[i + 2] as number) * (-(m[i + 2] as number) >>> 31);
          const d3 = (dy[i + 3] as number) * (-(m[i + 3] as number) >>> 31);
          da[i] = d0;
          da[i + 1] = d1;
          da[i + 2] = d2;
          da[i + 3] = d3;
          if (db !== null) {
            db[i] = d0;
            db[i + 1] = d1;
            db[i + 2] = d2;
            db[i + 3] = d3;
          }
          s0 += d0;
          s1 += d1;
          s2 += d2;
          s3 += d3;
        }
        de[eo + c] = (de[eo + c] as number) + s0;
        de[eo + c + 1] = (de[eo + c + 1] as number) + s1;
        de[eo + c + 2] = (de[eo + c + 2] as number) + s2;
        de[eo + c + 3] = (de[eo + c + 3] as number) + s3;
      }
      for (let c = c4; c < C; c++) {
        let s = 0;
        if (db !== null) {
          for (let i = base + c; i < end; i += C) {
            const d = (dy[i] as number) * (-(m[i] as number) >>> 31);
            da[i] = d;
            db[i] = d;
            s += d;
          }
        } else {
          for (let i = base + c; i < end; i += C) {
            const d = (dy[i] as number) * (-(m[i] as number) >>> 31);
            da[i] = d;
            s += d;
          }
        }
        de[r * C + c] = (de[r * C + c] as number) + s;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * frame;
    const end = base + frame;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = base + c; i < end; i += C) {
        const d = relu ? (dy[i] as number) * (-(m[i] as number) >>> 31) : (dy[i] as number);
        da[i] = assignA ? d : (da[i] as number) + d;
        if (db !== null) db[i] = assignB ? d : (db[i] as number) + d;
        s += d;
      }
      if (de !== null) de[r * C + c] = (de[r * C + c] as number) + s;
    }
  }
}

/**
 * Mean over the middle axis of `[groups, len, C]` into `[groups, C]`: `FrequencyMean` (groups =
 * batch · frames, len = bins) and global average pooling (groups = batch, len = frames · bins).
 * Per group, four channels at a time sum in locals over the positions (one group stays in L1).
 */
export function meanForward(groups: number, len: number, C: number, x: Float32Array, y: Float32Array): void {
  const inv = 1 / len;
  const c4 = C - (C % 4);
  for (let g = 0; g < groups; g++) {
    const base = g * len * C;
    const end = base + len * C;
    const o = g * C;
    for (let c = 0; c < c4; c += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = base + c; i < end; i += C) {
        s0 += x[i] as number;
        s1 += x[i + 1] as number;
        s2 += x[i + 2] as number;
        s3 += x[i + 3] as number;
      }
      y[o + c] = s0 * inv;
      y[o + c + 1] = s1 * inv;
      y[o + c + 2] = s2 * inv;
      y[o + c + 3] = s3 * inv;
    }
    for (let c = c4; c < C; c++) {
      let s = 0;
      for (let i = base + c; i < end; i += C) s += x[i] as number;
      y[o + c] = s * inv;
    }
  }
}

/**
 * Gradient of {@link meanForward}: `dx[g, k, c] += dy[g, c] / len` (`assign`: `=`), four
 * channels at a time with their terms in locals.
 */
export function meanBackward(
  groups: number,
  len: number,
  C: number,
  dy: Float32Array,
  dx: Float32Array,
  assign: boolean,
): void {
  const inv = 1 / len;
  const c4 = C - (C % 4);
  for (let g = 0; g < groups; g++) {
    const base = g * len * C;
    const end = base + len * C;
    const o = g * C;
    for (let c = 0; c < c4; c += 4) {
      const d0 = (dy[o + c] as number) * inv;
      const d1 = (dy[o + c + 1] as number) * inv;
      const d2 = (dy[o + c + 2] as number) * inv;
      const d3 = (dy[o + c + 3] as number) * inv;
      if (assign) {
        for (let i = base + c; i < end; i += C) {
          dx[i] = d0;
          dx[i + 1] = d1;
          dx[i + 2] = d2;
          dx[i + 3] = d3;
        }
      } else {
        for (let i = base + c; i < end; i += C) {
          dx[i] = (dx[i] as number) + d0;
          dx[i + 1] = (dx[i + 1] as number) + d1;
          dx[i + 2] = (dx[i + 2] as number) + d2;
          dx[i + 3] = (dx[i + 3] as number) + d3;
        }
      }
    }
    for (let c = c4; c < C; c++) {
      const d = (dy[o + c] as number) * inv;
      for (let i = base + c; i < end; i += C) dx[i] = assign ? d : (dx[i] as number) + d;
    }
  }
}
