/**
 * IEEE 754 binary16 ("half", float16) encoding of float32 values, as tfjs stores weights with
 * `quantization: { dtype: 'float16' }`. tfjs-core only ships the decoder (table-driven, exact for
 * every half pattern), so the encoder lives here.
 *
 * binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Normal values span
 * 2⁻¹⁴ … 65504 with a relative spacing of 2⁻¹⁰, so round-to-nearest has a relative error of at
 * most 2⁻¹¹; below 2⁻¹⁴ the values are subnormal, multiples of 2⁻²⁴ (absolute error ≤ 2⁻²⁵).
 *
 * @packageDocumentation
 */

/** Largest finite float16 value, 65504 = (2 − 2⁻¹⁰)·2¹⁵. Values ≥ 65520 round to infinity. */
export const FLOAT16_MAX = 65504;

/** Smallest positive normal float16 value, 2⁻¹⁴. */
export const FLOAT16_MIN_NORMAL = 2 ** -14;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Round half to even, for x ≥ 0. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round takes ties upward; an odd result of a tie goes back down to the even neighbour.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The float16 bit pattern (0 … 0xffff) nearest to `x` (first rounded to float32), ties to even.
 * NaN gives a quiet NaN (0x7e00), ±Infinity and finite values of magnitude ≥ 65520 give
 * ±Infinity (0x7c00 / 0xfc00): callers that need finite weights check for `isFloat16Finite`.
 */
export function float16Bits(x: number): number {
  F32[0] = x;
  const bits = U32[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  if (exponent === 0xff) return (bits & 0x7fffff) === 0 ? sign | 0x7c00 : 0x7e00;
  const magnitude = Math.abs(F32[0] as number);
  if (magnitude < FLOAT16_MIN_NORMAL) {
    // Subnormal (or zero): a multiple of 2^-24. The scaling is exact in double precision; a
    // result of 1024 is the smallest normal, whose pattern is exactly 0x400.
    return sign | roundHalfEven(magnitude * 2 ** 24);
  }
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00;
  // 11 significant bits (implicit 1 + 10); a carry to 2048 lands on the next exponent, which the
  // addition below produces by itself (up to 0x7c00, infinity).
  const significand = roundHalfEven(magnitude * 2 ** (10 - e));
  return sign | (((e + 15) << 10) + (significand - 1024));
}

/** Whether a float16 bit pattern is finite (not ±Infinity or NaN). */
export function isFloat16Finite(bits: number): boolean {
  return (bits & 0x7c00) !== 0x7c00;
}

/** The value of a float16 bit pattern (exact: every half is a float32 and a double). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** Encodes float32 values to float16 bit patterns (see {@link float16Bits}). */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i] as number);
  return out;
}
