/**
 * Cross-entropy losses on logits: against hard labels (class indices or one-hot rows, with
 * optional class weights and label smoothing) and against soft targets (teacher logits softened
 * by a temperature, or probabilities).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { checkBoolean, checkChoice, checkFinite, checkNumber, checkOptions } from '../validate.js';
import {
  checkDistributionRows,
  checkFloatTensor,
  checkSameShape,
  checkTemperature,
  showShape,
} from './loss-checks.js';

/**
 * Hard labels for a batch: class indices (`int32` tensor `[batch]`, `Int32Array` or number
 * array), or a float32 tensor `[batch, classes]` of one-hot (or any probability) rows.
 */
export type HardLabels = tf.Tensor | Int32Array | readonly number[];

/** Options of {@link hardCrossEntropy}. */
export interface HardCrossEntropyOptions {
  /**
   * Weight per class (length `classes`, finite, >= 0). Each example is weighted by the weight of
   * its label (for one-hot/soft rows y: Σ_c w_c·y_c) and the loss is the weighted mean
   * Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ, as PyTorch's `CrossEntropyLoss(weight=w)` averages, so the scale of `w` does
   * not matter. Default: every class 1.
   */
  classWeights?: readonly number[] | Float32Array;
  /**
   * Label smoothing ε in [0, 1): the target becomes (1 − ε)·y + ε/classes (Szegedy et al. 2016,
   * "Rethinking the Inception Architecture"). Default 0. With class weights, the example weight
   * still comes from the unsmoothed label (PyTorch also weights the ε/classes term per class;
   * the two agree whenever either option is at its default).
   */
  labelSmoothing?: number;
}

/** Options of {@link softCrossEntropy}. */
export interface SoftCrossEntropyOptions {
  /** Softmax temperature T > 0 applied to the student logits (and to teacher logits). Default 1. */
  temperature?: number;
  /**
   * What the second argument holds: `'logits'` (teacher logits, softened by T) or
   * `'probabilities'` (rows already summing to 1, used as given). Default `'logits'`.
   */
  targets?: 'logits' | 'probabilities';
  /**
   * Multiply by T² so that gradient magnitudes do not shrink as 1/T² when T grows (Hinton et al.
   * 2015, §2). Default true.
   */
  scaleByTemperatureSquared?: boolean;
}

/**
 * Reads and validates labels for a `[batch, classes]` logits tensor and returns them as
 * row-major `[batch * classes]` target rows (one-hot for index labels). Index labels are read back
 * (a synchronous download): it is the only way to check their range, and they are tiny.
 */
function resolveLabels(labels: unknown, batch: number, classes: number): Float32Array {
  const rows = new Float32Array(batch * classes);
  if (labels instanceof tf.Tensor) {
    if (labels.isDisposed) throw new KwsError('DISPOSED', 'labels has been disposed');
    if (labels.rank === 2) {
      if (labels.shape[0] !== batch || labels.shape[1] !== classes) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `one-hot labels ${showShape(labels.shape)} must be [batch, classes] = [${batch}, ${classes}] like the logits`,
        );
      }
      if (labels.dtype !== 'float32' && labels.dtype !== 'int32') {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `one-hot labels must be float32 or int32; got ${labels.dtype}`,
        );
      }
      const values = labels.dataSync() as Float32Array | Int32Array;
      checkDistributionRows('labels', values, batch, classes);
      rows.set(values);
      return rows;
    }
    if (labels.rank !== 1) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `labels must be int32 [batch] or one-hot [batch, classes]; got ${showShape(labels.shape)}`,
      );
    }
    if (labels.dtype !== 'int32') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `class-index labels must be an int32 tensor; got ${labels.dtype}`,
      );
    }
    return indexRows(labels.dataSync() as Int32Array, batch, classes, rows);
  }
  if (labels instanceof Int32Array || Array.isArray(labels)) {
    return indexRows(labels as ArrayLike<number>, batch, classes, rows);
  }
  throw new KwsError(
    'INVALID_ARGUMENT',
    'labels must be class indices (int32 tensor [batch], Int32Array or number[]) or a one-hot tensor [batch, classes]',
  );
}

function indexRows(
  indices: ArrayLike<number>,
  batch: number,
  classes: number,
  rows: Float32Array,
): Float32Array {
  if (indices.length !== batch) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `labels has ${indices.length} entries; the logits have batch ${batch}`,
    );
  }
  for (let i = 0; i < batch; i++) {
    const y = indices[i];
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= classes) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `labels[${i}] is ${String(y)}; class indices must be integers in [0, ${classes - 1}]`,
      );
    }
    rows[i * classes + y] = 1;
  }
  return rows;
}

function resolveClassWeights(value: unknown, classes: number): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float32Array) && !Array.isArray(value)) {
    throw new KwsError('INVALID_ARGUMENT', 'classWeights must be an array or Float32Array of numbers');
  }
  const weights = Float32Array.from(value as ArrayLike<number>);
  if (weights.length !== classes) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `classWeights has ${weights.length} entries; the logits have ${classes} classes`,
    );
  }
  checkFinite('classWeights', weights);
  if (weights.some((w) => w < 0)) {
    throw new KwsError('INVALID_ARGUMENT', 'classWeights must all be >= 0');
  }
  return weights;
}

