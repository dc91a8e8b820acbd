/**
 * `ChannelDropout`: spatial dropout (PyTorch `Dropout2d`, Keras `SpatialDropout2D`) that zeroes
 * whole channels of each example, `[batch, time, freq, C]`, and scales the kept ones by
 * 1 / (1 − rate). Identity at inference.
 *
 * Why not tfjs-layers `Dropout` with a seed: its mask comes from `randomUniform(seed)`, which
 * restarts the generator at every call, so a seeded layer drops the *same* channels on every
 * step. Here the mask is drawn from a seeded {@link Rng} that advances call by call: a training
 * run is reproducible from its seed and the masks still differ between steps.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Rng, type RngState } from '../../random.js';
import {
  type BaseLayerArgs,
  checkRank4,
  exampleShape,
  type LayerMacs,
  oneShape,
  oneTensor,
} from './layer-shape.js';
import { drawDropoutMask, dropoutArgs } from './seeded-dropout.js';

/** Configuration of {@link ChannelDropout}. */
export interface ChannelDropoutArgs extends BaseLayerArgs {
  /** Probability of dropping a channel, in [0, 1). Default 0.1. */
  rate?: number;
  /** Seed of the mask generator. Default 0. */
  seed?: number;
}

/** Drops whole channels in training, `[batch, time, freq, C] → same shape`. No weights. */
export class ChannelDropout extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'ChannelDropout';
  readonly rate: number;
  readonly seed: number;
  private readonly rng: Rng;

  constructor(args: ChannelDropoutArgs = {}) {
    super(args);
    const { rate, seed } = dropoutArgs('ChannelDropout', args);
    this.rate = rate;
    this.seed = seed;
    this.rng = createRng(seed);
  }

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

  /**
   * State of the mask generator, for checkpoints: restoring it with {@link setRngState} makes the
   * following training steps draw the same masks as the run it was taken from.
   */
  getRngState(): RngState {
    return this.rng.getState();
  }

  /** Restores a state returned by {@link getRngState} (throws `KwsError` if it is malformed). */
  setRngState(state: RngState): void {
    this.rng.setState(state);
  }

  /** Not counted: at inference the layer is the identity. */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    exampleShape(this.name, inputShape);
    return { macs: 0, normMacs: 0 };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
