/**
 * Register-blocked matrix products over weights stored in panels of output columns: the kernels
 * that {@link compileConvNet} (1×1 convolutions, 1 → C convolutions of a spectrogram) and
 * {@link compileCrnn} (conv, GRU input projections, attention, classifier) share.
 *
 * Cost model (V8, measured): a typed-array access costs several instructions (map, bounds and
 * base checks are not hoisted out of loops), a local variable none. So each kernel keeps its
 * accumulators in locals and maximises the work per load: with weights in panels of four output
 * columns, two input rows (or positions) at a time use eight accumulators, so each weight load
 * feeds two multiply-adds and each input load four (about 2 GMAC/s on one core).
 *
 * The loops step by a literal 4 rather than {@link PANEL}: V8 reads an exported `const` from its
 * module cell at every use, which made the products 8–15 % slower (measured on the CRNN).
 *
 * Every output is summed in the same order (bias last) by every kernel here, so a row computed
 * alone and the same row computed paired give bit-identical results.
 *
 * Activation: kernels that write a layer output take `relu` and apply `max(0, ·)` as they store,
 * branch-free as `(v + |v|) · 0.5` (exact; see `conv-kernels.ts` for why).
 *
 * @internal
 * @packageDocumentation
 */

/** Output columns per weight panel of {@link matRows} and {@link matVec}. */
export const PANEL = 4;

/**
 * A weight matrix `W` `[inSize, outSize]` stored as ⌈outSize/width⌉ panels of `width` columns,
 * each panel row-major over the input: `data[(p·inSize + i)·width + q] = W[i, p·width + q]` (zero
 * past `outSize`). `bias` is padded to a multiple of `width`, zeros when the layer has none.
 */
export interface Panels {
  /** {@link PANEL} for {@link matVec} / {@link matRows}; the CRNN's recurrent products use 8. */
  readonly width: number;
  readonly inSize: number;
  readonly outSize: number;
  readonly data: Float64Array;
  readonly bias: Float64Array;
}

/** Where {@link toPanels} reads the columns of `W` and what it scales them by. */
export interface PanelSource {
  /** Columns per row of the source matrix. Default: `outSize`. */
  rowLength?: number;
  /** First source column taken (a gate block of a GRU kernel). Default 0. */
  colStart?: number;
  /** Columns per panel. Default {@link PANEL}. */
  width?: number;
  /** Per output column `j`, a factor on column `j` (a folded normalisation). Default none. */
  scale?: ArrayLike<number> | null;
  /** Bias, read at `colStart + j`. Default none (zeros). */
  bias?: ArrayLike<number> | null;
}

/**
 * Rearranges `outSize` columns of a row-major matrix `w` with `inSize` rows (a tfjs `Dense`
 * kernel, a GRU kernel's gate block, conv taps × channels) into {@link Panels}.
 */
export function toPanels(
  w: ArrayLike<number>,
  inSize: number,
  outSize: number,
  source: PanelSource = {},
): Panels {
  const { rowLength = outSize, colStart = 0, width = PANEL, scale = null, bias = null } = source;
  const blocks = Math.ceil(outSize / width);
  const data = new Float64Array(blocks * inSize * width);
  for (let p = 0; p < blocks; p++) {
    for (let i = 0; i < inSize; i++) {
      for (let q = 0; q < width; q++) {
        const j = p * width + q;
        if (j < outSize) {
          data[(p * inSize + i) * width + q] =
            (w[i * rowLength + colStart + j] as number) * (scale === null ? 1 : (scale[j] as number));
        }
      }
    }
  }
  const b = new Float64Array(blocks * width);
  if (bias !== null) for (let j = 0; j < outSize; j++) b[j] = bias[colStart + j] as number;
  return { width, inSize, outSize, data, bias: b };
}

/**
 * Stores four accumulators plus bias at `out[o…o+n)` (`n = min(4, left)`), through a ReLU when
 * `relu`. Called once per four outputs, outside the multiply-add loops.
 */
function store4(
  out: Float64Array,
  o: number,
  left: number,
  bias: Float64Array,
  bOff: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  relu: boolean,
): void {
  let v0 = s0 + (bias[bOff] as number);
  let v1 = s1 + (bias[bOff + 1] as number);
  let v2 = s2 + (bias[bOff + 2] as number);
  let v3 = s3 + (bias[bOff + 3] as number);
  if (relu) {
    v0 = (v0 + Math.abs(v0)) * 0.5;
    v1 = (v1 + Math.abs(v1)) * 0.5;
    v2 = (v2 + Math.abs(v2)) * 0.5;
    v3 = (v3 + Math.abs(v3)) * 0.5;
  }
  out[o] = v0;
  if (left >= 4) {
    out[o + 1] = v1;
    out[o + 2] = v2;
    out[o + 3] = v3;
  } else {
    if (left > 1) out[o + 1] = v1;
    if (left > 2) out[o + 2] = v2;
  }
}

