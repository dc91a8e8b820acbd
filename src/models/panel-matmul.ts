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

/**
 * Activations the products read and write: the inference runtimes' `Float64Array`s, the
 * training program's `Float32Array`s. A process (or worker thread) that runs only one of them
 * keeps every access site monomorphic: inference speed is then unchanged (interleaved A/B against
 * the Float64-only kernels: 0.93–1.00×). One isolate that runs both makes the sites bimorphic:
 * there `matRows` took 1.16–1.23× and `residualFreqConv` 1.22–1.27× the time, `conv5x5` and
 * `timeConv` unchanged.
 */
export type FloatArray = Float32Array | Float64Array;

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
  /** Columns per row of the source matrix. Default: `outSize` (`inSize` when `transposed`). */
  rowLength?: number;
  /** First source column taken (a gate block of a GRU kernel). Default 0. */
  colStart?: number;
  /** Columns per panel. Default {@link PANEL}. */
  width?: number;
  /** Per output column `j`, a factor on column `j` (a folded normalisation). Default none. */
  scale?: ArrayLike<number> | null;
  /** Bias, read at `colStart + j`. Default none (zeros). */
  bias?: ArrayLike<number> | null;
  /**
   * The source holds `Wᵀ` row-major (`W[i, j]` at `(colStart + j)·rowLength + i`): the input
   * gradient `dY·Wᵀ` of a `Dense` layer from its kernel. Default false.
   */
  transposed?: boolean;
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
  const width = source.width ?? PANEL;
  const blocks = Math.ceil(outSize / width);
  const p: Panels = {
    width,
    inSize,
    outSize,
    data: new Float64Array(blocks * inSize * width),
    bias: new Float64Array(blocks * width),
  };
  fillPanels(p, w, source);
  return p;
}

/**
 * Rewrites the panels `p` (from {@link toPanels} with the same sizes and width) from `w`: the
 * training program refreshes its panels after every weight update without allocating.
 */
export function fillPanels(p: Panels, w: ArrayLike<number>, source: PanelSource = {}): void {
  const { width, inSize, outSize, data, bias: b } = p;
  const { colStart = 0, scale = null, bias = null, transposed = false } = source;
  const rowLength = source.rowLength ?? (transposed ? inSize : outSize);
  // Element (i, j) of W sits at i·rowStep + (colStart + j)·colStep.
  const rowStep = transposed ? 1 : rowLength;
  const colStep = transposed ? rowLength : 1;
  const blocks = Math.ceil(outSize / width);
  for (let q = 0; q < blocks; q++) {
    for (let i = 0; i < inSize; i++) {
      for (let r = 0; r < width; r++) {
        const j = q * width + r;
        data[(q * inSize + i) * width + r] =
          j < outSize
            ? (w[i * rowStep + (colStart + j) * colStep] as number) *
              (scale === null ? 1 : (scale[j] as number))
            : 0;
      }
    }
  }
  b.fill(0);
  if (bias !== null) for (let j = 0; j < outSize; j++) b[j] = bias[colStart + j] as number;
}

/**
 * Stores four accumulators plus bias at `out[o…o+n)` (`n = min(4, left)`), through a ReLU when
 * `relu`. Called once per four outputs, outside the multiply-add loops.
 */
