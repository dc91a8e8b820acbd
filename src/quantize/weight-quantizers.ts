/**
 * The quantization grids kws-kit stores weights on, each expressed in a form that a stock tfjs
 * weight manifest describes (`quantization: { dtype: 'uint8' | 'uint16', min, scale }`, decoded
 * by tfjs-core as `float32(v·scale + min)`, or `{ dtype: 'float16' }`).
 *
 * - **uint8 affine** (per tensor): `scale = (max − min)/255`; when the range straddles 0 the
 *   minimum is nudged to `−round(−min/scale)·scale` so that 0 is a grid point (zero weights stay
 *   exactly zero), as tfjs-converter does. Error ≤ scale/2 per weight (the nudge moves the grid by
 *   at most scale/2, and values clipped at an end are within scale/2 of it).
 * - **int8 symmetric per tensor**: `s = max|w|/127`, `q = clamp(round(w/s), −127, 127)`, stored
 *   exactly as uint8 `u = q + 128` with `min = −128·s`, `scale = s`. Error ≤ s/2.
 * - **int8 symmetric per channel**: `s_c = max|w_c|/127` for each output channel c, as int8
 *   runtimes do. Error ≤ s_c/2 in channel c. Per-channel scaling is invariant to rescaling a
 *   channel, so quantizing an unfolded kernel per channel matches quantizing the kernel with a
 *   following BatchNormalization folded in. A per-tensor grid cannot hold these values in general.
 * - **int8 per channel on a lattice** (for exact uint16 storage): the channel scales are rounded
 *   up to integer multiples `s_c = m_c·g` of one step `g = max|w|/32766`
 *   (`m_c = ceil(258·max|w_c|/max|w|)`, 1 ≤ m_c ≤ 258). Then every value `q·s_c = (q·m_c)·g`
 *   with |q·m_c| ≤ 32766 is a point of the uint16 grid `min = −32767·g`, `scale = g`, so the
 *   per-channel int8 model is stored exactly in 2 bytes per weight. The scales differ from the
 *   textbook ones by less than g, which matters only for channels whose range is below 1/258 of
 *   the largest (their step is at least g). Error ≤ s_c/2 in channel c.
 *
 * Every dequantized value is computed with tfjs-core's own formula, so what these functions
 * return is bit for bit what `tf.loadLayersModel` produces from the stored bytes.
 *
 * @packageDocumentation
 */

/** How the values of a weight tensor split into output channels, for per-channel scales. */
export interface ChannelLayout {
  /** Number of channels. */
  channels: number;
  /** Elements between consecutive channel indices: channel of flat index i = ⌊i / inner⌋ mod channels. */
  inner: number;
}

/** One weight stored on a uint8 or uint16 affine grid. */
export interface AffineEncoding {
  /** Stored integers. */
  values: Uint8Array | Uint16Array;
  /** Manifest `quantization` entry. */
  quantization: { dtype: 'uint8' | 'uint16'; min: number; scale: number };
  /** The dequantized values, exactly as tfjs-core decodes them. */
  dequantized: Float32Array;
}

/** Per-channel int8 values: the channel scales, the values and their error per channel. */
export interface PerChannelValues {
  /** Scale s_c of each channel (the int8 step), length = channels. */
  scales: Float64Array;
  /** `float32(q·s_c)`. */
  dequantized: Float32Array;
  /** Largest |w − ŵ| in each channel. */
  channelMaxAbsError: Float64Array;
}

/** Per-channel int8 on the lattice, stored exactly as uint16. */
export type LatticeEncoding = AffineEncoding & PerChannelValues;

/** Largest |x| of an array (0 for an empty one). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i] as number);
    if (a > m) m = a;
  }
  return m;
}

/** `float32(u·scale + min)` for every stored integer: tfjs-core's decoder, verbatim. */
function dequantize(values: Uint8Array | Uint16Array, min: number, scale: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] as number) * scale + min;
  return out;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Per-tensor uint8 affine encoding with the zero point nudged to an integer (see the module
 * documentation). A constant tensor is stored with scale 0 and min = its value (exact).
 */
export function encodeUint8Affine(w: Float32Array): AffineEncoding {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (w.length === 0) {
    lo = 0;
    hi = 0;
  }
  const values = new Uint8Array(w.length);
  if (hi === lo) {
    return {
      values,
      quantization: { dtype: 'uint8', min: lo, scale: 0 },
      dequantized: dequantize(values, lo, 0),
    };
  }
  const scale = (hi - lo) / 255;
  const min = lo <= 0 && hi >= 0 ? -Math.round(-lo / scale) * scale : lo;
  for (let i = 0; i < w.length; i++) values[i] = clamp(Math.round(((w[i] as number) - min) / scale), 0, 255);
  return {
    values,
    quantization: { dtype: 'uint8', min, scale },
    dequantized: dequantize(values, min, scale),
  };
}

/** Symmetric per-tensor int8 (q ∈ [−127, 127], s = max|w|/127), stored exactly as uint8 q + 128. */
export function encodeInt8PerTensor(w: Float32Array): AffineEncoding {
  const s = maxAbs(w) / 127;
  const values = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    values[i] = s === 0 ? 128 : clamp(Math.round((w[i] as number) / s), -127, 127) + 128;
  }
  const min = -128 * s;
  return { values, quantization: { dtype: 'uint8', min, scale: s }, dequantized: dequantize(values, min, s) };
}

