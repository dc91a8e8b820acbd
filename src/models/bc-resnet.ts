/**
 * BC-ResNet (Kim, Chang, Lee, Sung, "Broadcasted Residual Learning for Efficient Keyword
 * Spotting", Interspeech 2021) as a tfjs-layers model.
 *
 * Layout: NHWC with time as height, `[batch, time, freq, 1]` (or `[batch, time, freq]`, the
 * frame-major `[frames, mels]` the kws-kit front end produces). Kernels are written
 * `[time, freq]`, the transpose of the paper's `freq × time`.
 *
 * Network for width τ (channels `round(τ·c)`, c = 16, 8, 12, 16, 20, 32):
 *
 * | part        | layers                                                            | freq (40 mels) |
 * | ----------- | ----------------------------------------------------------------- | -------------- |
 * | stem        | 5×5 conv, freq stride 2, τ·16 ch, BN, ReLU                          | 20             |
 * | stage 1     | 2 BC-ResBlocks, τ·8 ch, temporal dilation 1                        | 20             |
 * | stage 2     | 2 BC-ResBlocks, τ·12 ch, freq stride 2 in the first, dilation 2    | 10             |
 * | stage 3     | 4 BC-ResBlocks, τ·16 ch, freq stride 2 in the first, dilation 4    | 5              |
 * | stage 4     | 4 BC-ResBlocks, τ·20 ch, dilation 8                                | 5              |
 * | classifier  | depthwise 5×5 (no freq padding), freq mean, 1×1 conv τ·32 ch, BN, ReLU, time mean, dense → logits | 1 |
 *
 * A BC-ResBlock computes y = ReLU(x + f2(x) + broadcast(f1(mean_freq(f2(x))))), where f2 is a
 * 3×1 depthwise conv over frequency followed by SubSpectralNorm, and f1 is a 1×3 depthwise
 * temporal conv (dilated) → BN → SiLU → 1×1 conv → channel dropout. The first block of a stage
 * whose channel count changes (a transition block) starts with 1×1 conv → BN → ReLU and has no
 * identity term x.
 *
 * Every convolution is built from ops whose gradients exist on cpu and wasm (custom tap
 * convolutions, matMul-based 1×1 convs via `Dense`, BatchNormalization), so the whole model
 * trains on either backend.
 *
 * @packageDocumentation
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import { checkBoolean, checkInt, checkNumber, checkOptions } from '../validate.js';
import { ChannelDropout } from './layers/channel-dropout.js';
import { FrequencyMean } from './layers/frequency-mean.js';
import { registerKwsLayers } from './layers/register.js';
import { SpectralConv } from './layers/spectral-conv.js';
import { SubSpectralNorm } from './layers/sub-spectral-norm.js';
import { axisOutputSize } from './layers/tap-conv.js';
import { TemporalConv } from './layers/temporal-conv.js';

/** Options of {@link bcResNet}. */
export interface BcResNetOptions {
  /**
   * Width multiplier τ (> 0). Channels are `max(1, round(τ·c))` for c = 16, 8, 12, 16, 20, 32.
   * Default 1. The paper's models: τ = 1, 1.5, 2, 3, 6, 8 (BC-ResNet-τ).
   */
  width?: number;
  /** Number of output classes (≥ 2). Default 12 (Speech Commands: 10 words, silence, unknown). */
  numClasses?: number;
  /**
   * Shape of one example: `[time, freq]` (the model takes `[batch, time, freq]`) or
   * `[time, freq, 1]` (the model takes `[batch, time, freq, 1]`). `time` may be `null` for a
   * model that accepts any number of frames. Default `[101, 40]`: 1 s of the default front end.
   */
  inputShape?: readonly [number | null, number] | readonly [number | null, number, 1];
  /**
   * Sub-bands S of every SubSpectralNorm (≥ 1). S must divide the frequency size at each
   * stage (20, 10 and 5 bins for 40 mels). Default 5 (the paper's choice). 1 = plain batch norm.
   */
  subBands?: number;
  /** Channel-dropout rate after each block's 1×1 conv, in [0, 1). Default 0.1. */
  dropout?: number;
  /**
   * Pad every temporal kernel only on the left, so that at inference the time-resolved features
   * (layer {@link BC_RESNET_FRAME_LAYER}) at frame t depend on input frames ≤ t only: streaming
   * can then reproduce the offline output exactly. (In training, batch norms use statistics over
   * all frames.) The receptive field is then 116 past frames + the current one. Default false:
   * symmetric 'same' padding, 58 frames each side.
   */
  causal?: boolean;
  /** Seed of every weight initialiser and dropout mask. Default 0. */
  seed?: number;
  /** Model name. Default `'bc_resnet'`. */
  name?: string;
}

