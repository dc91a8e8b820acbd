/**
 * Fake quantization with a straight-through estimator (STE; Bengio et al. 2013, as used for
 * quantization-aware training by Jacob et al. 2018): the forward pass rounds to the grid, the
 * backward pass treats rounding as the identity. Inside the grid's range the gradient passes
 * unchanged; outside it is 0, because there the forward pass clips (its true derivative is 0 and
 * letting it through would push values further out).
 *
 * ```
 * y      = round((clip(x, lo, hi) − lo) / scale)·scale + lo
 * ∂y/∂x  = 1 if lo ≤ x ≤ hi, else 0
 * ```
 *
 * The forward pass is exactly `FakeQuant`'s (same op order), so a model trained with it and the
 * frozen `FakeQuant` model predict alike.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationGrid } from './fake-quant.js';

/**
 * Rounds `x` (float32, any shape) to `grid` with the straight-through gradient of the module
 * documentation. A degenerate grid (scale 0) outputs zeros with a zero gradient.
 */
export function fakeQuantizeSte(x: tf.Tensor, grid: ActivationGrid): tf.Tensor {
  const { scale, lo, hi } = grid;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    const value =
      scale === 0
        ? tf.zerosLike(input)
        : tf.add(tf.mul(tf.round(tf.div(tf.sub(tf.clipByValue(input, lo, hi), lo), scale)), scale), lo);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const v = saved[0] as tf.Tensor;
        if (scale === 0) return tf.zerosLike(dy);
        const inside = tf.logicalAnd(tf.greaterEqual(v, lo), tf.lessEqual(v, hi));
        return tf.where(inside, dy, tf.zerosLike(dy));
      },
    };
  });
  return op(x) as tf.Tensor;
}
