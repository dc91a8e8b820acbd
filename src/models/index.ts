/**
 * `kws-kit/models`: keyword-spotting model factories (BC-ResNet, CRNN), their custom layers,
 * the profiler (parameters, MACs, bytes, peak activation memory) and model save/load for Node
 * file systems in the standard tfjs format.
 *
 * Models take frame-major log-mel features `[batch, frames, mels]` (or `[batch, frames, mels, 1]`)
 * as the kws-kit front end produces them, and output logits `[batch, numClasses]`.
 *
 * @packageDocumentation
 */
export {
  ACTIVATIONS,
  type ActivationName,
  applyActivation,
  fastExp,
  sigmoid,
} from './activations.js';
export {
  BC_RESNET_FRAME_LAYER,
  type BcResNetChannels,
  type BcResNetConfig,
  type BcResNetOptions,
  bcResNet,
  bcResNetChannels,
  resolveBcResNetOptions,
} from './bc-resnet.js';
export { type ConvInput, convModelInput, type LayerCall, singleCall } from './conv-graph.js';
export {
  CONV_RUNTIME_LAYERS,
  type CompileConvNetOptions,
  type ConvNetRuntime,
  compileConvNet,
} from './conv-runtime.js';
export {
  attentionWeights,
  type CrnnConfig,
  type CrnnInit,
  type CrnnOptions,
  crnn,
  resolveCrnnConfig,
  withAttentionOutput,
} from './crnn.js';
export {
  type CompileCrnnOptions,
  type CrnnRuntime,
  type CrnnState,
  type CrnnStateOptions,
  type CrnnStepResult,
  type CrnnStreamMode,
  compileCrnn,
} from './crnn-runtime.js';
export {
  type AffineNorm,
  expandAffineNorm,
  foldNorm,
  invalidLayer,
  isFoldableNorm,
  layerWeights,
  requireWeight,
} from './folded-norm.js';
export { INFERENCE_IDENTITY_LAYERS } from './inference-layers.js';
export {
  DEFAULT_SHARD_BYTES,
  type LoadModelOptions,
  loadArtifacts,
  loadModel,
  MODEL_JSON,
  modelFromArtifacts,
  modelToArtifacts,
  type SavedFileInfo,
  type SavedModelInfo,
  type SaveModelOptions,
  saveArtifacts,
  saveModel,
  weightSpecsByteLength,
} from './io.js';
export { AttentionPooling, type AttentionPoolingArgs, attentionPool } from './layers/attention-pooling.js';
export { registerBatchNormGradient } from './layers/batch-norm-gradient.js';
export { ChannelDropout, type ChannelDropoutArgs } from './layers/channel-dropout.js';
export { FrequencyMean, type FrequencyMeanArgs } from './layers/frequency-mean.js';
export type { BaseLayerArgs, LayerMacs } from './layers/layer-shape.js';
export { KWS_LAYER_CLASSES, registerKwsLayers } from './layers/register.js';
export { SeededDropout, type SeededDropoutArgs } from './layers/seeded-dropout.js';
export { SpectralConv, type SpectralConvArgs } from './layers/spectral-conv.js';
export { SubSpectralNorm, type SubSpectralNormArgs } from './layers/sub-spectral-norm.js';
export { TemporalConv, type TemporalConvArgs } from './layers/temporal-conv.js';
export { type KwsModelMetadata, kwsMetadata, readKwsMetadata } from './metadata.js';
export {
  type LoadPretrainedOptions,
  listPretrained,
  loadPretrained,
  pretrainedArtifacts,
  pretrainedCard,
} from './pretrained/load-pretrained.js';
export {
  GSC_DEV_DATA_NAME,
  type ModelCard,
  type ModelCardArchitecture,
  type ModelCardClassMetrics,
  type ModelCardData,
  type ModelCardMetrics,
  type ModelCardProfile,
  type PretrainedFamily,
  renderModelCard,
  SPEECH_COMMANDS_ATTRIBUTION,
  SPEECH_COMMANDS_LICENSE,
  SPEECH_COMMANDS_LICENSE_URL,
  summarizeWeightStorage,
  WEIGHT_STORAGE_DTYPES,
  type WeightStorageDtype,
  type WeightStorageGroup,
} from './pretrained/model-card.js';
export {
  formatProfile,
  type LayerProfile,
  type MacCount,
  type MacCountingLayer,
  type ModelProfile,
  type ProfileOptions,
  type ProfileTotals,
  profile,
} from './profile.js';
export {
  DISTILL_RECIPE_KEYS,
  type KwsRecipe,
  RECIPE_OPTION_KEYS,
  readRecipe,
  recipeConfig,
  recipeFromConfig,
  recipeTrial,
  writeRecipe,
} from './tune/recipe.js';
export {
  type ChoiceParam,
  checkSearchSpace,
  choiceParam,
  type FloatParam,
  FRONT_END_OPTION_NAMES,
  floatParam,
  type IntParam,
  intParam,
  type ParamSpec,
  type ParamValue,
  type SearchSpace,
  SMALL_BC_RESNET_BASE,
  SMALL_BC_RESNET_SPACE,
  SPEC_AUGMENT_OPTION_NAMES,
  sampleConfig,
  showSpace,
  type TrialConfig,
  TUNABLE_OPTION_NAMES,
} from './tune/search-space.js';
export {
  planSearch,
  type Rung,
  type TuneBudget,
  type TunePlan,
  type TuneStrategy,
} from './tune/successive-halving.js';
export {
  type TrainingObjective,
  type TrainingObjectiveOptions,
  type TrainingObjectiveStats,
  type TuneTeacher,
  trainingObjective,
} from './tune/training-objective.js';
export {
  buildTrialModel,
  measureTrial,
  type ResolvedTrial,
  resolveTrialConfig,
  type TrialCost,
  type TrialInput,
  type TrialRecipe,
  type TunedModelFamily,
} from './tune/trial-config.js';
export {
  JOURNAL_CORRUPT,
  type JournalContents,
  type JournalHeader,
  readJournal,
  type TrialEvaluation,
  type TrialStatus,
} from './tune/tune-journal.js';
export { bestRecipe, type TuneReportPaths, writeTuneReport } from './tune/tune-output.js';
export {
  markParetoFronts,
  type ParetoMarks,
  type ReferencePoint,
  type ReportTrial,
  type TuneParetoSvgOptions,
  type TuneTableRow,
  tuneMarkdown,
  tuneParetoSvg,
  tuneTable,
} from './tune/tune-report.js';
export {
  type ObjectiveResult,
  type TrialBudget,
  type TrialRecord,
  type TuneConstraints,
  type TuneContext,
  type TuneObjective,
  type TuneOptions,
  type TuneResult,
  tune,
} from './tune.js';