/** Channel counts of a BC-ResNet of a given width. */
export interface BcResNetChannels {
  /** Output channels of the 5×5 stem conv (τ·16). */
  stem: number;
  /** Channels of the four stages (τ·8, τ·12, τ·16, τ·20). */
  stages: [number, number, number, number];
  /** Channels of the classifier's 1×1 conv (τ·32). */
  classifier: number;
}

/** Fully resolved {@link BcResNetOptions} (defaults applied, validated). */
export interface BcResNetConfig {
  width: number;
  numClasses: number;
  /** One example, always with the channel axis: `[time | null, freq, 1]`. */
  inputShape: [number | null, number, 1];
  /** Whether the model input is rank 3 `[batch, time, freq]` (true) or rank 4. */
  spectrogramInput: boolean;
  subBands: number;
  dropout: number;
  causal: boolean;
  seed: number;
  name: string;
  channels: BcResNetChannels;
  /** Frequency bins after the stem and after the stride of stages 2 and 3. */
  freqSizes: [number, number, number];
  /**
   * Input frames that frame t of {@link BC_RESNET_FRAME_LAYER} depends on at inference:
   * t − past … t + future. Causal: 116 and 0; otherwise 58 and 58.
   */
  receptiveField: { past: number; future: number };
}

/**
 * Name of the layer whose output, `[batch, time, 1, τ·32]`, is the last time-resolved tensor
 * (after the classifier's 1×1 conv, BN and ReLU, before the mean over time). In a causal model
 * frame t of it depends only on input frames ≤ t.
 */
export const BC_RESNET_FRAME_LAYER = 'classifier_relu';

/** Blocks, frequency stride of the first block, and temporal dilation of each stage (paper, Table 1). */
const STAGES = [
  { blocks: 2, freqStride: 1, dilation: 1 },
  { blocks: 2, freqStride: 2, dilation: 2 },
  { blocks: 4, freqStride: 2, dilation: 4 },
  { blocks: 4, freqStride: 1, dilation: 8 },
] as const;

const BASE_CHANNELS = { stem: 16, stages: [8, 12, 16, 20], classifier: 32 } as const;
const OPTION_KEYS = ['width', 'numClasses', 'inputShape', 'subBands', 'dropout', 'causal', 'seed', 'name'];
/** PyTorch's BatchNorm defaults (momentum 0.1 there = 0.9 in the Keras convention, ε = 1e-5). */
const BN = { momentum: 0.9, epsilon: 1e-5 } as const;

/** Channel counts for width τ: `max(1, round(τ·c))`. */
export function bcResNetChannels(width: number): BcResNetChannels {
  checkNumber('width', width, 0, Number.POSITIVE_INFINITY, true);
  const scale = (c: number): number => Math.max(1, Math.round(width * c));
  const [a, b, c, d] = BASE_CHANNELS.stages;
  return {
    stem: scale(BASE_CHANNELS.stem),
    stages: [scale(a), scale(b), scale(c), scale(d)],
    classifier: scale(BASE_CHANNELS.classifier),
  };
}

function checkInputShape(value: unknown): { shape: [number | null, number, 1]; spectrogramInput: boolean } {
  const bad = (why: string): never => {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `inputShape must be [time, freq] or [time, freq, 1] with time a positive integer or null and ` +
        `freq a positive integer; ${why}`,
    );
  };
  if (!Array.isArray(value) || (value.length !== 2 && value.length !== 3)) {
    return bad(`got ${Array.isArray(value) ? `an array of ${value.length}` : typeof value}`);
  }
  const [time, freq, channels] = value as unknown[];
  if (time !== null && (typeof time !== 'number' || !Number.isInteger(time) || time < 1)) {
    return bad(`got time ${String(time)}`);
  }
  if (typeof freq !== 'number' || !Number.isInteger(freq) || freq < 1) return bad(`got freq ${String(freq)}`);
  if (value.length === 3 && channels !== 1)
    return bad(`got ${String(channels)} channels (only 1 is allowed)`);
  return { shape: [time as number | null, freq, 1], spectrogramInput: value.length === 2 };
}

/**
 * Validates {@link BcResNetOptions} and applies the defaults. Throws `INVALID_ARGUMENT` for an
 * unknown option, a value out of range, or a frequency size the network cannot take (too few
 * bins for the classifier's 5-bin kernel, or `subBands` not dividing a stage's bins).
 */
