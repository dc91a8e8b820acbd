/**
 * Representative samples for calibration and comparison: validation against a model's input and
 * iteration in batches without leaking tensors.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkInt } from '../validate.js';

/** Default number of examples per forward pass. */
export const DEFAULT_BATCH_SIZE = 32;

function showShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'batch' : String(d))).join(', ')}]`;
}

/**
 * Checks that `samples` is a float32 tensor `[n, ...example]` (n ≥ 1) that fits the input of
 * every model given.
 *
 * @throws KwsError `INVALID_ARGUMENT` for a non-tensor or a non-float32 tensor, `EMPTY_INPUT` for
 *   n = 0, `SHAPE_MISMATCH` when the shape does not fit a model input.
 */
export function checkSamples(samples: unknown, ...models: tfl.LayersModel[]): tf.Tensor {
  if (!(samples instanceof tf.Tensor)) {
    throw new KwsError('INVALID_ARGUMENT', 'samples must be a tf.Tensor [n, ...one example] of model inputs');
  }
  if (samples.isDisposed) throw new KwsError('INVALID_ARGUMENT', 'samples is a disposed tensor');
  if (samples.dtype !== 'float32') {
    throw new KwsError('INVALID_ARGUMENT', `samples must be float32; got ${samples.dtype}`);
  }
  for (const model of models) {
    const expected = (model.inputs[0] as tfl.SymbolicTensor).shape;
    const fits =
      samples.rank === expected.length &&
      expected.every((d, i) => i === 0 || d === null || d === samples.shape[i]);
    if (!fits) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `samples of shape [${samples.shape.join(', ')}] do not fit the input ${showShape(expected)} of model ${model.name}`,
      );
    }
  }
  if (samples.shape[0] === 0) throw new KwsError('EMPTY_INPUT', 'samples holds no examples (n = 0)');
  return samples;
}

/** Validates a batch size option (integer ≥ 1, default {@link DEFAULT_BATCH_SIZE}). */
export function checkBatchSize(value: unknown): number {
  return checkInt('options.batchSize', value ?? DEFAULT_BATCH_SIZE, 1);
}

/**
 * Calls `fn(batch, start)` for consecutive slices of at most `batchSize` examples. Each batch is
 * disposed after `fn` returns; `fn` must dispose what it creates.
 */
export function forEachBatch(
  samples: tf.Tensor,
  batchSize: number,
  fn: (batch: tf.Tensor, start: number) => void,
): void {
  const n = samples.shape[0] as number;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const batch = tf.slice(samples, start, size);
    try {
      fn(batch, start);
    } finally {
      batch.dispose();
    }
  }
}

/** Throws `NON_FINITE_INPUT` if a batch of samples holds NaN or ±Infinity. */
export function checkFiniteBatch(values: Float32Array, start: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      throw new KwsError(
        'NON_FINITE_INPUT',
        `samples hold ${values[i]} (in the batch starting at example ${start}); calibration needs finite inputs`,
      );
    }
  }
}
