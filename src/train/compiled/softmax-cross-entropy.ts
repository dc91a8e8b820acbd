/**
 * The compiled trainer's loss: mean softmax cross-entropy over the batch and its gradient with
 * respect to the logits, as kws-kit's `softmaxCrossEntropy` (unweighted) computes it in tfjs.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * Mean softmax cross-entropy of `logits` `[batch, classes]` against `labels`:
 * `loss = Σ_n (log Σ_j e^{z_nj} − z_{n,y_n}) / batch`; writes `dz = (softmax(z) − onehot) / batch`
 * into `dLogits` and returns the loss.
 */
export function softmaxCrossEntropyGrad(
  batch: number,
  classes: number,
  logits: Float32Array,
  labels: Int32Array,
  dLogits: Float32Array,
): number {
  let loss = 0;
  for (let n = 0; n < batch; n++) {
    const o = n * classes;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < classes; j++) max = Math.max(max, logits[o + j] as number);
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp((logits[o + j] as number) - max);
      dLogits[o + j] = e;
      sum += e;
    }
    const label = labels[n] as number;
    loss += Math.log(sum) + max - (logits[o + label] as number);
    for (let j = 0; j < classes; j++) dLogits[o + j] = (dLogits[o + j] as number) / sum / batch;
    dLogits[o + label] = (dLogits[o + label] as number) - 1 / batch;
  }
  return loss / batch;
}
