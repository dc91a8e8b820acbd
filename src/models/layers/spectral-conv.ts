/**
 * `SpectralConv`: a per-channel 2-D convolution over (time, frequency) with a frequency stride,
 * that trains on every backend (core conv kernels, or shifted-slice tap sums where the backend
 * lacks their gradients; see `tap-conv.ts`). With a 1-channel
 * input it is a full 1 → `filters` convolution (BC-ResNet's 5×5 input conv); with `filters`
 * input channels it is depthwise (the blocks' 3×1 frequency conv and the classifier's 5×5 conv).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { checkBoolean, checkChoice, checkInt, checkNumber } from '../../validate.js';
import {
  type BaseLayerArgs,
  checkRank4,
  exampleShape,
  type LayerMacs,
  oneShape,
  oneTensor,
} from './layer-shape.js';
import { axisOutputSize, axisPadding, perChannelConv, type TapGeometry, tapConvMacs } from './tap-conv.js';

/** Configuration of {@link SpectralConv}. */
export interface SpectralConvArgs extends BaseLayerArgs {
  /** Output channels C. The input must have C channels (depthwise) or 1 (full 1 → C conv). */
  filters: number;
  /** Kernel taps `[time, freq]`. */
  kernelSize: [number, number];
  /** Stride along frequency. Default 1. Time is never strided. */
  freqStride?: number;
  /** Tap spacing `[time, freq]`. Default `[1, 1]`. */
  dilation?: [number, number];
  /**
   * Time padding: `'same'` (default; (k−1)·d zeros split evenly), `'causal'` (all before, so
   * output frame t depends only on frames ≤ t) or `'valid'`.
   */
  timePadding?: 'same' | 'causal' | 'valid';
  /**
   * Frequency padding: `'same'` (default; (k−1)·d/2 zeros per side, as PyTorch's
   * `padding=(k−1)/2`, giving ⌊(F−1)/stride⌋+1 bins) or `'valid'` (none).
   */
  freqPadding?: 'same' | 'valid';
  /** Add a per-channel bias. Default false (a normalisation layer follows in BC-ResNet). */
  useBias?: boolean;
  /** Seed of the He-normal kernel initialiser (fan-in = kt·kf). Default 0. */
  seed?: number;
}

/**
 * Per-channel time-frequency convolution, `[batch, time, freq, cin] → [batch, time', freq', filters]`
 * with `cin ∈ {1, filters}`; a rank-3 input `[batch, time, freq]` (spectrograms) counts as
 * `cin = 1`. Implementation: fused core kernels, also while a gradient tape records when the
 * backend has the conv backprop kernels (cpu; wasm after `registerWasmTrainingKernels()`), else
 * differentiable tap sums (see `perChannelConv`). Kernel weight `kernel`: `[kt, kf, filters]`; optional `bias`: `[filters]`.
 * Layout note: the kernel is PyTorch's `[C, 1, kf, kt]` transposed to (time, freq, channel).
 */
