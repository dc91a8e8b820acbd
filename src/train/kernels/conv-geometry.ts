/**
 * Geometry of a 2-D convolution or pooling as seen by its gradient kernels: sizes, strides and
 * the top/left padding, resolved by tfjs's own `computeConv2DInfo` / `computePool2DInfo` so
 * that `'same'`, `'valid'`, a number or an explicit `[[0,0],[t,b],[l,r],[0,0]]` padding and any
 * `dimRoundingMode` mean exactly what they mean in the forward op.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';

/** Sizes of an NHWC convolution `x [batch, inH, inW, inC] → y [batch, outH, outW, outC]`. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  /** Output channels: `inC · multiplier` for depthwise, the filter's last dim otherwise. */
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  /** Zero rows added above the input (input row = outRow · strideH + tap − padTop). */
  padTop: number;
  /** Zero columns added left of the input. */
  padLeft: number;
}

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function shape4(kernel: string, name: string, shape: unknown): Shape4 {
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new KwsError('INVALID_ARGUMENT', `${kernel}: ${name} must be a rank-4 shape; got ${String(shape)}`);
  }
  return shape as Shape4;
}

function requireUnitDilation(kernel: string, dilations: unknown): void {
  if (dilations == null) return;
  const ok = Array.isArray(dilations) ? dilations.every((d) => d === 1) : dilations === 1;
  if (!ok) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${kernel} on wasm (kws-kit) supports dilation 1 only; got dilations ${String(dilations)}`,
    );
  }
}

function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${kernel} on wasm (kws-kit) supports dataFormat 'NHWC' only; got ${String(dataFormat)}`,
    );
  }
}

function fromInfo(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Geometry of a (depthwise) convolution from its kernel attributes. Throws `INVALID_ARGUMENT`
 * for dilation ≠ 1 (tfjs's own conv gradients refuse it too) or a data format other than NHWC.
 */
export function convGeometry(
  kernel: string,
  inShape: unknown,
  filterShape: unknown,
  attrs: tf.NamedAttrMap,
  depthwise: boolean,
): ConvGeometry {
  requireUnitDilation(kernel, attrs.dilations);
  requireNhwc(kernel, attrs.dataFormat);
  const xShape = shape4(kernel, 'input shape', inShape);
  const wShape = shape4(kernel, 'filter shape', filterShape);
  if (xShape[3] !== wShape[2]) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${kernel}: input has ${xShape[3]} channels but the filter [${wShape.join(',')}] expects ${wShape[2]}`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    wShape,
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    depthwise,
    'channelsLast',
  );
  return fromInfo(info);
}

/** Geometry of a 2-D pooling window (`filterSize` taps, one filter per channel). */
export function poolGeometry(kernel: string, inShape: unknown, attrs: tf.NamedAttrMap): ConvGeometry {
  const info = tf.backend_util.computePool2DInfo(
    shape4(kernel, 'input shape', inShape),
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
  );
  return fromInfo(info);
}

/** Throws `SHAPE_MISMATCH` unless `dy` has the shape the forward op would have produced. */
export function checkDyShape(kernel: string, dyShape: readonly number[], g: ConvGeometry): void {
  const expected = [g.batch, g.outH, g.outW, g.outC];
  if (dyShape.length !== 4 || dyShape.some((d, i) => d !== expected[i])) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${kernel}: dy has shape [${dyShape.join(',')}] but the convolution outputs [${expected.join(',')}]`,
    );
  }
}
