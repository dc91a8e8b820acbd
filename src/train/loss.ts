/**
 * The classification loss of the training loop: softmax cross-entropy on logits, optionally
 * weighted per class as PyTorch's `CrossEntropyLoss(weight=w)` weights it.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean softmax cross-entropy of `logits` `[batch, classes]` against integer `labels`:
 * ℓᵢ = −log softmax(zᵢ)[yᵢ], loss = Σᵢ ℓᵢ / batch. With per-class `weights` w:
 * loss = Σᵢ w[yᵢ]·ℓᵢ / Σᵢ w[yᵢ] (PyTorch's weighted mean, so the scale of w does not matter).
 * A batch whose examples all have weight 0 gives loss 0.
 *
 * Uses a one-hot product rather than `gather`, whose gradient kernel the wasm backend lacks.
 * Call inside `tf.tidy` or a gradient function; returns a scalar.
 *
 * @param logits - `[batch, classes]` float32 (model output before softmax).
 * @param labels - `batch` class indices in `[0, classes)`.
 * @param weights - optional weight per class (length `classes`).
 * @param denominator - divide the (weighted) sum by this instead of by the batch's own total
 *   weight: for a micro-batch, the total weight of the whole batch, so that the micro-batch
 *   losses (and their gradients) add up to the whole batch's.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor,
  labels: Int32Array,
  weights?: readonly number[],
  denominator?: number,
): tf.Scalar {
  const classes = logits.shape[1] as number;
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  const perExample = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1));
  if (weights === undefined) return tf.div(tf.sum(perExample), denominator ?? labels.length);
  const w = new Float32Array(labels.length);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    w[i] = weights[labels[i] as number] as number;
    total += w[i] as number;
  }
  const d = denominator ?? total;
  if (d === 0) return tf.mul(tf.sum(perExample), 0);
  return tf.div(tf.sum(tf.mul(perExample, tf.tensor1d(w))), d);
}

/** The denominator {@link softmaxCrossEntropy} uses for a whole batch: its total weight (or size). */
export function lossDenominator(labels: Int32Array, weights?: readonly number[]): number {
  if (weights === undefined) return labels.length;
  let total = 0;
  for (let i = 0; i < labels.length; i++) total += weights[labels[i] as number] as number;
  return total;
}
