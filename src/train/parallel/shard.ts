/**
 * Splitting a batch into per-worker shards and combining what the workers return: the pure
 * arithmetic of data-parallel training, on typed arrays.
 *
 * @internal
 * @packageDocumentation
 */

/** One shard: examples `[start, end)` of the batch. */
export interface ShardRange {
  start: number;
  end: number;
}

/**
 * Contiguous shards of a batch of `size` examples for `shards` workers, in order; sizes differ by
 * at most one (the first `size mod shards` shards take the extra example). Shards are empty when
 * `size < shards`.
 */
export function shardRanges(size: number, shards: number): ShardRange[] {
  const base = Math.floor(size / shards);
  const extra = size % shards;
  const out: ShardRange[] = [];
  let start = 0;
  for (let k = 0; k < shards; k++) {
    const end = start + base + (k < extra ? 1 : 0);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Total number of values of tensors with these shapes. */
export function totalSize(shapes: readonly (readonly number[])[]): number {
  let total = 0;
  for (const shape of shapes) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

/** Concatenates `parts` into one new array (the wire format of weights and gradients). */
export function concatValues(parts: readonly ArrayLike<number>[]): Float32Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Views of `values` cut into consecutive pieces of the sizes of `shapes` (no copy). */
export function splitValues(values: Float32Array, shapes: readonly (readonly number[])[]): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    out.push(values.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

/**
 * `target += source` element-wise, rounded to float32 at every addition: the same numbers as
 * summing micro-batch gradients with `tf.add` in the single-process loop.
 */
export function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) + (source[i] as number);
}

/**
 * Weighted mean Σₖ wₖ·xₖ / Σₖ wₖ of equally long arrays, accumulated in float64 and rounded
 * once: values that every part shares (a frozen layer's weights) come back exactly.
 */
export function weightedMean(parts: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const first = parts[0];
  if (first === undefined) return new Float32Array(0);
  const acc = new Float64Array(first.length);
  let total = 0;
  parts.forEach((values, k) => {
    const w = weights[k] as number;
    total += w;
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + w * (values[i] as number);
  });
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = (acc[i] as number) / total;
  return out;
}
