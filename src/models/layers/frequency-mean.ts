/**
 * `FrequencyMean`: the average over the frequency axis that turns BC-ResNet's 2-D
 * (time × frequency) features into 1-D (time) features, `[batch, time, freq, C] → [batch, time, 1, C]`.
 * The frequency axis is kept (size 1) so the result broadcasts back over frequency in an `add`
 * (the "broadcasted residual").
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type BaseLayerArgs,
  checkRank4,
  exampleShape,
  type LayerMacs,
  oneShape,
  oneTensor,
} from './layer-shape.js';

/** Configuration of {@link FrequencyMean}: only the common layer arguments (`name`, …). */
export type FrequencyMeanArgs = BaseLayerArgs;

/** Mean over frequency, `[batch, time, freq, C] → [batch, time, 1, C]`. No weights. */
export class FrequencyMean extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'FrequencyMean';

  constructor(args: FrequencyMeanArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(this.name, inputShape);
    checkRank4(this.name, shape);
    return [shape[0] ?? null, shape[1] ?? null, 1, shape[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mean(oneTensor(this.name, inputs), 2, true));
  }

  /** 0: averaging counts as pooling, which kws-kit's profiler does not count as MACs. */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    exampleShape(this.name, inputShape);
    return { macs: 0, normMacs: 0 };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
