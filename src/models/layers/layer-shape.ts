/**
 * Shape helpers shared by the custom layers: unwrapping tfjs-layers' `Shape | Shape[]` and
 * `Tensor | Tensor[]` arguments, rank checks, and reading the per-example shape that
 * `countMacs` receives.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';

/** Constructor arguments every tfjs-layers layer accepts (`name`, `trainable`, `inputShape`, …). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** A layer's input shape, batch entry first; `null` = unknown size. */
export type LayerShape = (number | null)[];

/** The single shape of a one-input layer. */
export function oneShape(layer: string, shape: tfl.Shape | tfl.Shape[]): LayerShape {
  const first = shape[0];
  if (Array.isArray(first)) {
    if (shape.length !== 1) {
      throw new KwsError('SHAPE_MISMATCH', `${layer} takes one input; got ${shape.length}`);
    }
    return first.slice();
  }
  return (shape as tfl.Shape).slice();
}

/** The single tensor of a one-input layer call. */
export function oneTensor(layer: string, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new KwsError('SHAPE_MISMATCH', `${layer} takes one input tensor; got ${inputs.length}`);
    }
    return inputs[0];
  }
  return inputs;
}

/** Throws unless `shape` is rank 4, `[batch, time, freq, channels]`. */
export function checkRank4(layer: string, shape: readonly (number | null)[]): void {
  if (shape.length !== 4) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${layer} expects a rank-4 input [batch, time, freq, channels]; got shape [${shape.join(', ')}]`,
    );
  }
}

/**
 * `[time, freq, channels]` of one example for `countMacs`: accepts the layer's input shape with
 * the batch entry (`[batch, time, freq, channels]`, batch ignored) or without it.
 */
export function exampleShape(layer: string, shape: readonly (number | null)[]): [number, number, number] {
  const dims = shape.length === 4 ? shape.slice(1) : shape.slice();
  if (dims.length !== 3 || dims.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${layer}.countMacs needs a known input shape [batch?, time, freq, channels] of positive ` +
        `integers; got [${shape.join(', ')}]`,
    );
  }
  return dims as [number, number, number];
}

/** Result of a custom layer's `countMacs`: multiply-accumulates for one example. */
export interface LayerMacs {
  /** Multiply-accumulates of the layer's own arithmetic (convolution taps, averaging sums). */
  macs: number;
  /**
   * Multiply-accumulates of normalisation (one per element for a scale-and-shift); at inference
   * these can be folded into the neighbouring convolution, so profilers report them apart.
   */
  normMacs: number;
}
