/**
 * CRNN keyword-spotting model: one strided convolution over (time, mel), a GRU stack over the
 * conv's time steps, additive attention pooling over time and a dense layer to class logits.
 * Arık et al., "Convolutional recurrent neural networks for small-footprint keyword spotting"
 * (Interspeech 2017); the defaults reproduce the CRNN reference of the gsc-dev benchmark.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { AttentionPooling } from './layers/attention-pooling.js';
import { registerKwsLayers } from './layers/register.js';
import { SeededDropout } from './layers/seeded-dropout.js';

/** Options of {@link crnn}. Every field is optional; defaults reproduce the gsc-dev CRNN reference. */
export interface CrnnOptions {
  /** Number of output classes (logits). Integer ≥ 2. Default 12 (Speech Commands v2-12). */
  numClasses?: number;
  /**
   * Input feature shape `[frames, mels]`, frame-major as the kws-kit front end produces it.
   * Default `[101, 40]` (1 s at hop 10 ms, 40 mels).
   */
  inputShape?: readonly [number, number];
  /** Output channels of the convolution. Default 8. */
  convChannels?: number;
  /**
   * Convolution kernel `[time (frames), mel]`. Default `[20, 5]`: 20 frames × 5 mels, which is
   * the PyTorch reference's `kernel_size=(5, 20)` written in its (mel, time) order.
   */
  kernelSize?: readonly [number, number];
  /**
   * Convolution stride `[time, mel]`. Default `[8, 2]` (the reference's `stride=(2, 8)` in
   * (mel, time) order). Padding is always `'valid'`.
   */
  stride?: readonly [number, number];
  /** GRU units per layer (per direction). Default 64. */
  hiddenSize?: number;
  /** Number of stacked GRU layers. Default 2. */
  gruLayers?: number;
  /** Bidirectional GRUs (outputs of both directions concatenated). Default `false`. */
  bidirectional?: boolean;
  /**
   * Dropout rate between GRU layers, in [0, 1), as PyTorch's `nn.GRU(dropout=…)`: applied to the
   * output of every GRU layer but the last, in training only. Default 0.1.
   */
  dropout?: number;
  /** Hidden width `A` of the attention scorer. Default: the GRU output width (hiddenSize, ×2 if bidirectional). */
  attentionSize?: number;
  /**
   * How the initial weights are drawn. `'glorot'` (default): Glorot-uniform kernels, zero biases.
   * `'pytorch'`: as PyTorch initialises the same layers, every tensor (biases included) from
   * U(−b, b) with b = 1/√fan_in for the convolution, attention and output layers (fan_in = all
   * kernel axes but the last) and b = 1/√hiddenSize for every GRU tensor. Both are seeded by
   * `seed`.
   */
  init?: CrnnInit;
  /** Seed of every weight initialiser, so construction is reproducible. Integer ≥ 0. Default 0. */
  seed?: number;
}

/** Initial-weight schemes of {@link crnn}. */
export type CrnnInit = 'glorot' | 'pytorch';

/** The resolved {@link CrnnOptions} plus the sizes they imply. */
export interface CrnnConfig {
  numClasses: number;
  inputShape: [number, number];
  convChannels: number;
  kernelSize: [number, number];
  stride: [number, number];
  hiddenSize: number;
  gruLayers: number;
  bidirectional: boolean;
  dropout: number;
  attentionSize: number;
  init: CrnnInit;
  seed: number;
  /** Time steps after the convolution: `floor((frames − kernelTime) / strideTime) + 1`. */
  convFrames: number;
  /** Mel bins after the convolution: `floor((mels − kernelMel) / strideMel) + 1`. */
  convMels: number;
  /** GRU input width per step: `convMels · convChannels`. */
  gruInputSize: number;
  /** Width of the GRU output and of the pooled vector: `hiddenSize`, doubled if bidirectional. */
  outputSize: number;
}

function checkPair(name: string, value: unknown, min: number): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a pair [time, mel] of integers >= ${min}; got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return [checkInt(`${name}[0] (time)`, value[0], min), checkInt(`${name}[1] (mel)`, value[1], min)];
}

/**
 * Validates {@link CrnnOptions}, fills in defaults and computes the derived sizes.
 *
 * @throws KwsError `INVALID_ARGUMENT` for an out-of-range option or a kernel larger than the input.
 */