export function resolveBcResNetOptions(options?: BcResNetOptions): BcResNetConfig {
  const o = checkOptions('options', options);
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `unknown bcResNet option ${JSON.stringify(key)}; allowed: ${OPTION_KEYS.join(', ')}`,
      );
    }
  }
  const width = checkNumber('width', o.width ?? 1, 0, Number.POSITIVE_INFINITY, true);
  const numClasses = checkInt('numClasses', o.numClasses ?? 12, 2);
  const { shape, spectrogramInput } = checkInputShape(o.inputShape ?? [101, 40]);
  const subBands = checkInt('subBands', o.subBands ?? 5, 1);
  const dropout = checkNumber('dropout', o.dropout ?? 0.1, 0, 1);
  if (dropout === 1) throw new KwsError('INVALID_ARGUMENT', 'dropout must be < 1; got 1');
  const causal = checkBoolean('causal', o.causal ?? false);
  const seed = checkNumber('seed', o.seed ?? 0);
  const name = o.name ?? 'bc_resnet';
  if (typeof name !== 'string' || name.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', `name must be a non-empty string; got ${String(name)}`);
  }

  // Frequency after the stem (5 taps, pad 2, stride 2) and the 3-tap stride-2 convs (pad 1).
  const f0 = shape[1];
  const f1 = axisOutputSize(f0, 5, 1, 2, [2, 2]);
  const f2 = axisOutputSize(f1, 3, 1, 2, [1, 1]);
  const f3 = axisOutputSize(f2, 3, 1, 2, [1, 1]);
  if (f3 < 5) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `inputShape has ${f0} frequency bins; BC-ResNet needs at least 33 (it halves them three times ` +
        `and the classifier's kernel spans 5 bins)`,
    );
  }
  for (const f of [f1, f2, f3]) {
    if (f % subBands !== 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `subBands (${subBands}) must divide the frequency bins of every stage; with ${f0} input bins ` +
          `the stages have ${f1}, ${f2} and ${f3}`,
      );
    }
  }
  return {
    width,
    numClasses,
    inputShape: shape,
    spectrogramInput,
    subBands,
    dropout,
    causal,
    seed,
    name,
    channels: bcResNetChannels(width),
    freqSizes: [f1, f2, f3],
    receptiveField: receptiveField(causal),
  };
}

/** Context frames of the stem, every temporal conv and the classifier's 5×5 conv, summed. */
function receptiveField(causal: boolean): { past: number; future: number } {
  const span = STAGES.reduce((sum, stage) => sum + stage.blocks * 2 * stage.dilation, 4 + 4);
  return causal ? { past: span, future: 0 } : { past: span / 2, future: span / 2 };
}

type Sym = tfl.SymbolicTensor;

function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

interface BlockSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
  freqStride: number;
  dilation: number;
  config: BcResNetConfig;
  nextSeed: () => number;
}

function batchNorm(name: string): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ axis: -1, ...BN, name });
}

function pointwise(units: number, seed: number, name: string): tfl.layers.Layer {
  return tfl.layers.dense({
    units,
    useBias: false,
    kernelInitializer: tfl.initializers.heNormal({ seed }),
    name,
  });
}

/** One BC-ResBlock (paper, Fig. 2): y = ReLU(x + f2(x) + broadcast(f1(mean_freq(f2(x))))). */
function bcResBlock(x: Sym, spec: BlockSpec): Sym {
  const { prefix: p, inChannels, outChannels, freqStride, dilation, config, nextSeed } = spec;
  let h = x;
  if (inChannels !== outChannels) {
    h = apply(pointwise(outChannels, nextSeed(), `${p}_pw_in`), h);
    h = apply(batchNorm(`${p}_pw_in_bn`), h);
    h = apply(tfl.layers.reLU({ name: `${p}_pw_in_relu` }), h);
  }
  // f2: frequency-wise depthwise conv + SubSpectralNorm (2-D features).
  let f2 = apply(
    new SpectralConv({
      filters: outChannels,
      kernelSize: [1, 3],
      freqStride,
      seed: nextSeed(),
      name: `${p}_freq_conv`,
    }),
    h,
  );
  f2 = apply(new SubSpectralNorm({ subBands: config.subBands, ...BN, name: `${p}_ssn` }), f2);
  // f1: temporal path on frequency-averaged (1-D) features.
  let f1 = apply(new FrequencyMean({ name: `${p}_freq_mean` }), f2);
  f1 = apply(
    new TemporalConv({
      kernelSize: 3,
      dilation,
      causal: config.causal,
      seed: nextSeed(),
      name: `${p}_time_conv`,
    }),
    f1,
  );
  f1 = apply(batchNorm(`${p}_time_bn`), f1);
  f1 = apply(tfl.layers.activation({ activation: 'swish', name: `${p}_swish` }), f1);
  f1 = apply(pointwise(outChannels, nextSeed(), `${p}_pw`), f1);
  const dropSeed = nextSeed();
  if (config.dropout > 0) {
    f1 = apply(new ChannelDropout({ rate: config.dropout, seed: dropSeed, name: `${p}_dropout` }), f1);
  }
  // The identity term needs matching channels and bins; a strided or widening block drops it.
  const identity = inChannels === outChannels && freqStride === 1;
  const sum = apply(tfl.layers.add({ name: `${p}_add` }), identity ? [x, f2, f1] : [f2, f1]);
  return apply(tfl.layers.reLU({ name: `${p}_relu` }), sum);
}