/**
 * Softmax cross-entropy of `logits` against hard labels, averaged over the batch:
 *
 *   qᵢ = (1 − ε)·yᵢ + ε/C,   ℓᵢ = −Σ_c q_ic · log softmax(zᵢ)_c,   loss = Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ
 *
 * where yᵢ is the one-hot label, ε the label smoothing, C the number of classes and wᵢ the
 * class weight of example i (1 without `classWeights`, so the loss is the plain batch mean).
 * A batch whose examples all weigh 0 gives 0. Uses log-softmax for stability and a one-hot
 * product rather than `gather` (whose gradient the wasm backend lacks).
 *
 * This is the hard-label term of {@link mixedKdLoss}. The labels are read back to check their
 * range (a small synchronous download). Usable inside `tf.variableGrads` / `optimizer.minimize`;
 * intermediates are freed.
 *
 * @param logits - float32 `[batch, classes]` (model output before softmax)
 * @param labels - see {@link HardLabels}; one-hot rows may also be soft (any distribution)
 * @param options - see {@link HardCrossEntropyOptions}
 * @returns a scalar in nats
 * @throws KwsError `SHAPE_MISMATCH` (labels or weights that do not match the logits),
 *   `INVALID_ARGUMENT` (index out of range, rows that are not distributions, bad options),
 *   `EMPTY_INPUT` (empty logits)
 */
export function hardCrossEntropy(
  logits: tf.Tensor,
  labels: HardLabels,
  options?: HardCrossEntropyOptions,
): tf.Scalar {
  const z = checkFloatTensor('logits', logits, 2, '[batch, classes]');
  const o = checkOptions('options', options);
  const smoothing = checkNumber('labelSmoothing', o.labelSmoothing ?? 0, 0, 1);
  if (smoothing === 1) throw new KwsError('INVALID_ARGUMENT', 'labelSmoothing must be < 1; got 1');
  const [batch, classes] = z.shape as [number, number];
  const rows = resolveLabels(labels, batch, classes);
  const classWeights = resolveClassWeights(o.classWeights, classes);

  let exampleWeights: Float32Array | undefined;
  if (classWeights !== undefined) {
    exampleWeights = new Float32Array(batch);
    let total = 0;
    for (let i = 0; i < batch; i++) {
      let w = 0;
      for (let c = 0; c < classes; c++) w += (classWeights[c] as number) * (rows[i * classes + c] as number);
      exampleWeights[i] = w;
      total += w;
    }
    if (total === 0) return tf.tidy(() => tf.mul(tf.sum(z), 0) as tf.Scalar);
  }
  if (smoothing > 0) {
    for (let k = 0; k < rows.length; k++)
      rows[k] = (1 - smoothing) * (rows[k] as number) + smoothing / classes;
  }
  return tf.tidy(() => {
    const target = tf.tensor2d(rows, [batch, classes]);
    const perExample = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(z)), 1));
    if (exampleWeights === undefined) return tf.mean(perExample) as tf.Scalar;
    const w = tf.tensor1d(exampleWeights);
    return tf.div(tf.sum(tf.mul(perExample, w)), tf.sum(w)) as tf.Scalar;
  });
}

/**
 * Cross-entropy of the student's softened distribution against soft targets, averaged over
 * the batch:
 *
 *   loss = s · (1/B) Σᵢ −Σ_c p_ic · log softmax(zᵢ/T)_c,   s = T² (default) or 1
 *
 * where p = softmax(t/T) for teacher logits t, or p = the given probabilities. It differs from
 * {@link kdLoss} (the KL form) by s·H(p), the teacher's entropy, which does not depend on the
 * student: the two have the same gradient w.r.t. the student, but this one is not 0 when the
 * student matches the teacher. Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a
 * Neural Network".
 *
 * Probability targets are read back to check that each row is a distribution. Gradients flow
 * to the student logits only when the targets are computed outside the tape (see
 * {@link kdLoss}).
 *
 * @param studentLogits - float32 `[batch, classes]`
 * @param targets - float32 `[batch, classes]`: teacher logits or probabilities (see options)
 * @param options - see {@link SoftCrossEntropyOptions}
 * @returns a scalar in nats
 * @throws KwsError `SHAPE_MISMATCH`, `INVALID_ARGUMENT` (temperature <= 0, probability rows that
 *   are not distributions), `EMPTY_INPUT`
 */
export function softCrossEntropy(
  studentLogits: tf.Tensor,
  targets: tf.Tensor,
  options?: SoftCrossEntropyOptions,
): tf.Scalar {
  const s = checkFloatTensor('studentLogits', studentLogits, 2, '[batch, classes]');
  const t = checkFloatTensor('targets', targets, 2, '[batch, classes]');
  checkSameShape('studentLogits', s, 'targets', t);
  const o = checkOptions('options', options);
  const temperature = checkTemperature(o.temperature ?? 1);
  const kind = checkChoice('targets', o.targets ?? 'logits', ['logits', 'probabilities'] as const);
  const squared = checkBoolean('scaleByTemperatureSquared', o.scaleByTemperatureSquared ?? true);
  const [batch, classes] = s.shape as [number, number];
  if (kind === 'probabilities')
    checkDistributionRows('targets', t.dataSync() as Float32Array, batch, classes);
  const scale = squared ? temperature * temperature : 1;
  return tf.tidy(() => {
    const p = kind === 'logits' ? tf.softmax(tf.div(t, temperature)) : t;
    const logQ = tf.logSoftmax(tf.div(s, temperature));
    const perExample = tf.neg(tf.sum(tf.mul(p, logQ), 1));
    return tf.mul(tf.mean(perExample), scale) as tf.Scalar;
  });
}