export function resolveCrnnConfig(options?: CrnnOptions): CrnnConfig {
  const o = checkOptions('options', options);
  const numClasses = checkInt('numClasses', o.numClasses ?? 12, 2);
  const inputShape = checkPair('inputShape', o.inputShape ?? [101, 40], 1);
  const convChannels = checkInt('convChannels', o.convChannels ?? 8, 1);
  const kernelSize = checkPair('kernelSize', o.kernelSize ?? [20, 5], 1);
  const stride = checkPair('stride', o.stride ?? [8, 2], 1);
  const hiddenSize = checkInt('hiddenSize', o.hiddenSize ?? 64, 1);
  const gruLayers = checkInt('gruLayers', o.gruLayers ?? 2, 1);
  const bidirectional = checkBoolean('bidirectional', o.bidirectional ?? false);
  const dropout = checkNumber('dropout', o.dropout ?? 0.1, 0, 1);
  if (dropout >= 1) throw new KwsError('INVALID_ARGUMENT', `dropout must be in [0, 1); got ${dropout}`);
  const outputSize = bidirectional ? 2 * hiddenSize : hiddenSize;
  const attentionSize = checkInt('attentionSize', o.attentionSize ?? outputSize, 1);
  const seed = checkInt('seed', o.seed ?? 0, 0, 2 ** 32 - 1);
  const init = checkChoice<CrnnInit>('init', o.init ?? 'glorot', ['glorot', 'pytorch']);
  if (kernelSize[0] > inputShape[0] || kernelSize[1] > inputShape[1]) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `kernelSize [time, mel] = [${kernelSize}] does not fit inputShape [frames, mels] = [${inputShape}]; ` +
        'each kernel side must be <= the input side (padding is valid)',
    );
  }
  const convFrames = Math.floor((inputShape[0] - kernelSize[0]) / stride[0]) + 1;
  const convMels = Math.floor((inputShape[1] - kernelSize[1]) / stride[1]) + 1;
  return {
    numClasses,
    inputShape,
    convChannels,
    kernelSize,
    stride,
    hiddenSize,
    gruLayers,
    bidirectional,
    dropout,
    attentionSize,
    init,
    seed,
    convFrames,
    convMels,
    gruInputSize: convMels * convChannels,
    outputSize,
  };
}

/**
 * Builds a CRNN keyword-spotting model.
 *
 * Input `[batch, frames, mels]` (log-mel features, frame-major) → reshape to
 * `[batch, frames, mels, 1]` → Conv2D (`convChannels`, `kernelSize`, `stride`, valid padding, no
 * activation, as in the reference) → `[batch, T', M', C]` reshaped to `[batch, T', M'·C]` (the
 * mel × channel axis of each step flattened, mel-major, where PyTorch's NCHW flattening is
 * channel-major: ported GRU input kernels need their rows permuted) → `gruLayers` GRUs returning sequences
 * (sigmoid gates, tanh candidate, dropout between layers) → {@link AttentionPooling} over the
 * `T'` steps → Dense to `[batch, numClasses]` logits (no softmax).
 *
 * With the defaults, T' = floor((101 − 20) / 8) + 1 = 11 and M' = floor((40 − 5) / 2) + 1 = 18,
 * so each GRU step sees 144 features. Parameters: 70,709 = conv 808 + GRUs 40,128 + 24,768 +
 * attention 4,225 + dense 780. The PyTorch reference has 71,093: PyTorch's GRU carries a second
 * bias vector per gate on the recurrent side (`b_hr, b_hz, b_hn`, the "reset after"
 * formulation), 3 × 64 per layer, 384 in all, which tfjs-layers' GRU does not support
 * (`resetAfter: true` throws there). Every other tensor matches the reference one for one.
 *
 * The attention layer is built with two outputs, so {@link withAttentionOutput} can expose the
 * weights `[batch, T']` without another forward pass; the returned model outputs logits only.
 *
 * Initialisation is seeded (Glorot-uniform kernels, zero biases) so the same options give the
 * same weights. The GRU recurrent kernels are Glorot-uniform too: tfjs-layers' default
 * orthogonal initialiser fails without the `@tensorflow/tfjs` umbrella package.
 *
 * The dropout between GRU layers is kws-kit's {@link SeededDropout} (element-wise, masks from a
 * seeded generator that advances every step), so a seeded training run is reproducible; models
 * saved before it existed use tfjs-layers' `Dropout` and still load.
 *
 * @param options - see {@link CrnnOptions}
 * @returns an uncompiled `tfl.LayersModel` named `crnn`
 * @throws KwsError `INVALID_ARGUMENT` on bad options
 */
