/**
 * `MovingFakeQuant`: the activation quantizer of quantization-aware training. It rounds its input
 * to the affine grid of a range [min, max] (the same nudged grid as `FakeQuant`, see
 * `activationGrid`), and learns that range while training as an exponential moving average of
 * the batch extremes (TensorFlow's `MovingAverageQuantizer`):
 *
 * ```
 * min ← m·min + (1 − m)·min(batch)      max ← m·max + (1 − m)·max(batch)
 * ```
 *
 * with momentum m (default 0.99). The first training batch sets the range directly (a range of
 * [0, 0] counts as not yet seen). In inference the range is frozen. The gradient is the
 * straight-through estimator with clipping (see `fakeQuantizeSte`): 1 inside the range, 0
 * outside.
 *
 * The range lives in two non-trainable weights, `min` and `max`, so it is saved, checkpointed
 * and restored with the model. Register the class ({@link registerQatLayers}) before
 * deserialising a model that contains it.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { BaseLayerArgs } from '../models/index.js';
import { checkInt, checkNumber } from '../validate.js';
import { type ActivationGrid, activationGrid, registerQuantizeLayers } from './fake-quant.js';
import { fakeQuantizeSte } from './ste.js';

/** Constructor arguments of {@link MovingFakeQuant}. */
export interface MovingFakeQuantArgs extends BaseLayerArgs {
  /** Bits of the grid, 2 … 16. Default 8. */
  bits?: number;
  /** Momentum m of the moving range, in [0, 1). Default 0.99. */
  momentum?: number;
  /** Name of the tap (layer output) this layer quantizes. Default `''`. */
  target?: string;
}

/** Activation fake quantization with a moving-average range. See the module documentation. */
export class MovingFakeQuant extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'MovingFakeQuant';

  /** Bits of the grid. */
  readonly bits: number;
  /** Momentum of the moving range. */
  readonly momentum: number;
  /** Name of the quantized tap. */
  readonly target: string;
  private minVar: tfl.LayerVariable | null = null;
  private maxVar: tfl.LayerVariable | null = null;

  constructor(args: MovingFakeQuantArgs = {}) {
    if (args === null || typeof args !== 'object') {
      throw new KwsError('INVALID_ARGUMENT', 'MovingFakeQuant needs an arguments object');
    }
    super(args);
    this.bits = checkInt('MovingFakeQuant bits', args.bits ?? 8, 2, 16);
    this.momentum = checkNumber('MovingFakeQuant momentum', args.momentum ?? 0.99, 0, 1);
    if (this.momentum === 1)
      throw new KwsError('INVALID_ARGUMENT', 'MovingFakeQuant momentum must be < 1; got 1');
    const target = args.target ?? '';
    if (typeof target !== 'string') {
      throw new KwsError('INVALID_ARGUMENT', 'MovingFakeQuant target must be a string');
    }
    this.target = target;
    this.supportsMasking = true;
  }

  override build(): void {
    this.minVar = this.addWeight('min', [], 'float32', tfl.initializers.zeros(), undefined, false);
    this.maxVar = this.addWeight('max', [], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  /** The current range `[min, max]` (frozen range in inference). */
  range(): [number, number] {
    if (this.minVar === null || this.maxVar === null) return [0, 0];
    return [this.minVar.read().dataSync()[0] as number, this.maxVar.read().dataSync()[0] as number];
  }

  /** Sets the range, e.g. from calibration. `min ≤ max`, both finite. */
  setRange(min: number, max: number): void {
    checkNumber(`${this.name} min`, min);
    checkNumber(`${this.name} max`, max, min);
    if (this.minVar === null || this.maxVar === null) {
      throw new KwsError('MODEL_INVALID', `${this.name} is not built yet; apply it to a tensor first`);
    }
    tf.tidy(() => {
      (this.minVar as tfl.LayerVariable).write(tf.scalar(min));
      (this.maxVar as tfl.LayerVariable).write(tf.scalar(max));
    });
  }

  /** The grid of the current range. */
  grid(): ActivationGrid {
    const [min, max] = this.range();
    return activationGrid(min, max, this.bits);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x === undefined || (Array.isArray(inputs) && inputs.length !== 1)) {
      throw new KwsError('SHAPE_MISMATCH', `${this.name} takes one input tensor`);
    }
    if (x.dtype !== 'float32') return x;
    if (kwargs.training === true && x.size > 0) this.observe(x);
    return tf.tidy(() => fakeQuantizeSte(x, this.grid()));
  }

  /** Moves the range towards the extremes of a training batch. */
  private observe(x: tf.Tensor): void {
    const [lo, hi] = tf.tidy(() => [tf.min(x), tf.max(x)]);
    const batchMin = (lo as tf.Tensor).dataSync()[0] as number;
    const batchMax = (hi as tf.Tensor).dataSync()[0] as number;
    tf.dispose([lo as tf.Tensor, hi as tf.Tensor]);
    if (!Number.isFinite(batchMin) || !Number.isFinite(batchMax)) {
      throw new KwsError('NON_FINITE_INPUT', `${this.name} received non-finite activations while training`);
    }
    const [min, max] = this.range();
    const m = this.momentum;
    const fresh = min === 0 && max === 0;
    this.setRange(
      fresh ? batchMin : m * min + (1 - m) * batchMin,
      fresh ? batchMax : m * max + (1 - m) * batchMax,
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bits: this.bits, momentum: this.momentum, target: this.target };
  }
}

let registered = false;

/**
 * Registers the layer classes of quantization-aware training ({@link MovingFakeQuant}) and of
 * post-training simulation (`FakeQuant`) with `tf.serialization.registerClass`. Idempotent.
 */
export function registerQatLayers(): void {
  registerQuantizeLayers();
  if (registered) return;
  tf.serialization.registerClass(MovingFakeQuant);
  registered = true;
}
