/**
 * Loss, correct predictions and gradient of one shard of a training batch: what a gradient
 * worker computes for each step. The numbers are those of the single-process loop's default path
 * (softmax cross-entropy, optionally class-weighted, over micro-batches of the shard).
 *
 * {@link BatchGradients} is the one signature both training engines implement: tfjs' tape here
 * ({@link tfjsGradients}), the compiled program in `../compiled/engine.ts`. The loop and the
 * workers pick one when they start and call it for every step.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { softmaxCrossEntropy } from '../loss.js';
import { inputTensor, type ModelIo } from '../model-input.js';

/** How a batch's (or shard's) loss is formed and sliced, fixed for a run. */
export interface GradientOptions {
  frames: number;
  bins: number;
  io: ModelIo;
  /** Per-class loss weights, or undefined for the plain mean. */
  classWeights: readonly number[] | undefined;
  /** Largest slice run forward and backward at once. */
  microBatchSize: number;
}

/** How a shard's loss is formed. */
export interface ShardLossOptions extends GradientOptions {
  /** The whole batch's denominator, so that shard losses and gradients add up to the batch's. */
  denominator: number;
}

/** What {@link shardGradients} returns. */
export interface ShardResult {
  /** The shard's share of the batch loss. */
  loss: number;
  /** Correctly predicted examples. */
  correct: number;
  /** Gradient of `loss` for every variable, concatenated in `variables` order. */
  grads: Float32Array;
}

/**
 * Loss, correct count and flat gradient of the examples `features` (`n · frames · bins` values)
 * with `labels`, the loss divided by `denominator` (the whole batch's size or total class
 * weight), computed in micro-batches. Each call uses the model's current weights and leaves the
 * model as a tfjs training call would: moving statistics updated (per micro-batch, in order),
 * seeded dropout generators advanced.
 */
export type BatchGradients = (features: Float32Array, labels: Int32Array, denominator: number) => ShardResult;

/** The tfjs engine: {@link shardGradients} over the model's trainable variables. */
export function tfjsGradients(model: tfl.LayersModel, o: GradientOptions): BatchGradients {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (features, labels, denominator) =>
    shardGradients(model, variables, features, labels, { ...o, denominator });
}

/**
 * Runs the shard `features` / `labels` through `model` in training mode (batch norms update
 * their moving statistics, seeded dropout layers draw masks) in slices of at most
 * `microBatchSize` examples and sums the slices' gradients (float32, as `tf.add` does).
 */
export function shardGradients(
  model: tfl.LayersModel,
  variables: readonly tf.Variable[],
  features: Float32Array,
  labels: Int32Array,
  o: ShardLossOptions,
): ShardResult {
  const size = o.frames * o.bins;
  const n = labels.length;
  const grads = new Float32Array(variables.reduce((a, v) => a + v.size, 0));
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < n; start += o.microBatchSize) {
    const end = Math.min(n, start + o.microBatchSize);
    const y = labels.subarray(start, end);
    const x = inputTensor(features.subarray(start * size, end * size), end - start, o.frames, o.bins, o.io);
    try {
      tf.tidy(() => {
        const { value, grads: named } = tf.variableGrads(() => {
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          const predicted = tf.argMax(logits, 1).dataSync();
          for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
          return softmaxCrossEntropy(logits, y, o.classWeights, o.denominator);
        }, variables as tf.Variable[]);
        loss += value.dataSync()[0] as number;
        let offset = 0;
        for (const v of variables) {
          const g = named[v.name];
          // A variable the loss does not reach has no gradient: it contributes zeros.
          if (g !== undefined) {
            const values = g.dataSync() as Float32Array;
            for (let i = 0; i < values.length; i++) {
              grads[offset + i] = (grads[offset + i] as number) + (values[i] as number);
            }
          }
          offset += v.size;
        }
      });
    } finally {
      x.dispose();
    }
  }
  return { loss, correct, grads };
}
