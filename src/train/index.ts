/**
 * `kws-kit/train`: training and evaluation of kws-kit models in Node — the training loop
 * ({@link train}: SGD/Adam/AdamW, warm-up + cosine, weight decay, waveform and SpecAugment
 * augmentation, checkpoints and exact resume), {@link evaluate}, and the gradient kernels that let
 * the tfjs wasm backend train convolutional models ({@link registerWasmTrainingKernels}).
 *
 * @packageDocumentation
 */
export { KwsError, type KwsErrorCode } from '../errors.js';
export {
  type AugmentOptions,
  type BatchAugmenter,
  createBatchAugmenter,
  type NoiseAugmentOptions,
} from './augment-batch.js';
export {
  BEST_CHECKPOINT,
  type CheckpointState,
  LAST_CHECKPOINT,
  type RunFingerprint,
  STATE_JSON,
} from './checkpoint.js';
export { TRAINING_ENGINES, type TrainingEngine } from './compiled/engine.js';
export {
  type ClassMetrics,
  classMetrics,
  confusionMatrix,
  type EvaluateOptions,
  type EvaluationResult,
  evaluate,
} from './evaluate.js';
export { lossDenominator, softmaxCrossEntropy } from './loss.js';
export {
  createOptimizer,
  type NamedTensor,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type OptimizerOptions,
  type TrainingOptimizer,
} from './optimizer.js';
export {
  createProgressReporter,
  formatEpochLine,
  formatProgressBar,
  type LoggerMode,
  type ProgressBatch,
  type ProgressEpoch,
  type ProgressReporter,
  type ProgressStreams,
} from './progress.js';
export {
  type LearningRateSchedule,
  type LearningRateScheduleOptions,
  learningRateSchedule,
  type ScheduleKind,
} from './schedule.js';
export {
  type BatchStats,
  type CallbackResult,
  type EpochStats,
  type TrainBatchContext,
  type TrainCallbacks,
  type TrainHooks,
  type TrainLossContext,
  type TrainOptions,
  type TrainResult,
  type TrainScheduleOptions,
  train,
} from './train.js';
export { registerWasmTrainingKernels } from './wasm-kernels.js';