export class SpectralConv extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'SpectralConv';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly freqStride: number;
  readonly dilation: [number, number];
  readonly timePadding: 'same' | 'causal' | 'valid';
  readonly freqPadding: 'same' | 'valid';
  readonly useBias: boolean;
  readonly seed: number;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;
  /** Built on rank-3 spectrograms `[batch, time, freq]` rather than `[.., channels]`. */
  private planeInput = false;

  constructor(args: SpectralConvArgs) {
    super(args);
    this.filters = checkInt('SpectralConv filters', args.filters, 1);
    const k = args.kernelSize;
    if (!Array.isArray(k) || k.length !== 2) {
      throw new KwsError('INVALID_ARGUMENT', 'SpectralConv kernelSize must be [time, freq] taps');
    }
    this.kernelSize = [
      checkInt('SpectralConv kernelSize[0]', k[0], 1),
      checkInt('SpectralConv kernelSize[1]', k[1], 1),
    ];
    this.freqStride = checkInt('SpectralConv freqStride', args.freqStride ?? 1, 1);
    const d = args.dilation ?? [1, 1];
    if (!Array.isArray(d) || d.length !== 2) {
      throw new KwsError('INVALID_ARGUMENT', 'SpectralConv dilation must be [time, freq]');
    }
    this.dilation = [
      checkInt('SpectralConv dilation[0]', d[0], 1),
      checkInt('SpectralConv dilation[1]', d[1], 1),
    ];
    this.timePadding = checkChoice('SpectralConv timePadding', args.timePadding ?? 'same', [
      'same',
      'causal',
      'valid',
    ] as const);
    this.freqPadding = checkChoice('SpectralConv freqPadding', args.freqPadding ?? 'same', [
      'same',
      'valid',
    ] as const);
    this.useBias = checkBoolean('SpectralConv useBias', args.useBias ?? false);
    this.seed = checkNumber('SpectralConv seed', args.seed ?? 0);
  }

  /** The tap geometry this layer applies. @internal */
  geometry(): TapGeometry {
    const [kt, kf] = this.kernelSize;
    const [dt, df] = this.dilation;
    return {
      kernel: this.kernelSize,
      dilation: this.dilation,
      freqStride: this.freqStride,
      padTime: axisPadding(this.timePadding, kt, dt),
      padFreq: axisPadding(this.freqPadding, kf, df),
    };
  }

  /**
   * `[batch, time, freq, channels]` of an input shape; a rank-3 `[batch, time, freq]` input (a
   * batch of spectrograms) is read as one channel.
   */
  private inputDims(inputShape: tfl.Shape | tfl.Shape[]): (number | null)[] {
    const shape = oneShape(this.name, inputShape);
    if (shape.length === 3) return [...shape, 1];
    checkRank4(this.name, shape);
    return shape;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.planeInput = oneShape(this.name, inputShape).length === 3;
    const shape = this.inputDims(inputShape);
    const cin = shape[3];
    if (cin !== 1 && cin !== this.filters) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `${this.name}: input has ${cin} channels; a SpectralConv with ${this.filters} filters takes 1 or ${this.filters}`,
      );
    }
    const [kt, kf] = this.kernelSize;
    this.kernel = this.addWeight(
      'kernel',
      [kt, kf, this.filters],
      'float32',
      tfl.initializers.heNormal({ seed: this.seed }),
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = this.inputDims(inputShape);
    const g = this.geometry();
    const [batch, time, freq] = shape;
    const outT = time == null ? null : axisOutputSize(time, g.kernel[0], g.dilation[0], 1, g.padTime);
    const outF =
      freq == null ? null : axisOutputSize(freq, g.kernel[1], g.dilation[1], g.freqStride, g.padFreq);
    if ((outT !== null && outT < 1) || (outF !== null && outF < 1)) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `${this.name}: a ${g.kernel[0]}×${g.kernel[1]} kernel does not fit an input of ${time} frames × ${freq} bins`,
      );
    }
    return [batch ?? null, outT, outF, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const input = oneTensor(this.name, inputs);
      const x = (input.rank === 3 ? tf.expandDims(input, 3) : input) as tf.Tensor4D;
      const kernel = (this.kernel as tfl.LayerVariable).read() as tf.Tensor3D;
      const y = perChannelConv(x, kernel, this.geometry());
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  /**
   * Multiply-accumulates for one example of `inputShape`: the layer's input shape with or without
   * the batch entry (`[batch?, time, freq, channels]`, or `[batch?, time, freq]` for a layer
   * built on spectrograms).
   */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    const shape = this.planeInput ? [...inputShape, 1] : inputShape;
    const [time, freq] = exampleShape(this.name, shape);
    return { macs: tapConvMacs(time, freq, this.filters, this.geometry()), normMacs: 0 };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      freqStride: this.freqStride,
      dilation: [...this.dilation],
      timePadding: this.timePadding,
      freqPadding: this.freqPadding,
      useBias: this.useBias,
      seed: this.seed,
    };
  }
}