function store4(
  out: FloatArray,
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
  x: FloatArray,
  xOff: number,
  xStride: number,
  rows: number,
  y: FloatArray,
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
  x: FloatArray,
  xOff: number,
  y: FloatArray,
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

/** Rows per tile of {@link matRowsStationary}. */
const TILE = 64;

/** Scratch for a partial last block of {@link matRowsStationary}: `[TILE, 4]`. */
const PARTIAL_TILE = /* @__PURE__ */ new Float64Array(4 * TILE);

/**
 * Row-wise matrix product with the same operands and meaning as {@link matRows} (panels of width
 * {@link PANEL}), computed weight-stationary for the compiled conv runtime's 1×1 convolutions, whose
 * input sizes are small (8–32 channels) and whose rows are many (every frame and frequency row):
 * per block of four output columns and chunk of up to eight inputs, the chunk's 32 weights live in
 * local variables while all rows stream through, so a row costs eight input loads for 32
 * multiply-adds (`matRows` loads a weight for every two). Chunks after the first add to the
 * partial sums stored in `y`; the bias goes into the first, the ReLU into the last. Rows run in
 * tiles of {@link TILE}; a last block of fewer than four columns is computed into a scratch tile.
 * 0.58–0.75× the time of `matRows` on BC-ResNet-1's 1×1 convolutions (interleaved A/B, one
 * process). Sums run in another order than `matRows`', so results differ from it in float64
 * rounding (about 1e-16 relative); they do not depend on `rows`.
 */
export function matRowsStationary(
  p: Panels,
  x: FloatArray,
  xOff: number,
  xStride: number,
  rows: number,
  y: FloatArray,
  yOff: number,
  yStride: number,
  relu: boolean,
): void {
  const n = p.inSize;
  const out = p.outSize;
  const w = p.data;
  const b = p.bias;
  // With a ReLU, every chunk's weights and the bias are halved (exact: a power of two), so that
  // max(0, v) = (v + |v|) / 2 is u + |u| of the halved sum u: the same results bit for bit, one
  // multiplication less per output.
  const h = relu ? 0.5 : 1;
  // Tiles of rows keep a tile's inputs and partial sums in the L1 cache across blocks and chunks,
  // and make each kernel call short: V8 then optimises the kernels for their many calls, with
  // feedback from their prologues, instead of on-stack in the first long loop (a slow mode seen
  // in about half the processes without tiles).
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const n0 = Math.min(TILE, rows - r0);
    const xr = xOff + r0 * xStride;
    const yr = yOff + r0 * yStride;
    for (let j = 0; j < out; j += 4) {
      // A last block of fewer than four columns is computed whole into a scratch tile and copied.
      const partial = out - j < 4;
      const yb = partial ? PARTIAL_TILE : y;
      const yo = partial ? 0 : yr + j;
      const ys = partial ? 4 : yStride;
      // Block j/4 starts at (j/4)·n·4 = j·n; input i of it at j·n + 4i.
      let i = 0;
      for (; i + 8 <= n; i += 8) {
        stationary8(
          x,
          xr + i,
          xStride,
          n0,
          w,
          j * n + 4 * i,
          yb,
          yo,
          ys,
          b,
          j,
          i === 0,
          relu && i + 8 === n,
          h,
        );
      }
      for (; i + 4 <= n; i += 4) {
        stationary4(
          x,
          xr + i,
          xStride,
          n0,
          w,
          j * n + 4 * i,
          yb,
          yo,
          ys,
          b,
          j,
          i === 0,
          relu && i + 4 === n,
          h,
        );
      }
      for (; i < n; i++) {
        stationary1(
          x,
          xr + i,
          xStride,
          n0,
          w,
          j * n + 4 * i,
          yb,
          yo,
          ys,
          b,
          j,
          i === 0,
          relu && i + 1 === n,
          h,
        );
      }
      if (partial) {
        for (let r = 0; r < n0; r++) {
          for (let q = 0; q < out - j; q++) y[yr + r * yStride + j + q] = PARTIAL_TILE[4 * r + q] as number;
        }
      }
    }
  }
}

/**
 * Eight inputs × four outputs of {@link matRowsStationary}: for each of `rows` rows (`x` from
 * `xo`, stride `xs`; `y` from `yo`, stride `ys`), `y[0…4) = (first ? h·bias : y) + x[0…8) · h·W`,
 * with `W` the 32 values `w[wo + 4i + q]`, then `u + |u|` of each output `u` when `relu` (a ReLU
 * of the sum before halving when `h` is 1/2).
 */
