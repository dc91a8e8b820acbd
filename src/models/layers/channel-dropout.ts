/**
 * `ChannelDropout`: spatial dropout (PyTorch `Dropout2d`, Keras `SpatialDropout2D`) that zeroes
 * whole channels of each example, `[batch, time, freq, C]`, and scales the kept ones by
 * 1 / (1 − rate). Identity at inference.
 *
 * Why not tfjs-layers `Dropout` with a seed: its mask comes from `randomUniform(seed)`, which
 * restarts the generator at every call, so a seeded layer drops the *same* channels on every
 * step. Here the mask is drawn from a seeded generator that advances call by call: a training
 * run is reproducible from its seed and the masks still differ between steps.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkRank4, exampleShape, type LayerMacs, oneShape, oneTensor } from './layer-shape.js';
import { drawDropoutMask, SeededDropout, type SeededDropoutArgs } from './seeded-dropout.js';

/**
 * Configuration of {@link ChannelDropout}: `rate` is the probability of dropping a channel, in
 * [0, 1) (default 0.1); `seed` seeds the mask generator (default 0).
 */
export type ChannelDropoutArgs = SeededDropoutArgs;

/** Drops whole channels in training, `[batch, time, freq, C] → same shape`. No weights. */
export class ChannelDropout extends SeededDropout {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static override className = 'ChannelDropout';

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(this.name, inputShape);
    checkRank4(this.name, shape);
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(this.name, inputs);
      if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
      const [batch, , , channels] = x.shape as [number, number, number, number];
      return tf.mul(x, tf.tensor4d(this.drawMask(batch, channels), [batch, 1, 1, channels]));
    });
  }

  /**
   * The next training mask, `[batch, channels]` row-major: each entry is 1 / (1 − rate) (kept)
   * or 0 (dropped), drawn in that order from the layer's generator, which advances by
   * `batch · channels` draws. {@link call} in training mode multiplies its input by it; kws-kit's
   * compiled trainer draws through here too, so both consume the generator identically.
   */
  drawMask(batch: number, channels: number): Float32Array {
    return drawDropoutMask(this.rng, batch * channels, this.rate);
  }

  /** Not counted: at inference the layer is the identity. */
  override countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    exampleShape(this.name, inputShape);
    return { macs: 0, normMacs: 0 };
  }
}
