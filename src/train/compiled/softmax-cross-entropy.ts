/**
 * The compiled trainer's loss: softmax cross-entropy over a batch, optionally class-weighted,
 * and its gradient with respect to the logits, as kws-kit's `softmaxCrossEntropy` computes it
 * in tfjs.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * Softmax cross-entropy of `logits` `[batch, classes]` against `labels`, as `softmaxCrossEntropy`
 * in `loss.ts` defines it: with ℓₙ = log Σⱼ e^{z_nj} − z_{n,yₙ} and wₙ = `classWeights[yₙ]` (1
 * without weights), `loss = Σₙ wₙ·ℓₙ / denominator`. Writes
 * `dz = wₙ·(softmax(zₙ) − onehot(yₙ)) / denominator` into `dLogits` and returns the loss. A
 * `denominator` of 0 (every example weighs 0) gives loss 0 and a zero gradient.
 *
 * @param denominator - `batch` for the plain mean; for a micro-batch, the whole batch's size or
 *   total weight (`lossDenominator`), so that micro-batch losses add up to the batch's
 */
export function softmaxCrossEntropyGrad(
  batch: number,
  classes: number,
  logits: Float32Array,
  labels: Int32Array,
  dLogits: Float32Array,
  classWeights: readonly number[] | undefined = undefined,
  denominator: number = batch,
): number {
  if (denominator === 0) {
    dLogits.fill(0, 0, batch * classes);
    return 0;
  }
  let loss = 0;
  for (let n = 0; n < batch; n++) {
    const o = n * classes;
    const label = labels[n] as number;
    const scale = (classWeights === undefined ? 1 : (classWeights[label] as number)) / denominator;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp((logits[o + j] as number) - max);
      dLogits[o + j] = e;
      sum += e;
    }
    loss += scale * (Math.log(sum) + max - (logits[o + label] as number));
    for (let j = 0; j < classes; j++) dLogits[o + j] = ((dLogits[o + j] as number) / sum) * scale;
    dLogits[o + label] = (dLogits[o + label] as number) - scale;
  }
  return loss;
}