function stationary8(
  x: FloatArray,
  xo: number,
  xs: number,
  rows: number,
  w: Float64Array,
  wo: number,
  y: FloatArray,
  yo: number,
  ys: number,
  bias: Float64Array,
  bo: number,
  first: boolean,
  relu: boolean,
  h: number,
): void {
  const w00 = (w[wo] as number) * h;
  const w01 = (w[wo + 1] as number) * h;
  const w02 = (w[wo + 2] as number) * h;
  const w03 = (w[wo + 3] as number) * h;
  const w10 = (w[wo + 4] as number) * h;
  const w11 = (w[wo + 5] as number) * h;
  const w12 = (w[wo + 6] as number) * h;
  const w13 = (w[wo + 7] as number) * h;
  const w20 = (w[wo + 8] as number) * h;
  const w21 = (w[wo + 9] as number) * h;
  const w22 = (w[wo + 10] as number) * h;
  const w23 = (w[wo + 11] as number) * h;
  const w30 = (w[wo + 12] as number) * h;
  const w31 = (w[wo + 13] as number) * h;
  const w32 = (w[wo + 14] as number) * h;
  const w33 = (w[wo + 15] as number) * h;
  const w40 = (w[wo + 16] as number) * h;
  const w41 = (w[wo + 17] as number) * h;
  const w42 = (w[wo + 18] as number) * h;
  const w43 = (w[wo + 19] as number) * h;
  const w50 = (w[wo + 20] as number) * h;
  const w51 = (w[wo + 21] as number) * h;
  const w52 = (w[wo + 22] as number) * h;
  const w53 = (w[wo + 23] as number) * h;
  const w60 = (w[wo + 24] as number) * h;
  const w61 = (w[wo + 25] as number) * h;
  const w62 = (w[wo + 26] as number) * h;
  const w63 = (w[wo + 27] as number) * h;
  const w70 = (w[wo + 28] as number) * h;
  const w71 = (w[wo + 29] as number) * h;
  const w72 = (w[wo + 30] as number) * h;
  const w73 = (w[wo + 31] as number) * h;
  const b0 = (bias[bo] as number) * h;
  const b1 = (bias[bo + 1] as number) * h;
  const b2 = (bias[bo + 2] as number) * h;
  const b3 = (bias[bo + 3] as number) * h;
  let p = xo;
  let o = yo;
  for (let r = 0; r < rows; r++) {
    const x0 = x[p] as number;
    const x1 = x[p + 1] as number;
    const x2 = x[p + 2] as number;
    const x3 = x[p + 3] as number;
    const x4 = x[p + 4] as number;
    const x5 = x[p + 5] as number;
    const x6 = x[p + 6] as number;
    const x7 = x[p + 7] as number;
    let a0 = x0 * w00 + x1 * w10 + x2 * w20 + x3 * w30 + x4 * w40 + x5 * w50 + x6 * w60 + x7 * w70;
    let a1 = x0 * w01 + x1 * w11 + x2 * w21 + x3 * w31 + x4 * w41 + x5 * w51 + x6 * w61 + x7 * w71;
    let a2 = x0 * w02 + x1 * w12 + x2 * w22 + x3 * w32 + x4 * w42 + x5 * w52 + x6 * w62 + x7 * w72;
    let a3 = x0 * w03 + x1 * w13 + x2 * w23 + x3 * w33 + x4 * w43 + x5 * w53 + x6 * w63 + x7 * w73;
    if (first) {
      a0 += b0;
      a1 += b1;
      a2 += b2;
      a3 += b3;
    } else {
      a0 += y[o] as number;
      a1 += y[o + 1] as number;
      a2 += y[o + 2] as number;
      a3 += y[o + 3] as number;
    }
    if (relu) {
      a0 += Math.abs(a0);
      a1 += Math.abs(a1);
      a2 += Math.abs(a2);
      a3 += Math.abs(a3);
    }
    y[o] = a0;
    y[o + 1] = a1;
    y[o + 2] = a2;
    y[o + 3] = a3;
    p += xs;
    o += ys;
  }
}

