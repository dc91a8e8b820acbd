/**
 * `kws-kit/streaming`: keyword spotting on live audio. {@link StreamingKWS} takes chunks of any
 * size and sample rate and emits keyword events; its parts are exported for offline evaluation
 * and custom pipelines: the frame ring buffer, the posterior smoother and the keyword detector
 * (pure logic on probability sequences), and the window and stateful (CRNN) inference modes.
 * Window mode runs the model on kws-kit's compiled plain-TypeScript runtimes when it can
 * (`runtime: 'auto'`), else with tfjs `model.predict`.
 *
 * @packageDocumentation
 */
export { KwsError, type KwsErrorCode } from '../errors.js';
export { ConvStatefulMode, type ConvStatefulModeOptions } from './conv-stateful-mode.js';
export {
  CrnnStatefulMode,
  type CrnnStatefulModeOptions,
  compileStatefulCrnn,
} from './crnn-stateful-mode.js';
export {
  DEFAULT_REFRACTORY_MS,
  DEFAULT_THRESHOLD,
  type Detection,
  type DetectorConfig,
  type DetectorOptions,
  detectKeywords,
  FILLER_LABELS,
  KeywordDetector,
  resolveDetectorOptions,
  SILENCE_LABEL,
  type TimedScores,
  UNKNOWN_LABEL,
} from './detector.js';
export type { InferenceMode, Posterior } from './inference-mode.js';
export { describeModel, type ModelGeometry } from './model-input.js';
export { FrameRingBuffer } from './ring-buffer.js';
export { PosteriorSmoother, smoothPosteriors } from './smoothing.js';
export {
  bestKeywordSequence,
  DEFAULT_AFTER_MS,
  type FrrAtRate,
  frrAtFalseAlarmRate,
  type KeywordSpan,
  type ScoredDetection,
  type StreamScore,
  type StreamScoreOptions,
  scoreDetections,
  sweepThresholds,
  type ThresholdPoint,
  type ThresholdSweepOptions,
} from './stream-score.js';
export { StreamingConvNet } from './streaming-conv-net.js';
export {
  DEFAULT_HOP_MS,
  DEFAULT_SMOOTHING_MS,
  DEFAULT_WINDOW_FRAMES,
  type DetectionListener,
  type FlushOptions,
  StreamingKWS,
  type StreamingKwsConfig,
  type StreamingKwsOptions,
  type StreamingMode,
} from './streaming-kws.js';
export { STREAMABLE_LAYERS, type ToStreamingOptions, toStreaming } from './to-streaming.js';
export { DEFAULT_MAX_BATCH, WindowMode, type WindowModeOptions } from './window-mode.js';
export { type ModelRuntime, RUNTIME_OPTIONS, type RuntimeOption } from './window-predictor.js';
