/**
 * Activations, broadcast sums and means of the compiled trainer and their gradients, on
 * `Float32Array`s (arithmetic in float64) in channels-last layout `[batch, frames, bins, channels]`. Backward functions
 * ADD into the input gradient (a value read by several layers collects every consumer's term).
 *
 * @internal
 * @packageDocumentation
 */

/** `y = max(0, x)` over `size` values, branch-free (`(v + |v|)/2` is exact). */
export function reluForward(size: number, x: Float32Array, y: Float32Array): void {
  for (let k = 0; k < size; k++) {
    const v = x[k] as number;
    y[k] = (v + Math.abs(v)) * 0.5;
  }
}

/** `dx += dy · [y > 0]` (tfjs's ReLU gradient: zero at 0); `sign(y)` is that mask for y ≥ 0. */
export function reluBackward(size: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  for (let k = 0; k < size; k++) dx[k] = (dx[k] as number) + (dy[k] as number) * Math.sign(y[k] as number);
}

/** SiLU / swish `y = x·σ(x)`; stores σ(x) in `sig` for the backward pass. */
export function swishForward(size: number, x: Float32Array, y: Float32Array, sig: Float32Array): void {
  for (let k = 0; k < size; k++) {
    const v = x[k] as number;
    const s = 1 / (1 + Math.exp(-v));
    sig[k] = s;
    y[k] = v * s;
  }
}

/** `dx += dy · (σ + x·σ·(1 − σ))`. */
export function swishBackward(
  size: number,
  x: Float32Array,
  sig: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
): void {
  for (let k = 0; k < size; k++) {
    const s = sig[k] as number;
    dx[k] = (dx[k] as number) + (dy[k] as number) * (s + (x[k] as number) * s * (1 - s));
  }
}

/**
 * `y = act(a + b + broadcast(e))` over `[rows, bins, C]`: `a` full-size, `b` full-size or null,
 * `e` `[rows, 1, C]` broadcast over the bins or null (BC-ResNet's block sum), `act` a ReLU when
 * `relu`, else the identity.
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
  for (let r = 0; r < rows; r++) {
    const eo = r * C;
    for (let f = 0; f < bins; f++) {
      const o = (r * bins + f) * C;
      for (let c = 0; c < C; c++) {
        let v = a[o + c] as number;
        if (b !== null) v += b[o + c] as number;
        if (e !== null) v += e[eo + c] as number;
        y[o + c] = relu ? (v + Math.abs(v)) * 0.5 : v;
      }
    }
  }
}

/**
 * Gradient of {@link addForward}: with dz = dy (masked by y > 0 when `relu`), `da += dz`,
 * `db += dz`, `de[r, 0, c] += Σ_f dz[r, f, c]` (each skipped when null). With `assignA` /
 * `assignB` the step is the first to write that gradient in the backward pass and overwrites it
 * (no zeroing pass, no read).
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
  for (let r = 0; r < rows; r++) {
    const eo = r * C;
    for (let f = 0; f < bins; f++) {
      const o = (r * bins + f) * C;
      for (let c = 0; c < C; c++) {
        const d = relu ? (dy[o + c] as number) * Math.sign(y[o + c] as number) : (dy[o + c] as number);
        da[o + c] = assignA ? d : (da[o + c] as number) + d;
        if (db !== null) db[o + c] = assignB ? d : (db[o + c] as number) + d;
        if (de !== null) de[eo + c] = (de[eo + c] as number) + d;
      }
    }
  }
}

/**
 * Mean over the middle axis of `[groups, len, C]` into `[groups, C]`: `FrequencyMean` (groups =
 * batch · frames, len = bins) and global average pooling (groups = batch, len = frames · bins).
 */
export function meanForward(groups: number, len: number, C: number, x: Float32Array, y: Float32Array): void {
  const inv = 1 / len;
  // Channel outer, positions inner: one group (len·C values) stays in L1 and each mean is
  // summed in a local, stored once.
  for (let g = 0; g < groups; g++) {
    const base = g * len * C;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let k = 0, i = base + c; k < len; k++, i += C) sum += x[i] as number;
      y[g * C + c] = sum * inv;
    }
  }
}

/** Gradient of {@link meanForward}: `dx[g, k, c] += dy[g, c] / len`. */
export function meanBackward(
  groups: number,
  len: number,
  C: number,
  dy: Float32Array,
  dx: Float32Array,
): void {
  const inv = 1 / len;
  for (let g = 0; g < groups; g++) {
    const base = g * len * C;
    for (let c = 0; c < C; c++) {
      const d = (dy[g * C + c] as number) * inv;
      for (let k = 0, i = base + c; k < len; k++, i += C) dx[i] = (dx[i] as number) + d;
    }
  }
}
