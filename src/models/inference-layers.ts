/**
 * Which tfjs-layers classes kws-kit's compiled inference paths accept: one list, shared by
 * {@link compileConvNet}, {@link compileCrnn} and the streaming conversion (`toStreaming`).
 *
 * @packageDocumentation
 */

/**
 * Layer classes that compute the identity at inference (dropout and noise layers act only in
 * training): the compiled runtimes and the streaming conversion pass their input through.
 *
 * @internal
 */
export const INFERENCE_IDENTITY_LAYERS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'Dropout',
  'ChannelDropout',
  'SeededDropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);

/**
 * Layer classes {@link compileConvNet} compiles (and `toStreaming` converts): kws-kit's conv
 * keyword models (BC-ResNet and other graphs of the same layers), plus the dropout and noise
 * layers, which are identities at inference.
 */
export const CONV_RUNTIME_LAYERS: readonly string[] = [
  'InputLayer',
  'SpectralConv',
  'TemporalConv',
  'SubSpectralNorm',
  'BatchNormalization',
  'FrequencyMean',
  'Dense',
  'ReLU',
  'Activation',
  'Add',
  'GlobalAveragePooling2D',
  'GlobalAveragePooling1D',
  ...INFERENCE_IDENTITY_LAYERS,
];
