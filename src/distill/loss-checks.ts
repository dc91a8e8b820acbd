/**
 * Argument checks shared by the distillation losses (tensors, temperature). Internal: each throws a
 * {@link KwsError} naming the argument, what was received and what is allowed.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { checkNumber } from '../validate.js';

/** `[d0,d1,…]` for messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Throws unless `value` is a non-empty float32 tf.Tensor of rank `rank` (a number, or a list
 * of allowed ranks). `layout` describes the expected shape in the message, e.g. `[batch, classes]`.
 */
export function checkFloatTensor(
  name: string,
  value: unknown,
  rank: number | readonly number[],
  layout: string,
): tf.Tensor {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!(value instanceof tf.Tensor)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a float32 tf.Tensor ${layout}; got ${typeof value}`,
    );
  }
  if (value.isDisposed) {
    throw new KwsError('DISPOSED', `${name} has been disposed`);
  }
  if (!ranks.includes(value.rank)) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${name} must have shape ${layout}; got ${showShape(value.shape)} (rank ${value.rank})`,
    );
  }
  if (value.dtype !== 'float32') {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be float32; got ${value.dtype}`);
  }
  if (value.size === 0) {
    throw new KwsError('EMPTY_INPUT', `${name} ${showShape(value.shape)} has no elements`);
  }
  return value;
}

/** Throws `SHAPE_MISMATCH` unless `a` and `b` have identical shapes. */
export function checkSameShape(nameA: string, a: tf.Tensor, nameB: string, b: tf.Tensor): void {
  const same = a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${nameA} ${showShape(a.shape)} and ${nameB} ${showShape(b.shape)} must have the same shape`,
    );
  }
}

/**
 * Throws unless every row of the `[rows, cols]` values is a probability distribution:
 * finite, non-negative, summing to 1 within `tolerance`.
 */
export function checkDistributionRows(
  name: string,
  values: Float32Array | Int32Array | Uint8Array,
  rows: number,
  cols: number,
  tolerance = 1e-3,
): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c] as number;
      if (!Number.isFinite(v) || v < 0) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `${name}[${r}][${c}] is ${v}; each row must be a probability distribution (finite, >= 0, summing to 1)`,
        );
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > tolerance) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `${name} row ${r} sums to ${sum}; each row must be a probability distribution summing to 1 (±${tolerance})`,
      );
    }
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a finite temperature > 0. */
export function checkTemperature(value: unknown): number {
  return checkNumber('temperature', value, 0, Number.POSITIVE_INFINITY, true);
}