/** {@link stationary8} for four inputs (16 weights). */
function stationary4(
  x: FloatArray,
  xo: number,
  xs: number,
  rows: number,
  w: Float64Array,
  wo: number,
  y: FloatArray,
  yo: number,
  ys: number,
  bias: Float64Array,
  bo: number,
  first: boolean,
  relu: boolean,
  h: number,
): void {
  const w00 = (w[wo] as number) * h;
  const w01 = (w[wo + 1] as number) * h;
  const w02 = (w[wo + 2] as number) * h;
  const w03 = (w[wo + 3] as number) * h;
  const w10 = (w[wo + 4] as number) * h;
  const w11 = (w[wo + 5] as number) * h;
  const w12 = (w[wo + 6] as number) * h;
  const w13 = (w[wo + 7] as number) * h;
  const w20 = (w[wo + 8] as number) * h;
  const w21 = (w[wo + 9] as number) * h;
  const w22 = (w[wo + 10] as number) * h;
  const w23 = (w[wo + 11] as number) * h;
  const w30 = (w[wo + 12] as number) * h;
  const w31 = (w[wo + 13] as number) * h;
  const w32 = (w[wo + 14] as number) * h;
  const w33 = (w[wo + 15] as number) * h;
  const b0 = (bias[bo] as number) * h;
  const b1 = (bias[bo + 1] as number) * h;
  const b2 = (bias[bo + 2] as number) * h;
  const b3 = (bias[bo + 3] as number) * h;
  let p = xo;
  let o = yo;
  for (let r = 0; r < rows; r++) {
    const x0 = x[p] as number;
    const x1 = x[p + 1] as number;
    const x2 = x[p + 2] as number;
    const x3 = x[p + 3] as number;
    let a0 = x0 * w00 + x1 * w10 + x2 * w20 + x3 * w30;
    let a1 = x0 * w01 + x1 * w11 + x2 * w21 + x3 * w31;
    let a2 = x0 * w02 + x1 * w12 + x2 * w22 + x3 * w32;
    let a3 = x0 * w03 + x1 * w13 + x2 * w23 + x3 * w33;
    if (first) {
      a0 += b0;
      a1 += b1;
      a2 += b2;
      a3 += b3;
    } else {
      a0 += y[o] as number;
      a1 += y[o + 1] as number;
      a2 += y[o + 2] as number;
      a3 += y[o + 3] as number;
    }
    if (relu) {
      a0 += Math.abs(a0);
      a1 += Math.abs(a1);
      a2 += Math.abs(a2);
      a3 += Math.abs(a3);
    }
    y[o] = a0;
    y[o + 1] = a1;
    y[o + 2] = a2;
    y[o + 3] = a3;
    p += xs;
    o += ys;
  }
}

/** {@link stationary8} for one input (an input size that is not a multiple of four). */
function stationary1(
  x: FloatArray,
  xo: number,
  xs: number,
  rows: number,
  w: Float64Array,
  wo: number,
  y: FloatArray,
  yo: number,
  ys: number,
  bias: Float64Array,
  bo: number,
  first: boolean,
  relu: boolean,
  h: number,
): void {
  const w0 = (w[wo] as number) * h;
  const w1 = (w[wo + 1] as number) * h;
  const w2 = (w[wo + 2] as number) * h;
  const w3 = (w[wo + 3] as number) * h;
  const b0 = (bias[bo] as number) * h;
  const b1 = (bias[bo + 1] as number) * h;
  const b2 = (bias[bo + 2] as number) * h;
  const b3 = (bias[bo + 3] as number) * h;
  let p = xo;
  let o = yo;
  for (let r = 0; r < rows; r++) {
    const u = x[p] as number;
    let a0 = u * w0 + (first ? b0 : (y[o] as number));
    let a1 = u * w1 + (first ? b1 : (y[o + 1] as number));
    let a2 = u * w2 + (first ? b2 : (y[o + 2] as number));
    let a3 = u * w3 + (first ? b3 : (y[o + 3] as number));
    if (relu) {
      a0 += Math.abs(a0);
      a1 += Math.abs(a1);
      a2 += Math.abs(a2);
      a3 += Math.abs(a3);
    }
    y[o] = a0;
    y[o + 1] = a1;
    y[o + 2] = a2;
    y[o + 3] = a3;
    p += xs;
    o += ys;
  }
}
