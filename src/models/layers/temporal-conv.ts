/**
 * `TemporalConv`: dilated depthwise convolution along time, the temporal part of a BC-ResBlock.
 *
 * tfjs-layers' `DepthwiseConv2D` silently ignores `dilationRate`, and core `depthwiseConv2d`
 * has no gradient for dilation > 1 (and no backprop kernels on wasm). This layer computes
 *
 *   y[n, t, f, c] = Σ_{i<k} xpad[n, t + i·d, f, c] · w[i, c]
 *
 * with dilation honoured in the forward AND backward pass on every backend: while training, the
 * dilation is folded into an undilated core depthwise conv by a reshape (time phases side by
 * side), or, where the backend lacks the depthwise backprop kernels, computed as a sum of k
 * shifted slices (see `tap-conv.ts`). `causal: true` pads (k−1)·d frames before and none after, so
 * output frame t depends only on input frames ≤ t (exact streaming); otherwise the padding is
 * split evenly ('same').
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkBoolean, checkInt, checkNumber } from '../../validate.js';
import {
  type BaseLayerArgs,
  checkRank4,
  exampleShape,
  type LayerMacs,
  oneShape,
  oneTensor,
} from './layer-shape.js';
import { axisOutputSize, axisPadding, perChannelConv, type TapGeometry, tapConvMacs } from './tap-conv.js';

/** Configuration of {@link TemporalConv}. */
export interface TemporalConvArgs extends BaseLayerArgs {
  /** Taps along time. Default 3. */
  kernelSize?: number;
  /** Spacing of the taps, in frames. Default 1. */
  dilation?: number;
  /** Pad only before (output t sees inputs ≤ t) instead of evenly. Default false. */
  causal?: boolean;
  /** Add a per-channel bias. Default false (a BatchNormalization follows in BC-ResNet). */
  useBias?: boolean;
  /** Seed of the He-normal kernel initialiser (fan-in = kernelSize). Default 0. */
  seed?: number;
}

/**
 * Depthwise dilated convolution over time, `[batch, time, freq, C] → [batch, time, freq, C]`
 * (same length: the time axis is always padded). Kernel weight `kernel`: `[kernelSize, C]`
 * (PyTorch's `[C, 1, 1, k]` transposed); optional `bias`: `[C]`.
 */
export class TemporalConv extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'TemporalConv';
  readonly kernelSize: number;
  readonly dilation: number;
  readonly causal: boolean;
  readonly useBias: boolean;
  readonly seed: number;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: TemporalConvArgs = {}) {
    super(args);
    this.kernelSize = checkInt('TemporalConv kernelSize', args.kernelSize ?? 3, 1);
    this.dilation = checkInt('TemporalConv dilation', args.dilation ?? 1, 1);
    this.causal = checkBoolean('TemporalConv causal', args.causal ?? false);
    this.useBias = checkBoolean('TemporalConv useBias', args.useBias ?? false);
    this.seed = checkNumber('TemporalConv seed', args.seed ?? 0);
  }

  /** The tap geometry this layer applies (kernel `[k, 1]`, dilation `[d, 1]`, no frequency padding). @internal */
  geometry(): TapGeometry {
    return {
      kernel: [this.kernelSize, 1],
      dilation: [this.dilation, 1],
      freqStride: 1,
      padTime: axisPadding(this.causal ? 'causal' : 'same', this.kernelSize, this.dilation),
      padFreq: [0, 0],
    };
  }

  /** Frames of left context output t depends on: (k−1)·d when causal, ⌊(k−1)·d/2⌋ otherwise. */
  get lookBehind(): number {
    return this.geometry().padTime[0];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = oneShape(this.name, inputShape);
    checkRank4(this.name, shape);
    const channels = checkInt(`${this.name} input channels`, shape[3], 1);
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize, channels],
      'float32',
      tfl.initializers.heNormal({ seed: this.seed }),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [channels], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(this.name, inputShape);
    checkRank4(this.name, shape);
    const g = this.geometry();
    const time = shape[1];
    const outT = time == null ? null : axisOutputSize(time, g.kernel[0], g.dilation[0], 1, g.padTime);
    return [shape[0] ?? null, outT, shape[2] ?? null, shape[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(this.name, inputs) as tf.Tensor4D;
      const w = (this.kernel as tfl.LayerVariable).read();
      const kernel = tf.reshape(w, [this.kernelSize, 1, w.shape[1] as number]) as tf.Tensor3D;
      const y = perChannelConv(x, kernel, this.geometry());
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  /** Multiply-accumulates for one example of `inputShape` (`[batch?, time, freq, channels]`). */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    const [time, freq, channels] = exampleShape(this.name, inputShape);
    return { macs: tapConvMacs(time, freq, channels, this.geometry()), normMacs: 0 };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      dilation: this.dilation,
      causal: this.causal,
      useBias: this.useBias,
      seed: this.seed,
    };
  }
}
