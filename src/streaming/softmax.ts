/**
 * Softmax over the classes of model outputs, for the streaming modes that get logits from a
 * compiled runtime.
 *
 * @packageDocumentation
 */

/**
 * Softmax of each of `rows` rows of `classes` values: `p_j = exp(l_j − max) / Σ_k exp(l_k − max)`,
 * computed in float64 (subtracting the row maximum keeps large logits from overflowing).
 *
 * @param logits - `[rows, classes]`, row-major.
 * @param rows - rows to normalise.
 * @param classes - values per row.
 * @param out - destination `[rows, classes]`; default `logits` itself (in place).
 * @returns `out`.
 * @internal
 */
export function softmaxRows(
  logits: Float32Array,
  rows: number,
  classes: number,
  out: Float32Array = logits,
): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp((logits[o + j] as number) - max);
    for (let j = 0; j < classes; j++) out[o + j] = Math.exp((logits[o + j] as number) - max) / sum;
  }
  return out;
}
