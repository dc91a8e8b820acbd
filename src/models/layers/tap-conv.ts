/**
 * Per-channel (depthwise) 2-D convolution over `[batch, time, freq, channels]`:
 *
 *   y[n, t, f, c] = Σ_{i<kt} Σ_{j<kf} xpad[n, t + i·dt, f·s + j·df, c] · w[i, j, c]
 *
 * in two implementations with the same numbers (to float32 rounding):
 *
 * - {@link tapConv}: a sum over kernel taps of shifted slices times a per-channel weight. Every op
 *   it uses (pad, slice, reshape, mul, addN, unstack) has a gradient on the cpu AND wasm
 *   backends, unlike core `depthwiseConv2d` (no wasm backprop kernels, no gradient at all for
 *   dilation > 1) and tfjs-layers `DepthwiseConv2D` (silently ignores dilation).
 * - {@link coreConv}: core `depthwiseConv2d` / `conv2d` with explicit padding, several times
 *   faster (one fused kernel instead of ~3 per tap). Differentiable only without dilation and,
 *   on wasm, once the backprop kernels are registered (kws-kit's `registerWasmTrainingKernels`).
 *
 * {@link perChannelConv} uses core kernels whenever they can be differentiated (dilation folded
 * away by a reshape) and the tap sum otherwise.
 * Internal to the layers: shared by `TemporalConv` and `SpectralConv`.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';

/** Padding of one axis: `'same'` (centred), `'causal'` (all before) or `'valid'` (none). */
export type AxisPadding = 'same' | 'causal' | 'valid';

/** Geometry of a tap convolution; sizes are in frames (time) and bins (frequency). */
export interface TapGeometry {
  /** Kernel taps along time and frequency. */
  kernel: readonly [number, number];
  /** Spacing of the taps along time and frequency. */
  dilation: readonly [number, number];
  /** Output stride along frequency (time is never strided, so streaming stays frame-exact). */
  freqStride: number;
  /** Zeros added before and after along time. */
  padTime: readonly [number, number];
  /** Zeros added before and after along frequency. */
  padFreq: readonly [number, number];
}

/**
 * Zeros before/after an axis for a kernel of `k` taps spaced `d` apart: `'same'` splits the span
 * (k−1)·d evenly (the extra zero, if odd, goes after, as in TensorFlow), `'causal'` puts it all
 * before so output t sees inputs ≤ t, `'valid'` adds none. With a stride, `'same'` still pads
 * (k−1)·d/2 per side like PyTorch's `padding=(k−1)·d/2`, so the output has ⌊(F−1)/s⌋+1 bins.
 */
export function axisPadding(mode: AxisPadding, k: number, d: number): [number, number] {
  const span = (k - 1) * d;
  if (mode === 'valid') return [0, 0];
  if (mode === 'causal') return [span, 0];
  const before = Math.floor(span / 2);
  return [before, span - before];
}

/** Output length of one axis: `⌊(n + padding − (k−1)·d − 1) / s⌋ + 1` (≤ 0 means too short). */
export function axisOutputSize(
  n: number,
  k: number,
  d: number,
  s: number,
  pad: readonly [number, number],
): number {
  return Math.floor((n + pad[0] + pad[1] - (k - 1) * d - 1) / s) + 1;
}

/** `[outTime, outFreq]` of the geometry for an input of `time` frames and `freq` bins. */
export function tapOutputSize(time: number, freq: number, g: TapGeometry): [number, number] {
  return [
    axisOutputSize(time, g.kernel[0], g.dilation[0], 1, g.padTime),
    axisOutputSize(freq, g.kernel[1], g.dilation[1], g.freqStride, g.padFreq),
  ];
}

function checkFits(x: tf.Tensor4D, kernel: tf.Tensor3D, g: TapGeometry): [number, number] {
  const [, time, freq, cin] = x.shape;
  const [kt, kf, channels] = kernel.shape;
  const [outT, outF] = tapOutputSize(time, freq, g);
  if (outT < 1 || outF < 1) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `a ${kt}×${kf} kernel (dilation ${g.dilation[0]}×${g.dilation[1]}) does not fit an input of ` +
        `${time} frames × ${freq} bins`,
    );
  }
  if (cin !== channels && cin !== 1) {
    throw new KwsError('SHAPE_MISMATCH', `input has ${cin} channels; expected ${channels} or 1`);
  }
  return [outT, outF];
}

