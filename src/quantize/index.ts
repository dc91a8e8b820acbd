/**
 * `kws-kit/quantize`: post-training quantization for TensorFlow.js models.
 *
 * - {@link quantizeWeights} / {@link exportQuantized}: float16, uint8-affine, int8 per tensor and
 *   per channel weights, written as standard tfjs weight manifests that stock
 *   `tf.loadLayersModel` reads (dequantized to float32 on load); per-weight error report.
 * - {@link calibrateActivations} / {@link simulateInt8}: activation ranges from representative
 *   inputs, and a model that simulates int8 inference with fake quantization (tfjs has no
 *   integer kernels).
 * - {@link layerSqnr} / {@link formatQuantReport}: per-layer SQNR to find the layers that hurt,
 *   rendered as markdown.
 *
 * @packageDocumentation
 */

export { type FoldedNorm, type FoldResult, foldBatchNorm, type UnfoldedNorm } from './bn-fold.js';
export {
  type ActivationRange,
  type ActivationRanges,
  type CalibrationMethod,
  type CalibrationOptions,
  calibrateActivations,
  type SimulatedWeights,
  type SimulateInt8Options,
  simulateInt8,
} from './calibrate.js';
export { type ChannelGroup, channelGroups } from './channel-groups.js';
export { PRUNE_CRITERIA, type PruneCriterion } from './channel-importance.js';
export { type ExportedModel, type ExportQuantizedOptions, exportQuantized } from './export.js';
export {
  type ActivationGrid,
  activationGrid,
  FakeQuant,
  type FakeQuantArgs,
  registerQuantizeLayers,
} from './fake-quant.js';
export { FLOAT16_MAX, float16Bits, float16Value } from './float16.js';
export { formatQuantReport, type QuantReportParts } from './format-report.js';
export { MovingFakeQuant, type MovingFakeQuantArgs, registerQatLayers } from './moving-fake-quant.js';
export {
  type PruneCounts,
  type PrunedModel,
  type PruneGroupReport,
  type PruneOptions,
  type PruneReport,
  pruneModel,
} from './prune.js';
export {
  keepFloatByDefault,
  type PerChannelReport,
  type PerChannelStorage,
  type QuantizedModel,
  type QuantizeTotals,
  type QuantizeWeightsOptions,
  quantizeWeights,
  type StoredDtype,
  WEIGHT_SCHEMES,
  type WeightInfo,
  type WeightQuantReport,
  type WeightScheme,
  type WeightSkip,
} from './ptq.js';
export {
  type ConvertQatOptions,
  convertQat,
  prepareQat,
  QAT_LAYER_CLASSES,
  type QatBatchState,
  type QatModel,
  type QatOptions,
  type QatWeight,
} from './qat.js';
export {
  type LayerSqnr,
  type LayerSqnrOptions,
  type LayerSqnrReport,
  layerSqnr,
  type OutputComparison,
} from './sqnr.js';
export { fakeQuantizeSte } from './ste.js';
export {
  type AffineEncoding,
  type ChannelLayout,
  channelLayout,
  type ErrorStats,
  encodeInt8PerChannelLattice,
  encodeInt8PerTensor,
  encodeUint8Affine,
  errorStats,
  type LatticeEncoding,
  type PerChannelValues,
  quantizeInt8PerChannel,
} from './weight-quantizers.js';
