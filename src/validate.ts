/**
 * Argument checks shared by every area. Internal: each throws a {@link KwsError} whose message
 * names the argument, shows the value received and states what is allowed.
 *
 * @internal
 * @packageDocumentation
 */
import { KwsError } from './errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Float32Array).length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new KwsError('INVALID_ARGUMENT', `${name} must be ${range}; got ${show(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number in [min, max] (bounds inclusive unless `exclusiveMin`). */
export function checkNumber(
  name: string,
  value: unknown,
  min = Number.NEGATIVE_INFINITY,
  max = Number.POSITIVE_INFINITY,
  exclusiveMin = false,
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value > max ||
    (exclusiveMin ? value <= min : value < min)
  ) {
    const lo = Number.isFinite(min) ? `${exclusiveMin ? '>' : '>='} ${min}` : '';
    const hi = Number.isFinite(max) ? `<= ${max}` : '';
    const range = [lo, hi].filter(Boolean).join(' and ');
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a finite number${range ? ` ${range}` : ''}; got ${show(value)}`,
    );
  }
  return value;
}

/** Throws `INVALID_SAMPLE_RATE` unless `value` is a finite number > 0. */
export function checkSampleRate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new KwsError(
      'INVALID_SAMPLE_RATE',
      `${name} must be a finite number of Hz > 0; got ${show(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkChoice<T extends string | number | null>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be one of ${allowed.map((a) => show(a)).join(', ')}; got ${show(value)}`,
    );
  }
  return value as T;
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be true or false; got ${show(value)}`);
  }
  return value;
}

/** Throws unless `value` is a plain options object (or undefined, which becomes `{}`). */
export function checkOptions<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be an options object; got ${show(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is a Float32Array (or, when `allowEmpty` is false, a non-empty one) whose
 * samples are all finite.
 */
export function checkSignal(name: string, value: unknown, allowEmpty = false): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a Float32Array of samples; got ${show(value)}`);
  }
  if (!allowEmpty && value.length === 0) {
    throw new KwsError('EMPTY_INPUT', `${name} is empty; at least one sample is needed`);
  }
  checkFinite(name, value);
  return value;
}

/** Throws `NON_FINITE_INPUT` naming the first NaN/±Infinity element of `values`. */
export function checkFinite(name: string, values: Float32Array | Float64Array | readonly number[]): void {
  // x·0 is 0 for finite x and NaN for NaN/±Inf, so a sum tells whether to look closer. Four
  // independent sums keep the loop from waiting on one chain of additions.
  const n = values.length;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    p0 += (values[i] as number) * 0;
    p1 += (values[i + 1] as number) * 0;
    p2 += (values[i + 2] as number) * 0;
    p3 += (values[i + 3] as number) * 0;
  }
  for (; i < n; i++) p0 += (values[i] as number) * 0;
  if (p0 + p1 + p2 + p3 === 0) return;
  for (let j = 0; j < n; j++) {
    const x = values[j] as number;
    if (!Number.isFinite(x)) {
      throw new KwsError(
        'NON_FINITE_INPUT',
        `${name} has a non-finite value (${x}) at index ${j}; all samples must be finite numbers`,
      );
    }
  }
}