export function crnn(options?: CrnnOptions): tfl.LayersModel {
  const c = resolveCrnnConfig(options);
  registerKwsLayers();
  const rng = createRng(c.seed);
  const nextSeed = () => rng.int(2 ** 31 - 2);
  const glorot = () => tfl.initializers.glorotUniform({ seed: nextSeed() });
  const dropoutSeeds = createRng((c.seed ^ 0x2545f491) >>> 0);
  const [frames, mels] = c.inputShape;

  const input = tfl.input({ shape: [frames, mels], name: 'crnn_input' });
  let x = tfl.layers.reshape({ targetShape: [frames, mels, 1], name: 'crnn_expand' }).apply(input);
  x = tfl.layers
    .conv2d({
      filters: c.convChannels,
      kernelSize: c.kernelSize.slice(),
      strides: c.stride.slice(),
      padding: 'valid',
      kernelInitializer: glorot(),
      biasInitializer: 'zeros',
      name: 'crnn_conv',
    })
    .apply(x);
  x = tfl.layers.reshape({ targetShape: [c.convFrames, c.gruInputSize], name: 'crnn_flatten' }).apply(x);

  const reseed: { layer: tfl.layers.Layer; seeds: number[] }[] = [];
  for (let i = 1; i <= c.gruLayers; i++) {
    const gruArgs = {
      units: c.hiddenSize,
      returnSequences: true,
      activation: 'tanh',
      recurrentActivation: 'sigmoid',
      kernelInitializer: glorot(),
      recurrentInitializer: glorot(),
      biasInitializer: 'zeros',
    } as const;
    if (c.bidirectional) {
      const layer = tfl.layers.bidirectional({
        layer: tfl.layers.gru(gruArgs) as unknown as tfl.RNN,
        mergeMode: 'concat',
        name: `crnn_gru_${i}`,
      });
      x = layer.apply(x);
      // The wrapper clones the forward GRU's config for the backward one, seeds included; give
      // the backward direction its own draw, as PyTorch does.
      reseed.push({ layer, seeds: [nextSeed(), nextSeed()] });
    } else {
      x = tfl.layers.gru({ ...gruArgs, name: `crnn_gru_${i}` }).apply(x);
    }
    if (c.dropout > 0 && i < c.gruLayers) {
      // Seeded from a generator of its own, so that adding dropout leaves every other
      // layer's initial weights as they are for the same seed.
      const seed = dropoutSeeds.int(2 ** 31 - 2);
      x = new SeededDropout({ rate: c.dropout, seed, name: `crnn_dropout_${i}` }).apply(
        x,
      ) as tfl.SymbolicTensor;
    }
  }

  const attention = new AttentionPooling({
    units: c.attentionSize,
    returnAttention: true,
    seed: nextSeed(),
    name: 'crnn_attention',
  });
  const [pooled] = attention.apply(x) as tfl.SymbolicTensor[];
  const logits = tfl.layers
    .dense({
      units: c.numClasses,
      kernelInitializer: glorot(),
      biasInitializer: 'zeros',
      name: 'crnn_logits',
    })
    .apply(pooled as tfl.SymbolicTensor) as tfl.SymbolicTensor;

  const model = tfl.model({ inputs: input, outputs: logits, name: 'crnn' });
  for (const { layer, seeds } of reseed) reinitBackward(layer, seeds);
  if (c.init === 'pytorch') pytorchInit(model, c.seed);
  return model;
}

/**
 * Redraws every weight of a built CRNN as PyTorch initialises its layers (see
 * {@link CrnnOptions.init}), in `model.weights` order from one generator seeded by `seed`.
 */
