/**
 * `SubSpectralNorm` (Chang et al., "Subspectral Normalization for Neural Audio Data Processing",
 * ICASSP 2021; used by BC-ResNet): batch normalisation whose statistics and affine parameters
 * are kept separately for each of S equal sub-bands of the frequency axis, so low and high
 * frequencies are not forced to share one mean and variance.
 *
 * For sub-band s = ⌊f / (F/S)⌋ and channel c:
 *
 *   y = (x − μ[s,c]) · rsqrt(σ²[s,c] + ε) · γ[s,c] + β[s,c]
 *
 * Training uses the batch statistics over (batch, time, bins of the sub-band) (biased variance,
 * as tfjs-layers' BatchNormalization) and updates the moving statistics Keras-style,
 * `moving ← momentum·moving + (1 − momentum)·batch`; inference uses the moving statistics.
 * Written out with reshapes of rank ≤ 4 and elementwise ops (no `batchNorm` kernel with
 * `[S,1,1,C]` parameters, which throws), so gradients work on cpu and wasm.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { checkInt, checkNumber } from '../../validate.js';
import {
  type BaseLayerArgs,
  checkRank4,
  exampleShape,
  type LayerMacs,
  oneShape,
  oneTensor,
} from './layer-shape.js';

/**
 * Σ over rows and band bins of `[R, S, B, C]`, as `[1, S, 1, C]`: first over the R rows of the
 * `[R, S·B·C]` view (measured on wasm: ~3× faster than one `Sum` over axes [0, 2], which
 * transposes the whole rank-4 tensor; a ones-row matMul is slower still, as XNNPACK repacks
 * its fresh right operand on every call), then over B on the small `[S, B, C]` remainder.
 */
function sumRowsAndBins(x: tf.Tensor4D): tf.Tensor4D {
  const [rows, s, b, c] = x.shape;
  const perRow = tf.sum(tf.reshape(x, [rows, s * b * c]), 0);
  return tf.sum(tf.reshape(perRow, [1, s, b, c]), 2, true) as tf.Tensor4D;
}

/**
 * Training-mode batch normalisation of `x: [R, S, B, C]` per (s, c) over rows and band bins,
 * with `gamma`, `beta`: `[S, C]`; returns y and the batch mean and (biased) variance, both
 * `[1, S, 1, C]`. The gradient is written in closed form (the standard batch-norm backward,
 * with x̂ = (x − μ)·r, r = rsqrt(σ² + ε), M = R·B):
 *
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·r·(dy − dβ/M − x̂·dγ/M)
 *
 * so backprop costs a few elementwise passes instead of differentiating every op of the
 * written-out formula (broadcast sums over leading axes, which wasm does slowly). Mean and
 * variance are returned for the moving statistics only: no gradient flows through them.
 */
function subBandBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor2D,
  beta: tf.Tensor2D,
  epsilon: number,
): { y: tf.Tensor4D; mean: tf.Tensor4D; variance: tf.Tensor4D } {
  const [rows, s, b, c] = x.shape;
  const count = rows * b;
  // Statistics outside the custom op: the op closes over them, so they are not its inputs and
  // receive no gradient (the closed form already accounts for them).
  const mean = tf.div(sumRowsAndBins(x), count) as tf.Tensor4D;
  const centred = tf.sub(x, mean);
  const variance = tf.div(sumRowsAndBins(tf.square(centred) as tf.Tensor4D), count) as tf.Tensor4D;
  const rstd = tf.rsqrt(tf.add(variance, epsilon));
  // Inputs: x (unused in the body: `centred` already holds x − μ), gamma, beta, save function.
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const g = args[1] as tf.Tensor;
    const bt = args[2] as tf.Tensor;
    const save = args[3] as tf.GradSaveFunc;
    const gamma4 = tf.reshape(g, [1, s, 1, c]);
    const scale = tf.mul(rstd, gamma4);
    const value = tf.add(tf.mul(centred, scale), tf.reshape(bt, [1, s, 1, c]));
    save([centred, rstd, scale]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [cen, r, sc] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const dBeta = sumRowsAndBins(dy4);
        const dGamma = tf.mul(sumRowsAndBins(tf.mul(dy4, cen) as tf.Tensor4D), r);
        // dx = dy·sc − cen·(sc·r·dγ/M) − sc·dβ/M
        const k = tf.mul(sc, tf.mul(r, tf.div(dGamma, count)));
        const shift = tf.mul(sc, tf.div(dBeta, count));
        const dx = tf.sub(tf.sub(tf.mul(dy4, sc), tf.mul(cen, k)), shift);
        return [dx, tf.reshape(dGamma, [s, c]), tf.reshape(dBeta, [s, c])];
      },
    };
  });
  const y = norm(x, gamma, beta) as tf.Tensor4D;
  return { y, mean, variance };
}

/**
 * The plain formula, differentiated op by op by tfjs (the pre-closed-form path; kept selectable
 * for benchmarks via {@link setSsnTrainingPath}).
 */
function writtenOutBatchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor2D,
  beta: tf.Tensor2D,
  epsilon: number,
): { y: tf.Tensor4D; mean: tf.Tensor4D; variance: tf.Tensor4D } {
  const [, s, , c] = x.shape;
  const mean = tf.mean(x, [0, 2], true) as tf.Tensor4D;
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), [0, 2], true) as tf.Tensor4D;
  const y = tf.add(
    tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), tf.reshape(gamma, [1, s, 1, c])),
    tf.reshape(beta, [1, s, 1, c]),
  ) as tf.Tensor4D;
  return { y, mean, variance };
}

