/**
 * Hint (feature) distillation after FitNets: a learned linear projection maps the student's
 * intermediate features to the teacher's width, and the loss is their mean squared error.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import { checkInt, checkOptions } from '../validate.js';
import { checkFloatTensor, showShape } from './loss-checks.js';

/** Options of {@link createHintProjection}. */
export interface HintProjectionOptions {
  /** Seed of the Glorot-uniform kernel initialisation (integer in [0, 2³²)). Default 0. */
  seed?: number;
}

/**
 * A trainable linear map of the last feature axis, studentDim → teacherDim:
 * y = x · kernel + bias. Train its {@link HintProjection.variables} together with the student's
 * and dispose it when distillation ends (it is not part of the student model).
 */
export interface HintProjection {
  /** `[studentDim, teacherDim]`, Glorot-uniform initialised. */
  readonly kernel: tf.Variable;
  /** `[teacherDim]`, initialised to zeros. */
  readonly bias: tf.Variable;
  /** Width of the student's feature axis. */
  readonly studentDim: number;
  /** Width of the teacher's feature axis. */
  readonly teacherDim: number;
  /** `[kernel, bias]`, e.g. to append to the optimizer's variable list. */
  readonly variables: readonly tf.Variable[];
  /**
   * Projects the last axis of `x` (`[B, D]`, `[B, T, D]` or `[B, H, W, D]` with D = studentDim)
   * to teacherDim; the other axes are kept. The caller disposes the result.
   *
   * @throws KwsError `SHAPE_MISMATCH` on the wrong rank or last axis, `DISPOSED` after dispose
   */
  apply(x: tf.Tensor): tf.Tensor;
  /** Frees the kernel and bias. Idempotent. */
  dispose(): void;
}

/**
 * Creates the learned regressor of FitNets (Romero et al. 2015, "FitNets: Hints for Thin Deep
 * Nets") as a linear map of the feature axis (a 1×1 convolution for `[B, H, W, C]` maps). The
 * kernel is drawn uniformly in ±√(6 / (studentDim + teacherDim)) (Glorot & Bengio 2010) from a
 * seeded generator, the bias is zero, so the same seed gives the same projection.
 *
 * @param studentDim - width of the student's features (integer >= 1)
 * @param teacherDim - width of the teacher's features (integer >= 1)
 * @param options - see {@link HintProjectionOptions}
 * @returns a {@link HintProjection}; dispose it when done
 * @throws KwsError `INVALID_ARGUMENT` on bad sizes or seed
 */
export function createHintProjection(
  studentDim: number,
  teacherDim: number,
  options?: HintProjectionOptions,
): HintProjection {
  checkInt('studentDim', studentDim, 1);
  checkInt('teacherDim', teacherDim, 1);
  const o = checkOptions('options', options);
  const seed = checkInt('seed', o.seed ?? 0, 0, 2 ** 32 - 1);
  const rng = createRng(seed);
  const limit = Math.sqrt(6 / (studentDim + teacherDim));
  const init = new Float32Array(studentDim * teacherDim);
  for (let k = 0; k < init.length; k++) init[k] = rng.uniform(-limit, limit);
  const kernel = tf.tidy(() => tf.variable(tf.tensor2d(init, [studentDim, teacherDim]), true));
  const bias = tf.tidy(() => tf.variable(tf.zeros([teacherDim]), true));
  let disposed = false;

  return {
    kernel,
    bias,
    studentDim,
    teacherDim,
    variables: [kernel, bias],
    apply(x: tf.Tensor): tf.Tensor {
      if (disposed) throw new KwsError('DISPOSED', 'this HintProjection has been disposed');
      const f = checkFloatTensor('features', x, [2, 3, 4], '[batch, D], [batch, T, D] or [batch, H, W, D]');
      const last = f.shape[f.rank - 1] as number;
      if (last !== studentDim) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `features ${showShape(f.shape)} must have ${studentDim} channels on the last axis (the projection's studentDim)`,
        );
      }
      return tf.tidy(() => {
        const flat = tf.reshape(f, [-1, studentDim]) as tf.Tensor2D;
        const y = tf.add(tf.matMul(flat, kernel), bias);
        return tf.reshape(y, [...f.shape.slice(0, -1), teacherDim]);
      });
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      kernel.dispose();
      bias.dispose();
    },
  };
}

/**
 * FitNets hint loss (Romero et al. 2015): the mean squared error between the projected student
 * features and the teacher's, averaged over every element,
 *
 *   loss = (1/N) Σ (W·s + b − t)²,   N = number of elements of t
 *
 * (FitNets writes ½‖·‖²; the mean keeps the scale independent of the feature size). Shapes
 * other than the last axis must already agree: resample time or space first if the two
 * networks downsample differently. Gradients flow to the student features and to the
 * projection's variables; compute the teacher's features outside the tape.
 *
 * @param studentFeatures - float32 `[B, Ds]`, `[B, T, Ds]` or `[B, H, W, Ds]`
 * @param teacherFeatures - float32, the same shape with Dt on the last axis
 * @param projection - from {@link createHintProjection}(Ds, Dt)
 * @returns a scalar in squared feature units
 * @throws KwsError `SHAPE_MISMATCH` (ranks or axes that do not agree), `INVALID_ARGUMENT`,
 *   `DISPOSED` (a disposed projection), `EMPTY_INPUT`
 */
export function hintLoss(
  studentFeatures: tf.Tensor,
  teacherFeatures: tf.Tensor,
  projection: HintProjection,
): tf.Scalar {
  const layout = '[batch, D], [batch, T, D] or [batch, H, W, D]';
  const s = checkFloatTensor('studentFeatures', studentFeatures, [2, 3, 4], layout);
  const t = checkFloatTensor('teacherFeatures', teacherFeatures, [2, 3, 4], layout);
  if (projection === null || typeof projection !== 'object' || typeof projection.apply !== 'function') {
    throw new KwsError('INVALID_ARGUMENT', 'projection must be a HintProjection from createHintProjection');
  }
  const expected = [...s.shape.slice(0, -1), projection.teacherDim];
  const agree = t.rank === expected.length && expected.every((d, i) => d === t.shape[i]);
  if (!agree) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `teacherFeatures ${showShape(t.shape)} must be ${showShape(expected)}: studentFeatures ${showShape(s.shape)} with the projection's teacherDim ${projection.teacherDim} on the last axis`,
    );
  }
  return tf.tidy(() => {
    return tf.mean(tf.squaredDifference(projection.apply(s), t)) as tf.Scalar;
  });
}
