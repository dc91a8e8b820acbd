/**
 * Additive (Bahdanau-style) attention pooling over time, as a tfjs-layers layer.
 *
 * For a sequence `h_1 … h_T` of `D`-dimensional states it scores each step with a one-hidden-layer
 * network, normalises the scores over time and returns the weighted mean:
 *
 * ```
 * e_t = vᵀ · tanh(W·h_t + b) + c        (W: [D, A], b: [A], v: [A], c: scalar)
 * α   = softmax_t(e)                     ([batch, T], sums to 1 over t)
 * y   = Σ_t α_t · h_t                    ([batch, D])
 * ```
 *
 * Bahdanau, Cho & Bengio, "Neural machine translation by jointly learning to align and
 * translate" (ICLR 2015), used for keyword spotting by the CRNN of Arık et al., "Convolutional
 * recurrent neural networks for small-footprint keyword spotting" (Interspeech 2017).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { checkBoolean, checkInt } from '../../validate.js';
import type { BaseLayerArgs, LayerMacs } from './layer-shape.js';

/** Constructor arguments of {@link AttentionPooling} (plus the usual tfjs-layers `name`, `trainable`…). */
export interface AttentionPoolingArgs extends BaseLayerArgs {
  /** Width `A` of the scoring network's hidden layer (the rows of `W`). Integer ≥ 1. */
  units: number;
  /**
   * Whether the score has a scalar bias `c`. Default `true`, so that parameter counts and weights
   * match a PyTorch `Linear(A, 1)` scorer. Softmax is shift-invariant, so `c` changes neither the
   * output nor the loss, and its gradient is zero up to rounding: it is dead weight kept for parity.
   */
  useScoreBias?: boolean;
  /**
   * When `true` the layer has two outputs, `[pooled [batch, D], weights [batch, T]]`; when `false`
   * (default) only the pooled vector. Models that want to read or distil the attention weights
   * build the layer with `true` and use output 0 downstream.
   */
  returnAttention?: boolean;
  /**
   * Seed of the Glorot-uniform initialisers: `W` uses `seed`, `v` uses `seed + 1`. `null` or
   * absent draws unseeded values. Biases start at zero.
   */
  seed?: number | null;
}

/**
 * Additive attention pooling: `[batch, T, D] → [batch, D]` (and optionally the weights
 * `[batch, T]`). See the module description for the formula.
 *
 * Weights, in `getWeights()` order: `kernel` `W` `[D, A]`, `bias` `b` `[A]`, `score_kernel` `v`
 * `[A, 1]`, then `score_bias` `c` `[1]` when `useScoreBias`. Register the class with
 * `registerKwsLayers()` before deserialising a model that contains it.
 */
export class AttentionPooling extends tfl.layers.Layer {
  /** Class name stored in model JSON (`class_name`). */
  static className = 'AttentionPooling';

  /** Width `A` of the scoring network. */
  readonly units: number;
  /** Whether the score has the scalar bias `c`. */
  readonly useScoreBias: boolean;
  /** Whether the layer also outputs the attention weights. */
  readonly returnAttention: boolean;
  /** Initialiser seed, or `null` for unseeded. */
  readonly seed: number | null;

  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;
  private scoreKernel: tfl.LayerVariable | null = null;
  private scoreBias: tfl.LayerVariable | null = null;