/**
 * Builds a BC-ResNet keyword-spotting model (Kim et al., Interspeech 2021) with width τ =
 * `options.width`.
 *
 * Input: `[batch, time, freq]` for a 2-entry `inputShape` (default `[batch, 101, 40]`: log-mel
 * frames × mels, frame-major as the kws-kit front end produces them), or `[batch, time, freq, 1]`.
 * Output: **logits** `[batch, numClasses]` (no softmax; apply `tf.softmax` for probabilities,
 * or train with `tf.losses.softmaxCrossEntropy` / `categoricalCrossentropy` with `fromLogits`).
 *
 * Trainable parameters for 12 classes, which is what the paper counts (BN/SSN γ and β included,
 * moving statistics excluded): τ = 1: 9,232; 1.5: 17,154; 2: 27,284; 3: 54,168; 6: 187,812;
 * 8: 321,068 (paper: 9.2k, 17.2k, 27.3k, 54.2k, 188k, 321k). With the moving statistics:
 * 11,648; 20,778; 32,116; 61,416; 202,308; 340,396.
 *
 * Batch norms use ε = 1e-5 and momentum 0.9 (PyTorch's defaults); weights are He-normal
 * (logits layer Glorot-uniform), seeded from `options.seed`. Custom layers are registered for
 * serialisation ({@link registerKwsLayers}) before the model is built.
 */
export function bcResNet(options?: BcResNetOptions): tfl.LayersModel {
  const config = resolveBcResNetOptions(options);
  registerKwsLayers();
  const rng = createRng(config.seed);
  const nextSeed = (): number => rng.nextUint32();
  const { channels, causal } = config;
  const timePadding = causal ? 'causal' : 'same';
  const [time, freq] = config.inputShape;

  const input = tfl.input({
    shape: config.spectrogramInput ? [time, freq] : [time, freq, 1],
    name: `${config.name}_input`,
  });
  let x = apply(
    new SpectralConv({
      filters: channels.stem,
      kernelSize: [5, 5],
      freqStride: 2,
      timePadding,
      seed: nextSeed(),
      name: 'stem_conv',
    }),
    input,
  );
  x = apply(batchNorm('stem_bn'), x);
  x = apply(tfl.layers.reLU({ name: 'stem_relu' }), x);

  let inChannels = channels.stem;
  STAGES.forEach((stage, s) => {
    const outChannels = channels.stages[s] as number;
    for (let b = 0; b < stage.blocks; b++) {
      x = bcResBlock(x, {
        prefix: `stage${s + 1}_block${b + 1}`,
        inChannels,
        outChannels,
        freqStride: b === 0 ? stage.freqStride : 1,
        dilation: stage.dilation,
        config,
        nextSeed,
      });
      inChannels = outChannels;
    }
  });

  x = apply(
    new SpectralConv({
      filters: inChannels,
      kernelSize: [5, 5],
      timePadding,
      freqPadding: 'valid',
      seed: nextSeed(),
      name: 'classifier_dw_conv',
    }),
    x,
  );
  x = apply(new FrequencyMean({ name: 'classifier_freq_mean' }), x);
  x = apply(pointwise(channels.classifier, nextSeed(), 'classifier_pw'), x);
  x = apply(batchNorm('classifier_bn'), x);
  x = apply(tfl.layers.reLU({ name: BC_RESNET_FRAME_LAYER }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'classifier_time_mean' }), x);
  const logits = apply(
    tfl.layers.dense({
      units: config.numClasses,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: nextSeed() }),
      name: 'logits',
    }),
    x,
  );
  return tfl.model({ inputs: input, outputs: logits, name: config.name });
}
