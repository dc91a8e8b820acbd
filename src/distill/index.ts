/**
 * `kws-kit/distill`: knowledge-distillation losses. Each is a plain function of tensors
 * returning a scalar, usable inside `tf.variableGrads` / `optimizer.minimize`:
 *
 * - logits: {@link kdLoss} (Hinton et al. 2015), {@link softCrossEntropy}, {@link logitMse},
 *   {@link hardCrossEntropy} and their mix {@link mixedKdLoss};
 * - attention over time: {@link attentionKdLoss} (with {@link resampleAttention});
 * - intermediate features: {@link hintLoss} with a learned {@link createHintProjection} (FitNets).
 *
 * - the whole procedure: {@link distill} trains a student against a frozen teacher with the
 *   training loop.
 *
 * Teacher outputs are constants: compute them outside the gradient tape and give the optimizer
 * only the student's variables (plus any hint projections).
 *
 * @packageDocumentation
 */
export {
  type AttentionKdLossOptions,
  type AttentionResampling,
  attentionKdLoss,
  DEFAULT_ATTENTION_EPS,
  type ResampleAttentionOptions,
  resampleAttention,
} from './attention-loss.js';
export {
  type HardCrossEntropyOptions,
  type HardLabels,
  hardCrossEntropy,
  type SoftCrossEntropyOptions,
  softCrossEntropy,
} from './cross-entropy.js';
export {
  DISTILL_LOSSES,
  type DistillLossContext,
  type DistillLossFn,
  type DistillLossName,
  type DistillOptions,
  distill,
} from './distill.js';
export {
  createHintProjection,
  type HintProjection,
  type HintProjectionOptions,
  hintLoss,
} from './hint-loss.js';
export {
  DEFAULT_KD_ALPHA,
  DEFAULT_KD_TEMPERATURE,
  type KdLossOptions,
  kdLoss,
  logitMse,
  type MixedKdLossOptions,
  mixedKdLoss,
} from './kd-loss.js';
