/**
 * The inner product at the heart of the filterbank and the resampler.
 *
 * @packageDocumentation
 */

/**
 * `Σ_{i<length} a[aOffset + i] · b[bOffset + i]`, summed in four interleaved partial sums so the
 * loop is not serialised on one chain of dependent additions (about 2× faster in V8 than a single
 * accumulator). @internal
 */
export function dot(
  a: Float32Array | Float64Array,
  aOffset: number,
  b: Float32Array | Float64Array,
  bOffset: number,
  length: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += (a[aOffset + i] as number) * (b[bOffset + i] as number);
    s1 += (a[aOffset + i + 1] as number) * (b[bOffset + i + 1] as number);
    s2 += (a[aOffset + i + 2] as number) * (b[bOffset + i + 2] as number);
    s3 += (a[aOffset + i + 3] as number) * (b[bOffset + i + 3] as number);
  }
  for (; i < length; i++) s0 += (a[aOffset + i] as number) * (b[bOffset + i] as number);
  return s0 + s1 + (s2 + s3);
}