function pytorchInit(model: tfl.LayersModel, seed: number): void {
  const rng = createRng((seed ^ 0x7a3c) >>> 0);
  const bounds = new Map<string, number>();
  for (const w of model.weights) {
    const layer = w.name.split('/')[0] as string;
    const shape = w.shape as number[];
    // GRU tensors end in 3·hidden (three gates); the others take the fan-in of their kernel.
    if (layer.includes('_gru_')) bounds.set(layer, 1 / Math.sqrt((shape.at(-1) as number) / 3));
    else if (!bounds.has(layer) && shape.length > 1) {
      bounds.set(layer, 1 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1)));
    }
  }
  const values = model.weights.map((w) => {
    const b = bounds.get(w.name.split('/')[0] as string) ?? 0;
    const shape = w.shape as number[];
    const size = shape.reduce((a, c) => a * c, 1);
    return tf.tensor(
      Float32Array.from({ length: size }, () => rng.uniform(-b, b)),
      shape,
    );
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Re-draws the backward half of a bidirectional GRU: [kernel, recurrentKernel, bias]. */
function reinitBackward(layer: tfl.layers.Layer, seeds: number[]): void {
  const weights = layer.getWeights();
  const half = weights.length / 2;
  const fresh = tf.tidy(() =>
    weights.map((w, i) => {
      if (i < half) return tf.clone(w);
      const j = i - half;
      if (j === 2) return tf.zerosLike(w);
      return tfl.initializers.glorotUniform({ seed: seeds[j] as number }).apply(w.shape);
    }),
  );
  layer.setWeights(fresh);
  tf.dispose(fresh);
}

function findAttention(model: tfl.LayersModel): AttentionPooling {
  const found = model.layers.filter((l) => l instanceof AttentionPooling) as AttentionPooling[];
  const [layer] = found;
  if (found.length !== 1 || layer === undefined) {
    throw new KwsError(
      'MODEL_INVALID',
      `expected exactly one AttentionPooling layer in model "${model.name}"; found ${found.length}`,
    );
  }
  if (!layer.returnAttention) {
    throw new KwsError(
      'MODEL_INVALID',
      `AttentionPooling layer "${layer.name}" was built with returnAttention: false, so its weights ` +
        'are not an output; build it with returnAttention: true (crnn() does)',
    );
  }
  return layer;
}

/**
 * A two-output view of a CRNN: `[logits [batch, numClasses], attention [batch, T']]` from one
 * forward pass. It shares every layer (and so every weight) with `model`: training either trains
 * both. Use it for attention distillation (e.g. KL divergence between teacher and student
 * attention) alongside the logits.
 *
 * @param model - a model from {@link crnn} (or one loaded from its JSON): one output, one
 *   {@link AttentionPooling} layer built with `returnAttention: true`
 * @throws KwsError `MODEL_INVALID` if the model does not have that structure
 */
export function withAttentionOutput(model: tfl.LayersModel): tfl.LayersModel {
  if (!(model instanceof tfl.LayersModel)) {
    throw new KwsError('INVALID_ARGUMENT', 'withAttentionOutput needs a tfl.LayersModel');
  }
  if (model.outputs.length !== 1) {
    throw new KwsError(
      'MODEL_INVALID',
      `withAttentionOutput needs a single-output model; "${model.name}" has ${model.outputs.length}`,
    );
  }
  const layer = findAttention(model);
  const outputs = layer.getOutputAt(0) as tfl.SymbolicTensor[];
  const weights = outputs[1];
  if (weights === undefined) {
    throw new KwsError('MODEL_INVALID', `AttentionPooling layer "${layer.name}" has no weights output`);
  }
  return tfl.model({
    inputs: model.inputs,
    outputs: [model.outputs[0] as tfl.SymbolicTensor, weights],
    name: `${model.name}_with_attention`,
  });
}

const attentionViews = new WeakMap<tfl.LayersModel, tfl.LayersModel>();

/**
 * The attention weights a CRNN gives each of its `T'` time steps (inference mode).
 *
 * @param model - a model from {@link crnn}; see {@link withAttentionOutput}
 * @param input - features `[batch, frames, mels]` matching the model's input shape
 * @returns `[batch, T']`, each row non-negative and summing to 1; the caller disposes it
 * @throws KwsError `SHAPE_MISMATCH` if `input` does not match the model input
 */
export function attentionWeights(model: tfl.LayersModel, input: tf.Tensor): tf.Tensor2D {
  let view = attentionViews.get(model);
  if (view === undefined) {
    view = withAttentionOutput(model);
    attentionViews.set(model, view);
  }
  const expected = model.inputs[0]?.shape ?? [];
  const ok =
    input instanceof tf.Tensor &&
    input.rank === expected.length &&
    expected.every((d, i) => d === null || d === input.shape[i]);
  if (!ok) {
    const got = input instanceof tf.Tensor ? `[${input.shape}]` : typeof input;
    throw new KwsError(
      'SHAPE_MISMATCH',
      `attentionWeights: input must be [${expected.map((d) => d ?? 'batch')}]; got ${got}`,
    );
  }
  const v = view;
  return tf.tidy(() => (v.predict(input) as tf.Tensor[])[1] as tf.Tensor2D);
}
