/**
 * `SeededDropout`: element-wise dropout (PyTorch `nn.Dropout`, tfjs-layers `Dropout`) whose masks
 * come from a seeded generator that advances call by call, so that a training run is reproducible
 * from its seed. Zeroes each element with probability `rate` and scales the kept ones by
 * 1 / (1 − rate); the identity at inference. Any input rank.
 *
 * Why not tfjs-layers `Dropout`: without a seed its masks come from an unseeded generator (two
 * runs with the same seed differ); with one, `randomUniform(seed)` restarts at every call and the
 * same elements are dropped at every step. {@link ChannelDropout} is the channel-wise sibling.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { createRng, type Rng, type RngState } from '../../random.js';
import { checkNumber } from '../../validate.js';
import { type BaseLayerArgs, type LayerMacs, oneShape, oneTensor } from './layer-shape.js';

/** Configuration of {@link SeededDropout}. */
export interface SeededDropoutArgs extends BaseLayerArgs {
  /** Probability of dropping an element, in [0, 1). Default 0.1. */
  rate?: number;
  /** Seed of the mask generator. Default 0. */
  seed?: number;
}

/**
 * `count` mask entries drawn in order from `rng`: each is 1 / (1 − rate) (kept, probability
 * 1 − rate) or 0 (dropped). Advances `rng` by exactly `count` draws.
 *
 * @internal
 */
export function drawDropoutMask(rng: Rng, count: number, rate: number): Float32Array {
  const keep = 1 - rate;
  const mask = new Float32Array(count);
  for (let i = 0; i < count; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return mask;
}

/**
 * Drops single elements in training, any shape → same shape. No weights. Also the base of
 * {@link ChannelDropout}, which shares its generator, configuration and checkpoint state.
 */
export class SeededDropout extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  /** The mask generator: advances by one draw per mask entry. */
  protected readonly rng: Rng;

  constructor(args: SeededDropoutArgs = {}) {
    super(args);
    // getClassName() names the subclass in messages (ChannelDropout ...).
    const who = this.getClassName();
    this.rate = checkNumber(`${who} rate`, args.rate ?? 0.1, 0, 1);
    if (this.rate === 1) {
      throw new KwsError('INVALID_ARGUMENT', `${who} rate must be < 1 (1 would drop everything)`);
    }
    this.seed = checkNumber(`${who} seed`, args.seed ?? 0);
    this.rng = createRng(this.seed);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return oneShape(this.name, inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(this.name, inputs);
      if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
      return tf.mul(x, tf.tensor(drawDropoutMask(this.rng, x.size, this.rate), x.shape));
    });
  }

  /** State of the mask generator, for checkpoints (see {@link setRngState}). */
  getRngState(): RngState {
    return this.rng.getState();
  }

  /** Restores a state returned by {@link getRngState} (throws `KwsError` if it is malformed). */
  setRngState(state: RngState): void {
    this.rng.setState(state);
  }

  /** Not counted: at inference the layer is the identity. */
  countMacs(_inputShape?: readonly (number | null)[]): LayerMacs {
    return { macs: 0, normMacs: 0 };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