/**
 * Applies the tap convolution. `x`: `[batch, time, freq, cin]` with `cin` equal to the kernel's
 * channel count C (depthwise) or to 1 (one input plane broadcast to C outputs, i.e. a full
 * 1 → C convolution). `kernel`: `[kt, kf, C]`. Returns `[batch, outTime, outFreq, C]`.
 * Must be called inside `tf.tidy` (it creates intermediates).
 */
export function tapConv(x: tf.Tensor4D, kernel: tf.Tensor3D, g: TapGeometry): tf.Tensor4D {
  const [batch, time, freq, cin] = x.shape;
  const [kt, kf, channels] = kernel.shape;
  const [dt, df] = g.dilation;
  const s = g.freqStride;
  const [outT, outF] = checkFits(x, kernel, g);
  // The strided frequency axis is folded into phases: [.., F', cin] -> [.., F'/s, s·cin], so tap
  // offset o reads phase o mod s starting at row ⌊o/s⌋ with a plain (differentiable) slice.
  const rows = s * (Math.floor(((kf - 1) * df) / s) + outF);
  const padFreqAfter = g.padFreq[1] + Math.max(0, rows - (freq + g.padFreq[0] + g.padFreq[1]));
  let xp: tf.Tensor4D = x;
  if (g.padTime[0] + g.padTime[1] + g.padFreq[0] + padFreqAfter > 0) {
    xp = tf.pad(x, [
      [0, 0],
      [g.padTime[0], g.padTime[1]],
      [g.padFreq[0], padFreqAfter],
      [0, 0],
    ]);
  }
  const paddedT = time + g.padTime[0] + g.padTime[1];
  if (xp.shape[2] !== rows) xp = tf.slice(xp, [0, 0, 0, 0], [batch, paddedT, rows, cin]);
  if (s > 1) xp = tf.reshape(xp, [batch, paddedT, rows / s, s * cin]);

  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < kt; i++) {
    for (let j = 0; j < kf; j++) {
      const o = j * df;
      taps.push(tf.slice(xp, [0, i * dt, Math.floor(o / s), (o % s) * cin], [batch, outT, outF, cin]));
    }
  }
  // A 1-channel input broadcasts against the [C] weight row, giving the full 1 → C conv.
  const perTap = tf.unstack(tf.reshape(kernel, [kt * kf, channels]), 0);
  const products = taps.map((tap, k) => tf.mul(tap, perTap[k] as tf.Tensor1D));
  return (products.length === 1 ? products[0] : tf.addN(products)) as tf.Tensor4D;
}

/**
 * The same convolution with the backend's fused kernels (`depthwiseConv2d`, or `conv2d` for a
 * 1-channel input) with explicit zero padding. Their gradients need the backend's backprop
 * kernels (absent on stock wasm) and refuse dilation > 1 on every backend. Returns null when core cannot express the
 * geometry (a stride and a dilation > 1 together). Call inside `tf.tidy`.
 */
export function coreConv(x: tf.Tensor4D, kernel: tf.Tensor3D, g: TapGeometry): tf.Tensor4D | null {
  const [kt, kf, channels] = kernel.shape;
  const dilation: [number, number] = [g.dilation[0], g.dilation[1]];
  if (g.freqStride > 1 && (dilation[0] > 1 || dilation[1] > 1)) return null;
  const cin = x.shape[3];
  // Explicit padding inside the conv kernel: no separate PadV2 forward nor its Slice gradient.
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [g.padTime[0], g.padTime[1]],
    [g.padFreq[0], g.padFreq[1]],
    [0, 0],
  ];
  const strides: [number, number] = [1, g.freqStride];
  if (cin === 1 && channels > 1) {
    return tf.conv2d(x, tf.reshape(kernel, [kt, kf, 1, channels]), strides, pad, 'NHWC', dilation);
  }
  return tf.depthwiseConv2d(x, tf.reshape(kernel, [kt, kf, channels, 1]), strides, pad, 'NHWC', dilation);
}

/**
 * How {@link perChannelConv} differentiates: `'auto'` (default) uses core kernels whenever the
 * backend has their gradient kernels, `'tap'` always uses the tap sum (the pre-0.x behaviour,
 * kept for benchmarks and as a reference in tests).
 *
 * @internal
 */
export type TapeConvPath = 'auto' | 'tap';

let tapePath: TapeConvPath = 'auto';

/** Selects the training-time implementation of {@link perChannelConv}; returns the previous one. @internal */
export function setTapeConvPath(path: TapeConvPath): TapeConvPath {
  const previous = tapePath;
  tapePath = path;
  return previous;
}