let closedForm = true;

/**
 * Selects how training-mode SubSpectralNorm is differentiated: `'closed-form'` (default) or
 * `'written-out'` (autodiff of the formula; slower, same numbers to float rounding). Returns
 * the previous choice. For benchmarks and tests.
 *
 * @internal
 */
export function setSsnTrainingPath(path: 'closed-form' | 'written-out'): 'closed-form' | 'written-out' {
  const previous = closedForm ? 'closed-form' : 'written-out';
  closedForm = path === 'closed-form';
  return previous;
}

/** Configuration of {@link SubSpectralNorm}. */
export interface SubSpectralNormArgs extends BaseLayerArgs {
  /** Number S of equal frequency sub-bands; must divide the frequency size. Default 5. */
  subBands?: number;
  /** ε added to the variance. Default 1e-5 (PyTorch's BatchNorm default). */
  epsilon?: number;
  /**
   * Weight of the old moving statistics per training step (Keras convention). Default 0.9,
   * i.e. PyTorch's `momentum=0.1`.
   */
  momentum?: number;
}

/**
 * Sub-band batch normalisation, `[batch, time, freq, C] → same shape`. Weights (all `[S, C]`,
 * sub-band major): `gamma` (ones), `beta` (zeros), non-trainable `moving_mean` (zeros) and
 * `moving_variance` (ones). PyTorch's reference keeps these as a `BatchNorm2d(C·S)` whose
 * index c·S + s maps to `[s, c]` here.
 */
export class SubSpectralNorm extends tfl.layers.Layer {
  /** Name under which the class is serialised (`class_name` in model JSON). */
  static className = 'SubSpectralNorm';
  readonly subBands: number;
  readonly epsilon: number;
  readonly momentum: number;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean: tfl.LayerVariable | null = null;
  private movingVariance: tfl.LayerVariable | null = null;

  constructor(args: SubSpectralNormArgs = {}) {
    super(args);
    this.subBands = checkInt('SubSpectralNorm subBands', args.subBands ?? 5, 1);
    this.epsilon = checkNumber(
      'SubSpectralNorm epsilon',
      args.epsilon ?? 1e-5,
      0,
      Number.POSITIVE_INFINITY,
      true,
    );
    this.momentum = checkNumber('SubSpectralNorm momentum', args.momentum ?? 0.9, 0, 1);
  }

  private checkShape(shape: readonly (number | null)[]): void {
    checkRank4(this.name, shape);
    const freq = shape[2];
    if (freq == null || freq % this.subBands !== 0) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `${this.name}: ${this.subBands} sub-bands must divide the frequency size; got ${freq} bins`,
      );
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = oneShape(this.name, inputShape);
    this.checkShape(shape);
    const channels = checkInt(`${this.name} input channels`, shape[3], 1);
    const s = [this.subBands, channels];
    this.gamma = this.addWeight('gamma', s, 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', s, 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', s, 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight(
      'moving_variance',
      s,
      'float32',
      tfl.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(this.name, inputShape);
    this.checkShape(shape);
    return shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(this.name, inputs) as tf.Tensor4D;
      const [batch, time, freq, channels] = x.shape;
      const s = this.subBands;
      // [N, T, F, C] -> [N·T, S, F/S, C]: sub-band s is row s, so per-(s, c) statistics are a
      // mean over axes 0 and 2 and the parameters broadcast as [1, S, 1, C] (rank ≤ 4 throughout).
      const grouped = tf.reshape(x, [batch * time, s, freq / s, channels]);
      const param = (v: tfl.LayerVariable): tf.Tensor => tf.reshape(v.read(), [1, s, 1, channels]);
      const gamma = param(this.gamma as tfl.LayerVariable);
      const beta = param(this.beta as tfl.LayerVariable);
      let y: tf.Tensor;
      if (kwargs.training === true) {
        const {
          y: normalised,
          mean,
          variance,
        } = (closedForm ? subBandBatchNorm : writtenOutBatchNorm)(
          grouped as tf.Tensor4D,
          this.gamma?.read() as tf.Tensor2D,
          this.beta?.read() as tf.Tensor2D,
          this.epsilon,
        );
        y = normalised;
        this.updateMoving(this.movingMean as tfl.LayerVariable, mean);
        this.updateMoving(this.movingVariance as tfl.LayerVariable, variance);
      } else {
        const scale = tf.mul(
          tf.rsqrt(tf.add(param(this.movingVariance as tfl.LayerVariable), this.epsilon)),
          gamma,
        );
        const offset = tf.sub(beta, tf.mul(param(this.movingMean as tfl.LayerVariable), scale));
        y = tf.add(tf.mul(grouped, scale), offset);
      }
      return tf.reshape(y, [batch, time, freq, channels]);
    });
  }

  private updateMoving(variable: tfl.LayerVariable, batchValue: tf.Tensor): void {
    tf.tidy(() => {
      const old = variable.read();
      const value = tf.reshape(batchValue, old.shape);
      variable.write(tf.add(tf.mul(old, this.momentum), tf.mul(value, 1 - this.momentum)));
    });
  }

  /**
   * 2 normalisation MACs per element for one example (scale and shift, moving statistics
   * folded in), the convention kws-kit's profiler uses for BatchNormalization.
   */
  countMacs(inputShape: readonly (number | null)[]): LayerMacs {
    const [time, freq, channels] = exampleShape(this.name, inputShape);
    return { macs: 0, normMacs: 2 * time * freq * channels };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      subBands: this.subBands,
      epsilon: this.epsilon,
      momentum: this.momentum,
    };
  }
}