/**
 * Row-wise matrix product: for `r < rows`, `j < outSize`,
 * `y[yOff + r·yStride + j] = act(bias[j] + Σ_i x[xOff + r·xStride + i] · W[i, j])`, `W` in
 * panels of {@link PANEL}, `act` a ReLU (`relu`) or the identity. A 1×1 convolution (tfjs
 * `Dense` on the last axis) over every (frame, row) position, a GRU's input projection of a
 * whole sequence, or a 1 → C convolution whose taps are a run of a window
 * ({@link convTapPanels}). Two rows at a time share each weight load; a row is summed in the
 * same order whether it is paired or alone (an odd one), so results do not depend on `rows`.
 */
export function matRows(
  p: Panels,
  x: Float64Array,
  xOff: number,
  xStride: number,
  rows: number,
  y: Float64Array,
  yOff: number,
  yStride: number,
  relu: boolean,
): void {
  const n = p.inSize;
  const out = p.outSize;
  const w = p.data;
  const b = p.bias;
  let r = 0;
  // An odd row goes first: code after a hot loop first runs in code optimised on-stack without
  // feedback for it, and V8 then deoptimises on every call.
  if (rows % 2 === 1) {
    matVec(p, x, xOff, y, yOff, relu);
    r = 1;
  }
  for (; r < rows; r += 2) {
    const xa = xOff + r * xStride;
    const xb = xa + xStride;
    const ya = yOff + r * yStride;
    let o = 0;
    for (let j = 0; j < out; j += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      for (let i = 0; i < n; i++) {
        const u = x[xa + i] as number;
        const v = x[xb + i] as number;
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
        o += 4;
      }
      store4(y, ya + j, out - j, b, j, a0, a1, a2, a3, relu);
      store4(y, ya + yStride + j, out - j, b, j, b0, b1, b2, b3, relu);
    }
  }
}

/**
 * One row of {@link matRows}: `y[yOff + j] = act(bias[j] + Σ_i x[xOff + i] · W[i, j])`. Its own
 * four-accumulator loop: as `matRows` with one row, a recurrent CRNN step ran 4 % slower.
 */
export function matVec(
  p: Panels,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  relu: boolean,
): void {
  const { inSize: n, outSize: out, data: w, bias: b } = p;
  let o = 0;
  for (let j = 0; j < out; j += 4) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i++) {
      const u = x[xOff + i] as number;
      s0 += u * (w[o] as number);
      s1 += u * (w[o + 1] as number);
      s2 += u * (w[o + 2] as number);
      s3 += u * (w[o + 3] as number);
      o += 4;
    }
    store4(y, yOff + j, out - j, b, j, s0, s1, s2, s3, relu);
  }
}

/**
 * A 1 → C convolution kernel `W` `[kt, kf, C]` per weight group (row-major, groups one after
 * the other; `bias` `[groups, C]` or null) as one {@link Panels} matrix per group over the taps
 * of a transposed window, so that {@link matRows} computes the convolution.
 *
 * The window holds `kt' = (kt − 1)·dt + 1` frames of every frequency row, row-major
 * (`window[row·kt' + i]`), so the taps of an output at row `r·s` are the contiguous run of
 * `kf'·kt'` values from `window[r·s·kt']`, `kf' = (kf − 1)·df + 1`: matrix row
 * `j·df·kt' + i·dt` holds `W[i, j, ·]`, and the rows between dilated taps are zero (exact: those
 * products are zeros; no kws-kit model has a dilated 1 → C convolution). The sum runs over the
 * taps in (j, i) order, frames innermost.
 */
export function convTapPanels(
  kernel: ArrayLike<number>,
  kt: number,
  kf: number,
  channels: number,
  bias: Float32Array | Float64Array | null,
  groups = 1,
  dt = 1,
  df = 1,
): Panels[] {
  const spanT = (kt - 1) * dt + 1;
  const inSize = ((kf - 1) * df + 1) * spanT;
  const out: Panels[] = [];
  for (let g = 0; g < groups; g++) {
    const m = new Float64Array(inSize * channels);
    for (let i = 0; i < kt; i++) {
      for (let j = 0; j < kf; j++) {
        const row = j * df * spanT + i * dt;
        for (let c = 0; c < channels; c++) {
          m[row * channels + c] = kernel[((g * kt + i) * kf + j) * channels + c] as number;
        }
      }
    }
    const b = bias === null ? null : bias.subarray(g * channels, (g + 1) * channels);
    out.push(toPanels(m, inSize, channels, { bias: b }));
  }
  return out;
}