/**
 * Whether the current backend can differentiate core `depthwiseConv2d` (1-channel input:
 * `conv2d`). tfjs's wasm backend lacks these kernels until kws-kit's
 * `registerWasmTrainingKernels()` adds them; cpu always has them.
 */
function hasCoreGradients(fullConv: boolean): boolean {
  const backend = tf.getBackend();
  const needed = fullConv
    ? ['Conv2DBackpropFilter', 'Conv2DBackpropInput']
    : ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
  return needed.every((name) => tf.getKernel(name, backend) !== undefined);
}

/**
 * The convolution as an UNDILATED core op, differentiable wherever the backend has the backprop
 * kernels (tfjs's conv gradients refuse dilation > 1). A time dilation d is folded away
 * space-to-batch style: with the padded time axis extended to a multiple of d, the reshape
 * `[N, T·d', F, C] → [N, T', d·F, C]` (T' = padded/d) puts frame a·d + r at row a, column block
 * r, so tap i (offset i·d frames) becomes offset i rows: an undilated [k, kf] conv on
 * d·F-wide rows, followed by the inverse reshape and a slice to the true output length. Returns
 * null when core cannot express the geometry (frequency dilation, or dilation with a stride).
 */
function differentiableCoreConv(x: tf.Tensor4D, kernel: tf.Tensor3D, g: TapGeometry): tf.Tensor4D | null {
  const [dt, df] = g.dilation;
  if (df > 1 || (dt > 1 && (g.freqStride > 1 || g.kernel[1] > 1))) return null;
  if (dt === 1) return coreConv(x, kernel, g);
  const [batch, time, freq, cin] = x.shape;
  const [kt, , channels] = kernel.shape;
  const [outT] = checkFits(x, kernel, g);
  const padded = time + g.padTime[0] + g.padTime[1];
  const rowsT = Math.ceil(padded / dt);
  const xp = tf.pad(x, [
    [0, 0],
    [g.padTime[0], g.padTime[1] + rowsT * dt - padded],
    [0, 0],
    [0, 0],
  ]);
  const folded = tf.reshape(xp, [batch, rowsT, dt * freq, cin]) as tf.Tensor4D;
  const w = tf.reshape(kernel, [kt, 1, channels]) as tf.Tensor3D;
  const yFolded = coreConv(folded, w, {
    kernel: [kt, 1],
    dilation: [1, 1],
    freqStride: 1,
    padTime: [0, 0],
    padFreq: [0, 0],
  }) as tf.Tensor4D;
  const foldedT = (rowsT - kt + 1) * dt;
  const y = tf.reshape(yFolded, [batch, foldedT, freq, channels]) as tf.Tensor4D;
  return foldedT === outT ? y : tf.slice(y, [0, 0, 0, 0], [batch, outT, freq, channels]);
}

/**
 * Per-channel time-frequency convolution that picks its implementation. Without a gradient
 * tape: the fused {@link coreConv}. While a tape records (`tf.grad*`, `optimizer.minimize`,
 * `model.fit`): core kernels too (dilation folded away, see `differentiableCoreConv`) when the
 * backend has the conv backprop kernels, which on wasm means after
 * `registerWasmTrainingKernels()`; otherwise the slower {@link tapConv}. All give the same
 * numbers to float32 rounding. Call inside `tf.tidy`.
 */
export function perChannelConv(x: tf.Tensor4D, kernel: tf.Tensor3D, g: TapGeometry): tf.Tensor4D {
  if (!tf.engine().isTapeOn()) {
    checkFits(x, kernel, g);
    const y = coreConv(x, kernel, g);
    if (y !== null) return y;
  } else if (tapePath === 'auto') {
    const fullConv = x.shape[3] === 1 && kernel.shape[2] > 1;
    if (hasCoreGradients(fullConv)) {
      checkFits(x, kernel, g);
      const y = differentiableCoreConv(x, kernel, g);
      if (y !== null) return y;
    }
  }
  return tapConv(x, kernel, g);
}

/** Multiply-accumulates of one example: outTime · outFreq · C · kt · kf. */
export function tapConvMacs(time: number, freq: number, channels: number, g: TapGeometry): number {
  const [outT, outF] = tapOutputSize(time, freq, g);
  return Math.max(0, outT) * Math.max(0, outF) * channels * g.kernel[0] * g.kernel[1];
}
