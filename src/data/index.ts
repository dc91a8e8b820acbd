/**
 * `kws-kit/data`: the Speech Commands data pipeline — folder walk, labels, the official split
 * rules, silence cut from background noise, compact in-memory splits of log-mel features with an
 * optional on-disk cache, mini-batches, class weights and a class-balanced sampler.
 *
 * {@link loadSpeechCommands} is Node only (it reads files; `fs` is loaded when it runs); the rest,
 * the hash split included, is plain TypeScript. Nothing runs on import, so browser bundles that
 * reach this module build.
 *
 * @packageDocumentation
 */
export { KwsError, type KwsErrorCode } from '../errors.js';
export {
  type BalancedSampler,
  type BalancedSamplerOptions,
  balancedSampler,
  type ClassWeightOptions,
  classCounts,
  classWeights,
  type LabelledSet,
} from './class-balance.js';
export { fitClip } from './clip.js';
export {
  type Batch,
  type BatchOptions,
  batches,
  type CreateSplitInput,
  createSplit,
  exampleFeatures,
  type Split,
  splitSize,
} from './dataset.js';
export {
  BACKGROUND_NOISE_FOLDER,
  type LabelSet,
  resolveLabels,
  SILENCE_LABEL,
  UNKNOWN_LABEL,
  V2_12_LABELS,
  V2_35_LABELS,
} from './labels.js';
export { cutNoise, type NoiseCut, planNoiseCuts } from './silence.js';
export {
  type LoadSpeechCommandsOptions,
  type LoadStats,
  loadSpeechCommands,
  type SilenceOptions,
  type SpeechCommandsData,
} from './speech-commands.js';
export { type SplitName, splitKey, splitPercentage, type WhichSetOptions, whichSet } from './split.js';
