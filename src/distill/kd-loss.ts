/**
 * Logit distillation losses: the softened-softmax KL divergence of Hinton et al. (2015), its
 * mix with the hard-label cross-entropy, and plain logit regression (MSE).
 *
 * Teacher outputs are constants to these losses. The distillation loop must compute them
 * outside the gradient tape (run the teacher first, e.g. in `tf.tidy` + `tf.keep`, then call
 * `tf.variableGrads(f, studentVariables)` with a closure that runs only the student) and list
 * only the student's variables: a teacher run inside the closure costs tape memory and time,
 * and would receive gradients if its variables were listed (or if no list were given and the
 * teacher were trainable).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOptions } from '../validate.js';
import { type HardCrossEntropyOptions, type HardLabels, hardCrossEntropy } from './cross-entropy.js';
import { checkFloatTensor, checkSameShape, checkTemperature } from './loss-checks.js';

/** Options of {@link kdLoss}. */
export interface KdLossOptions {
  /** Softmax temperature T > 0 for both student and teacher. Default 4. */
  temperature?: number;
}

/** Options of {@link mixedKdLoss}. */
export interface MixedKdLossOptions extends HardCrossEntropyOptions {
  /**
   * Weight α in [0, 1] of the hard-label cross-entropy; the distillation term gets 1 − α.
   * Default 0.5. α = 1 is plain supervised training, α = 0 pure distillation.
   */
  alpha?: number;
  /** Softmax temperature T > 0 of the distillation term. Default 4. */
  temperature?: number;
}

/** Default distillation temperature. */
export const DEFAULT_KD_TEMPERATURE = 4;

/** Default hard-label weight α of {@link mixedKdLoss}. */
export const DEFAULT_KD_ALPHA = 0.5;

/** The KD term on validated tensors. */
function klTerm(s: tf.Tensor, t: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    // Both sides through logSoftmax: softmax-then-log underflows to -Infinity for confident
    // logits, and p·log p then turns into 0·(-Inf) = NaN.
    const logP = tf.logSoftmax(tf.div(t, temperature));
    const logQ = tf.logSoftmax(tf.div(s, temperature));
    const perExample = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1);
    return tf.mul(tf.mean(perExample), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Knowledge-distillation loss of Hinton, Vinyals, Dean 2015 ("Distilling the Knowledge in a
 * Neural Network"), averaged over the batch:
 *
 *   p = softmax(t/T),  q = softmax(s/T),  loss = T² · (1/B) Σᵢ KL(pᵢ ‖ qᵢ) = T² · (1/B) Σᵢ Σ_c p_ic (log p_ic − log q_ic)
 *
 * computed with log-softmax on both sides. The T² factor keeps the gradient's scale independent
 * of T: ∂loss/∂s = T · (q − p) / B. It is 0 when the student's logits equal the teacher's (or
 * differ by a per-row constant) and > 0 otherwise. Units: nats · T².
 *
 * Usable inside `tf.variableGrads` / `optimizer.minimize`; intermediates are freed. Compute the
 * teacher logits outside the tape (see the module notes).
 *
 * @param studentLogits - float32 `[batch, classes]`
 * @param teacherLogits - float32 `[batch, classes]`
 * @param options - see {@link KdLossOptions}
 * @returns a scalar
 * @throws KwsError `SHAPE_MISMATCH` (shapes differ or are not 2-D), `INVALID_ARGUMENT`
 *   (temperature <= 0, non-float32 tensors), `EMPTY_INPUT`
 */
export function kdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options?: KdLossOptions,
): tf.Scalar {
  const s = checkFloatTensor('studentLogits', studentLogits, 2, '[batch, classes]');
  const t = checkFloatTensor('teacherLogits', teacherLogits, 2, '[batch, classes]');
  checkSameShape('studentLogits', s, 'teacherLogits', t);
  const o = checkOptions('options', options);
  const temperature = checkTemperature(o.temperature ?? DEFAULT_KD_TEMPERATURE);
  return klTerm(s, t, temperature);
}

/**
 * Mean squared error between student and teacher logits, averaged over every element (batch
 * and classes, as PyTorch's `mse_loss` with `reduction='mean'`):
 *
 *   loss = (1/(B·C)) Σᵢ Σ_c (s_ic − t_ic)²
 *
 * Logit matching of Ba & Caruana 2014 ("Do Deep Nets Really Need to be Deep?"); Hinton et al.
 * 2015 show KD tends to it as T → ∞ for zero-mean logits. Usable inside `tf.variableGrads`.
 *
 * @param studentLogits - float32 `[batch, classes]`
 * @param teacherLogits - float32 `[batch, classes]`
 * @returns a scalar in squared logit units
 * @throws KwsError `SHAPE_MISMATCH`, `INVALID_ARGUMENT`, `EMPTY_INPUT`
 */
export function logitMse(studentLogits: tf.Tensor, teacherLogits: tf.Tensor): tf.Scalar {
  const s = checkFloatTensor('studentLogits', studentLogits, 2, '[batch, classes]');
  const t = checkFloatTensor('teacherLogits', teacherLogits, 2, '[batch, classes]');
  checkSameShape('studentLogits', s, 'teacherLogits', t);
  return tf.tidy(() => tf.mean(tf.squaredDifference(s, t)) as tf.Scalar);
}

/**
 * The usual distillation objective: a convex mix of the hard-label cross-entropy and the KD
 * term,
 *
 *   loss = α · CE(s, labels) + (1 − α) · T² · KL(softmax(t/T) ‖ softmax(s/T))
 *
 * Convention: α weights the hard-label term (α = 1 ignores the teacher). CE is
 * {@link hardCrossEntropy} at temperature 1 (with the optional class weights and label
 * smoothing); the KD term is {@link kdLoss}, whose T² factor keeps the two terms' gradients
 * on comparable scales (Hinton, Vinyals, Dean 2015, §2).
 *
 * @param studentLogits - float32 `[batch, classes]`
 * @param teacherLogits - float32 `[batch, classes]`, computed outside the tape
 * @param labels - see {@link HardLabels}
 * @param options - see {@link MixedKdLossOptions}
 * @returns a scalar
 * @throws KwsError `INVALID_ARGUMENT` (alpha outside [0, 1], temperature <= 0, labels out of
 *   range), `SHAPE_MISMATCH`, `EMPTY_INPUT`
 */
export function mixedKdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: HardLabels,
  options?: MixedKdLossOptions,
): tf.Scalar {
  const s = checkFloatTensor('studentLogits', studentLogits, 2, '[batch, classes]');
  const t = checkFloatTensor('teacherLogits', teacherLogits, 2, '[batch, classes]');
  checkSameShape('studentLogits', s, 'teacherLogits', t);
  const o = checkOptions('options', options);
  const alpha = checkNumber('alpha', o.alpha ?? DEFAULT_KD_ALPHA, 0, 1);
  const temperature = checkTemperature(o.temperature ?? DEFAULT_KD_TEMPERATURE);
  const ceOptions: HardCrossEntropyOptions = {};
  if (o.classWeights !== undefined) ceOptions.classWeights = o.classWeights;
  if (o.labelSmoothing !== undefined) ceOptions.labelSmoothing = o.labelSmoothing;
  return tf.tidy(() => {
    // The CE is evaluated even at alpha = 0 so that bad labels are always reported.
    const ce = hardCrossEntropy(s, labels, ceOptions);
    const kd = klTerm(s, t, temperature);
    return tf.add(tf.mul(ce, alpha), tf.mul(kd, 1 - alpha)) as tf.Scalar;
  });
}
