/**
 * `FakeQuant`: a weight-free layer that rounds activations to an affine integer grid and back to
 * float32, so that a float model computes what an integer runtime would (quantization
 * simulation). tfjs has no integer kernels, so simulation is the only way to measure int8 error.
 *
 * For a calibrated range [min, max] and `bits` b (levels L = 2^b − 1), as TensorFlow's
 * `fake_quant_with_min_max_vars`:
 *
 * ```
 * scale = (max − min) / L
 * zp    = clamp(round(−min / scale), 0, L)            zero point: 0 is a grid point
 * lo    = −zp·scale,  hi = (L − zp)·scale              nudged range
 * y     = round((clip(x, lo, hi) − lo) / scale)·scale + lo
 * ```
 *
 * (`round` is tfjs's round half to even.) The range is first widened to contain 0; a range of
 * [0, 0] (a tensor that was always zero during calibration) outputs zeros. Non-float32 inputs
 * pass through.
 *
 * Register the class with {@link registerQuantizeLayers} before deserialising a model that
 * contains it (the kws-kit functions that build one do so themselves).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { BaseLayerArgs } from '../models/index.js';
import { checkInt, checkNumber } from '../validate.js';

/** Constructor arguments of {@link FakeQuant}. */
export interface FakeQuantArgs extends BaseLayerArgs {
  /** Lower end of the calibrated range (finite; raised to 0 if positive, so 0 is representable). */
  min: number;
  /** Upper end of the calibrated range (finite, ≥ min; lowered to 0 if negative). */
  max: number;
  /** Bits of the integer grid, 2 … 16. Default 8 (256 levels). */
  bits?: number;
  /**
   * Name of the tap (layer output) this layer quantizes, so reports can line the simulated model
   * up with the float one. Default `''`.
   */
  target?: string;
}

/** Nudged grid of a range: step, lower end and number of steps. */
export interface ActivationGrid {
  /** Grid step; 0 for a degenerate range. */
  scale: number;
  /** Nudged lower end (a multiple of `scale`, ≤ 0). */
  lo: number;
  /** Nudged upper end, `lo + levels·scale`. */
  hi: number;
  /** Number of steps, 2^bits − 1. */
  levels: number;
}

/**
 * The nudged activation grid for [min, max] (see the module documentation). The range is first
 * widened to contain 0.
 */
export function activationGrid(min: number, max: number, bits = 8): ActivationGrid {
  const levels = 2 ** bits - 1;
  const a = Math.min(min, 0);
  const b = Math.max(max, 0);
  if (b === a) return { scale: 0, lo: 0, hi: 0, levels };
  const scale = (b - a) / levels;
  const zp = Math.min(Math.max(Math.round(-a / scale), 0), levels);
  const lo = -zp * scale;
  return { scale, lo, hi: lo + levels * scale, levels };
}

/** Fake quantization of activations to a calibrated affine grid. See the module documentation. */
export class FakeQuant extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'FakeQuant';

  /** Calibrated lower end. */
  readonly min: number;
  /** Calibrated upper end. */
  readonly max: number;
  /** Bits of the grid. */
  readonly bits: number;
  /** Name of the quantized tap. */
  readonly target: string;
  /** The nudged grid. */
  readonly grid: ActivationGrid;

  constructor(args: FakeQuantArgs) {
    if (args === null || typeof args !== 'object') {
      throw new KwsError('INVALID_ARGUMENT', 'FakeQuant needs an arguments object with min and max');
    }
    super(args);
    this.min = checkNumber('FakeQuant min', args.min);
    this.max = checkNumber('FakeQuant max', args.max, this.min);
    this.bits = checkInt('FakeQuant bits', args.bits ?? 8, 2, 16);
    const target = args.target ?? '';
    if (typeof target !== 'string')
      throw new KwsError('INVALID_ARGUMENT', 'FakeQuant target must be a string');
    this.target = target;
    this.grid = activationGrid(this.min, this.max, this.bits);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x === undefined || (Array.isArray(inputs) && inputs.length !== 1)) {
      throw new KwsError('SHAPE_MISMATCH', `${this.name} takes one input tensor`);
    }
    if (x.dtype !== 'float32') return x;
    const { scale, lo, hi } = this.grid;
    return tf.tidy(() => {
      if (scale === 0) return tf.zerosLike(x);
      const steps = tf.round(tf.div(tf.sub(tf.clipByValue(x, lo, hi), lo), scale));
      return tf.add(tf.mul(steps, scale), lo);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), min: this.min, max: this.max, bits: this.bits, target: this.target };
  }
}

let registered = false;

/**
 * Registers kws-kit's quantization layer classes ({@link FakeQuant}) with
 * `tf.serialization.registerClass`. Idempotent.
 */
export function registerQuantizeLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(FakeQuant);
  registered = true;
}
