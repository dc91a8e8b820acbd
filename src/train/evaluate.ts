/**
 * Evaluation of a classifier on a split: accuracy, mean cross-entropy, the confusion matrix and
 * per-class precision, recall and F1.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batches, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { checkInt, checkOptions } from '../validate.js';
import { softmaxCrossEntropy } from './loss.js';
import { checkModelIo, inputTensor } from './model-input.js';

/** Metrics of one class. */
export interface ClassMetrics {
  /** Class name. */
  label: string;
  /** TP / (TP + FP): of the examples predicted as this class, the fraction that are. 0 when none is predicted. */
  precision: number;
  /** TP / (TP + FN): of the examples of this class, the fraction found. 0 when the class has no examples. */
  recall: number;
  /** Harmonic mean 2·P·R / (P + R); 0 when P + R = 0. */
  f1: number;
  /** Examples of this class (TP + FN). */
  support: number;
}

/** What {@link evaluate} returns. */
export interface EvaluationResult {
  /** Fraction of examples whose arg-max prediction is their label, in [0, 1]. */
  accuracy: number;
  /** Mean softmax cross-entropy (natural log) of the logits against the labels, unweighted. */
  loss: number;
  /** Metrics of every class, in label order. */
  perClass: ClassMetrics[];
  /** `confusion[t][p]` = examples of true class t predicted as p (rows = true label). */
  confusion: number[][];
  /** Class names, indexing the rows and columns of `confusion`. */
  labels: string[];
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Examples per forward pass, an integer ≥ 1. Default 100. */
  batchSize?: number;
}

/**
 * The `classes × classes` confusion matrix: entry `[t][p]` counts examples with true class t
 * and predicted class p.
 *
 * @throws {@link KwsError} `SHAPE_MISMATCH` for arrays of different lengths, `INVALID_ARGUMENT`
 *   for a class index outside `[0, classes)`.
 */
export function confusionMatrix(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
): number[][] {
  checkInt('classes', classes, 1);
  if (truth.length !== predicted.length) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `truth has ${truth.length} labels but predicted has ${predicted.length}`,
    );
  }
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] as number;
    const p = predicted[i] as number;
    if (!(Number.isInteger(t) && Number.isInteger(p) && t >= 0 && p >= 0 && t < classes && p < classes)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `example ${i} has true class ${t} and prediction ${p}; both must be integers in [0, ${classes - 1}]`,
      );
    }
    (m[t] as number[])[p] = ((m[t] as number[])[p] as number) + 1;
  }
  return m;
}

/**
 * Precision, recall, F1 and support of each class from a confusion matrix (rows = true class).
 * Undefined ratios (no prediction of a class, no example of it) are reported as 0, as
 * scikit-learn does by default.
 *
 * @throws {@link KwsError} `SHAPE_MISMATCH` if `confusion` is not `labels.length` square.
 */
export function classMetrics(
  confusion: readonly (readonly number[])[],
  labels: readonly string[],
): ClassMetrics[] {
  const k = labels.length;
  if (confusion.length !== k || confusion.some((row) => row.length !== k)) {
    throw new KwsError('SHAPE_MISMATCH', `confusion must be ${k} × ${k} for ${k} labels`);
  }
  return labels.map((label, c) => {
    const row = confusion[c] as readonly number[];
    const tp = row[c] as number;
    const support = row.reduce((a, v) => a + v, 0);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += (confusion[t] as readonly number[])[c] as number;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
}

/**
 * Runs `model` (inference mode: dropout off, batch norms on their moving statistics) over every
 * example of `split` and scores its arg-max predictions.
 *
 * The model takes `[batch, frames, bins]` or `[batch, frames, bins, 1]` features and returns
 * logits `[batch, classes]` with `classes = split.labelNames.length`.
 *
 * @example
 * ```ts
 * const { accuracy, perClass, confusion, labels } = evaluate(model, data.splits.validation!);
 * ```
 * @throws {@link KwsError} `EMPTY_INPUT` for a split without examples; `SHAPE_MISMATCH` when
 *   the model's input or output does not fit the split; `INVALID_ARGUMENT` for bad options.
 */
export function evaluate(model: tfl.LayersModel, split: Split, options?: EvaluateOptions): EvaluationResult {
  const o = checkOptions('options', options);
  const batchSize = checkInt('batchSize', o.batchSize ?? 100, 1);
  if (split === null || typeof split !== 'object' || !(split.labels instanceof Int32Array)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'split must be a Split ({ features, frames, bins, labels, labelNames })',
    );
  }
  const n = split.labels.length;
  if (n === 0) throw new KwsError('EMPTY_INPUT', 'the split has no examples to evaluate');
  const classes = split.labelNames.length;
  const io = checkModelIo(model, split.frames, split.bins, classes);
  const predicted = new Int32Array(n);
  let lossSum = 0;
  let at = 0;
  for (const batch of batches(split, { batchSize })) {
    const b = batch.y.length;
    const [pred, loss] = tf.tidy(() => {
      const x = inputTensor(batch.x, b, split.frames, split.bins, io);
      const logits = model.apply(x, { training: false }) as tf.Tensor;
      return [tf.argMax(logits, 1).dataSync(), softmaxCrossEntropy(logits, batch.y).dataSync()[0] as number];
    });
    predicted.set(pred as Int32Array, at);
    at += b;
    lossSum += loss * b;
  }
  const confusion = confusionMatrix(split.labels, predicted, classes);
  let correct = 0;
  for (let c = 0; c < classes; c++) correct += (confusion[c] as number[])[c] as number;
  return {
    accuracy: correct / n,
    loss: lossSum / n,
    perClass: classMetrics(confusion, split.labelNames),
    confusion,
    labels: [...split.labelNames],
  };
}