function channelMaxima(w: Float32Array, { channels, inner }: ChannelLayout): Float64Array {
  const out = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const a = Math.abs(w[i] as number);
    if (a > (out[c] as number)) out[c] = a;
  }
  return out;
}

function channelErrors(
  w: Float32Array,
  approx: Float32Array,
  { channels, inner }: ChannelLayout,
): Float64Array {
  const out = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const e = Math.abs((w[i] as number) - (approx[i] as number));
    if (e > (out[c] as number)) out[c] = e;
  }
  return out;
}

/** Symmetric per-channel int8 with the textbook scales `s_c = max|w_c|/127`. */
export function quantizeInt8PerChannel(w: Float32Array, layout: ChannelLayout): PerChannelValues {
  const { channels, inner } = layout;
  const scales = channelMaxima(w, layout).map((m) => m / 127);
  const dequantized = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scales[Math.floor(i / inner) % channels] as number;
    dequantized[i] = s === 0 ? 0 : clamp(Math.round((w[i] as number) / s), -127, 127) * s;
  }
  return { scales, dequantized, channelMaxAbsError: channelErrors(w, dequantized, layout) };
}

/** Largest q·m_c: 127 · 258 = 32766, so q·m_c + 32767 fits uint16 (1 … 65533). */
const LATTICE_STEPS = 258;
const LATTICE_HALF = 127 * LATTICE_STEPS;

/**
 * Symmetric per-channel int8 on the lattice `s_c = m_c·g` (see the module documentation),
 * stored exactly as uint16 `u = q·m_c + 32767` with `min = −32767·g`, `scale = g`.
 */
export function encodeInt8PerChannelLattice(w: Float32Array, layout: ChannelLayout): LatticeEncoding {
  const { channels, inner } = layout;
  const channelMax = channelMaxima(w, layout);
  const top = maxAbs(channelMax);
  const g = top / LATTICE_HALF;
  const multiples = new Float64Array(channels);
  const scales = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const a = channelMax[c] as number;
    let m = top === 0 ? 1 : clamp(Math.ceil((a * LATTICE_STEPS) / top), 1, LATTICE_STEPS);
    // Guard against the division rounding down: the channel's range must fit in 127 steps.
    if (m < LATTICE_STEPS && m * g * 127 < a) m += 1;
    multiples[c] = m;
    scales[c] = m * g;
  }
  const values = new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const s = scales[c] as number;
    const q = s === 0 ? 0 : clamp(Math.round((w[i] as number) / s), -127, 127);
    values[i] = q * (multiples[c] as number) + LATTICE_HALF + 1;
  }
  const min = -(LATTICE_HALF + 1) * g;
  const dequantized = dequantize(values, min, g);
  return {
    values,
    quantization: { dtype: 'uint16', min, scale: g },
    dequantized,
    scales,
    channelMaxAbsError: channelErrors(w, dequantized, layout),
  };
}

/**
 * The channel layout kws-kit uses for per-channel scales: the output-channel axis of the weight.
 * That is the last axis for every kernel stored `[..., in, out]` (Dense, Conv1D/2D, GRU/LSTM
 * kernels, kws-kit's SpectralConv `[kt, kf, C]`, TemporalConv `[k, C]`, AttentionPooling); the
 * last two axes together for a `depthwise_kernel` `[kh, kw, C, multiplier]`; the second-to-last
 * for a transposed convolution's `kernel` `[kh, kw, out, in]`. A rank-0 weight is one channel.
 */
export function channelLayout(
  className: string,
  weightName: string,
  shape: readonly number[],
): ChannelLayout {
  const r = shape.length;
  if (r === 0) return { channels: 1, inner: 1 };
  const last = shape[r - 1] as number;
  if (r >= 2 && weightName === 'depthwise_kernel') {
    return { channels: (shape[r - 2] as number) * last, inner: 1 };
  }
  if (r >= 2 && weightName === 'kernel' && /Transpose$/.test(className)) {
    return { channels: shape[r - 2] as number, inner: last };
  }
  return { channels: last, inner: 1 };
}

/** Error of an approximation: largest |w − ŵ| and SQNR 10·log10(Σw² / Σ(w − ŵ)²) in dB. */
export interface ErrorStats {
  /** Largest absolute difference. */
  maxAbsError: number;
  /** Signal-to-quantization-noise ratio in dB; +Infinity when exact, −Infinity for a zero signal with noise. */
  sqnrDb: number;
}

/** Signal-to-noise ratio in dB from sums of squares (see {@link ErrorStats}). */
export function sqnrFromPowers(signal: number, noise: number): number {
  if (noise === 0) return Number.POSITIVE_INFINITY;
  if (signal === 0) return Number.NEGATIVE_INFINITY;
  return 10 * Math.log10(signal / noise);
}

/** {@link ErrorStats} of `approx` against `exact` (same length). */
export function errorStats(exact: ArrayLike<number>, approx: ArrayLike<number>): ErrorStats {
  let maxAbsError = 0;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < exact.length; i++) {
    const x = exact[i] as number;
    const d = x - (approx[i] as number);
    signal += x * x;
    noise += d * d;
    const a = Math.abs(d);
    if (a > maxAbsError) maxAbsError = a;
  }
  return { maxAbsError, sqnrDb: sqnrFromPowers(signal, noise) };
}
