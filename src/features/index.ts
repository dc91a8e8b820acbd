/**
 * `kws-kit/features`: audio in (WAV, resampling), the STFT/mel/log-mel/MFCC front end with
 * torchaudio names and numbers, the same front end as a batched tfjs op, a streaming feature
 * extractor and seeded augmentation.
 *
 * Pure functions on `Float32Array`; the stateful pieces (streaming extractor, resampler) are
 * small classes that call them.
 *
 * @packageDocumentation
 */
export { KwsError, type KwsErrorCode, WavDecodeError } from '../errors.js';
export { createRng, Rng, type RngState } from '../random.js';
export {
  applySpecAugmentMasks,
  drawSpecAugmentMasks,
  type MaskInterval,
  type MixNoiseOptions,
  mixNoise,
  type SpecAugmentMasks,
  type SpecAugmentOptions,
  specAugment,
  type TimeShiftOptions,
  timeShift,
} from './augment.js';
export { ComplexFft, RealFft } from './fft.js';
export {
  DEFAULT_FRONT_END,
  type FrontEndConfig,
  type FrontEndOptions,
  logMelSpectrogram,
  resolveFrontEnd,
} from './front-end.js';
export { hzToMel, MelFilterbank, type MelFilterbankOptions, melFilterbank, melToHz } from './mel.js';
export { type MelSpectrogramOptions, melSpectrogram } from './mel-spectrogram.js';
export { type CepstrumOptions, cepstrum, dctMatrix, type MfccOptions, mfcc } from './mfcc.js';
export { type ResampleOptions, Resampler, resample, resampledLength } from './resample.js';
export { amplitudeToDb, type DbOptions, type LogMelOptions, logMel, powerToDb } from './scale.js';
export {
  type ComplexSpectrogram,
  frameCount,
  type SpectrogramOptions,
  type StftOptions,
  spectrogram,
  stft,
} from './stft.js';
export {
  StreamingFeatureExtractor,
  type StreamingFeatureOptions,
} from './streaming-extractor.js';
export { LogMelOp, type LogMelOpOptions, logMelOp } from './tf-log-mel.js';
export type { MelNorm, MelScale, PadMode, Spectrogram, WindowName } from './types.js';
export {
  type DecodedAudio,
  decodeWav,
  type EncodeWavOptions,
  encodeWav,
  MAX_WAV_CHANNELS,
  toMono,
} from './wav.js';
export { hammingWindow, hannWindow, makeWindow, poveyWindow } from './window.js';
