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
  BC_RESNET_FRAME_LAYER,
  type BcResNetChannels,
  type BcResNetConfig,
  type BcResNetOptions,
  bcResNet,
  bcResNetChannels,
  resolveBcResNetOptions,
} from './bc-resnet.js';
export {
  attentionWeights,
  type CrnnConfig,
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
export { SpectralConv, type SpectralConvArgs } from './layers/spectral-conv.js';
export { SubSpectralNorm, type SubSpectralNormArgs } from './layers/sub-spectral-norm.js';
export { TemporalConv, type TemporalConvArgs } from './layers/temporal-conv.js';
export { type KwsModelMetadata, kwsMetadata, readKwsMetadata } from './metadata.js';
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