  constructor(args: AttentionPoolingArgs) {
    if (args === null || typeof args !== 'object') {
      throw new KwsError('INVALID_ARGUMENT', 'AttentionPooling needs an arguments object with `units`');
    }
    super(args);
    this.units = checkInt('units', args.units, 1);
    this.useScoreBias = checkBoolean('useScoreBias', args.useScoreBias ?? true);
    this.returnAttention = checkBoolean('returnAttention', args.returnAttention ?? false);
    this.seed = args.seed == null ? null : checkInt('seed', args.seed, 0, 2 ** 31 - 2);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const [, , dim] = sequenceShape(inputShape);
    const seeded = (offset: number) =>
      tfl.initializers.glorotUniform(this.seed === null ? {} : { seed: this.seed + offset });
    const zeros = tfl.initializers.zeros();
    this.kernel = this.addWeight('kernel', [dim, this.units], 'float32', seeded(0));
    this.bias = this.addWeight('bias', [this.units], 'float32', zeros);
    this.scoreKernel = this.addWeight('score_kernel', [this.units, 1], 'float32', seeded(1));
    if (this.useScoreBias) this.scoreBias = this.addWeight('score_bias', [1], 'float32', zeros);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const [batch, time, dim] = sequenceShape(inputShape);
    const pooled: tfl.Shape = [batch, dim];
    return this.returnAttention ? [pooled, [batch, time]] : pooled;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      if (this.kernel === null || this.bias === null || this.scoreKernel === null) {
        throw new KwsError('MODEL_INVALID', 'AttentionPooling was called before it was built');
      }
      const { pooled, weights } = attentionPool(
        x,
        this.kernel.read() as tf.Tensor2D,
        this.bias.read() as tf.Tensor1D,
        this.scoreKernel.read() as tf.Tensor2D,
        this.scoreBias === null ? null : (this.scoreBias.read() as tf.Tensor1D),
      );
      return this.returnAttention ? [pooled, weights] : pooled;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      useScoreBias: this.useScoreBias,
      returnAttention: this.returnAttention,
      seed: this.seed,
    };
  }

  /**
   * Multiply-accumulates of one example (batch 1), for the model profiler.
   *
   * `macs = T·D·A` (projection `W·h_t`) `+ T·A` (scores `vᵀ·tanh(…)`) `+ T·D` (weighted sum).
   * `normMacs = 0`: the softmax over time is not a scale-and-shift that folds into a neighbour,
   * and, like bias additions, `tanh` and `exp`, its element-wise work is not counted.
   *
   * @param inputShape - `[T, D]` or `[batch, T, D]` (the batch entry, possibly `null`, is ignored)
   */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    if (!Array.isArray(inputShape) || inputShape.length < 2 || inputShape.length > 3) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `countMacs needs inputShape [T, D] or [batch, T, D]; got ${JSON.stringify(inputShape)}`,
      );
    }
    const time = checkInt('inputShape T', inputShape[inputShape.length - 2], 1);
    const dim = checkInt('inputShape D', inputShape[inputShape.length - 1], 1);
    const a = this.units;
    return { macs: time * dim * a + time * a + time * dim, normMacs: 0 };
  }
}

/**
 * The attention pooling computation on plain tensors (what {@link AttentionPooling} runs).
 *
 * @param x - states `[batch, T, D]`
 * @param kernel - `W` `[D, A]`
 * @param bias - `b` `[A]`
 * @param scoreKernel - `v` `[A, 1]`
 * @param scoreBias - `c` `[1]`, or `null`
 * @returns `pooled` `[batch, D]` and `weights` `[batch, T]` (each row sums to 1)
 */
export function attentionPool(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  scoreKernel: tf.Tensor2D,
  scoreBias: tf.Tensor1D | null,
): { pooled: tf.Tensor2D; weights: tf.Tensor2D } {
  const [batch, time, dim] = x.shape;
  if (
    kernel.shape[0] !== dim ||
    bias.shape[0] !== kernel.shape[1] ||
    scoreKernel.shape[0] !== kernel.shape[1] ||
    scoreKernel.shape[1] !== 1
  ) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `attentionPool: x [${x.shape}] needs kernel [${dim}, A], bias [A], scoreKernel [A, 1]; got kernel ` +
        `[${kernel.shape}], bias [${bias.shape}], scoreKernel [${scoreKernel.shape}]`,
    );
  }
  return tf.tidy(() => {
    // One [B·T, D]×[D, A] product instead of a batched one: fewer kernels, same arithmetic.
    const flat = tf.reshape(x, [batch * time, dim]);
    const hidden = tf.tanh(tf.add(tf.matMul(flat, kernel), bias));
    let scores = tf.matMul(hidden, scoreKernel);
    if (scoreBias !== null) scores = tf.add(scores, scoreBias);
    const weights = tf.softmax(tf.reshape(scores, [batch, time])) as tf.Tensor2D;
    const pooled = tf.reshape(tf.matMul(tf.reshape(weights, [batch, 1, time]), x), [batch, dim]);
    return { pooled: pooled as tf.Tensor2D, weights };
  });
}

function sequenceShape(inputShape: tfl.Shape | tfl.Shape[]): [number | null, number | null, number] {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  const dim = shape[2];
  if (shape.length !== 3 || typeof dim !== 'number' || dim < 1) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `AttentionPooling needs input [batch, time, features] with known features; got [${shape.map(String)}]`,
    );
  }
  return [shape[0] ?? null, shape[1] ?? null, dim];
}
