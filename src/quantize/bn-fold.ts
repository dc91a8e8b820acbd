/**
 * Batch-norm folding: a BatchNormalization in inference mode is a per-channel affine map
 * `y = γ·(x − μ)/√(σ² + ε) + β`, so when it directly follows a linear layer (convolution,
 * depthwise convolution or Dense, with no nonlinearity between) it can be merged into that
 * layer's kernel and bias:
 *
 * ```
 * a_c = γ_c / √(σ²_c + ε)
 * W'[..., c] = a_c · W[..., c]          (c = output channel of the kernel)
 * b'_c       = a_c · (b_c − μ_c) + β_c  (b = 0 for a layer without bias)
 * ```
 *
 * (Jacob et al., "Quantization and training of neural networks for efficient integer-arithmetic-
 * only inference", CVPR 2018, §3.2.) The folded model computes the same inference function with
 * one layer less per fold; it is what an int8 runtime quantizes, and what
 * quantization-aware training fine-tunes.
 *
 * Folded: a BatchNormalization over the last axis whose input is the only output of a
 * single-use Conv2D (channels last), DepthwiseConv2D, Dense, kws-kit SpectralConv or TemporalConv
 * with a linear activation, when nothing else reads that output. Everything else stays as it
 * was and is listed with the reason: e.g. kws-kit's SubSpectralNorm, whose statistics differ per
 * frequency sub-band, so its scale is not a per-output-channel factor of the kernel.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkLayersModel, type LayerCall, layerCalls } from './graph.js';
import { type LayerRewrite, rebuildModel, shortWeightName } from './rebuild.js';
import { channelLayout } from './weight-quantizers.js';

/** One folded batch norm. */
export interface FoldedNorm {
  /** Name of the BatchNormalization layer that was removed. */
  norm: string;
  /** Name of the layer it was folded into (it keeps its name and gains a bias if it had none). */
  into: string;
  /** Class of that layer. */
  className: string;
}

/** A normalization layer left in the model, and why. */
export interface UnfoldedNorm {
  /** Layer name. */
  layer: string;
  /** Layer class, e.g. `SubSpectralNorm`. */
  className: string;
  /** Why it was not folded. */
  reason: string;
}

/** Result of {@link foldBatchNorm}. */
export interface FoldResult {
  /** The folded float model (new layers and weights; the input model is unchanged). */
  model: tfl.LayersModel;
  /** The folds made, in execution order. */
  folded: FoldedNorm[];
  /** Normalization layers (class name ending in `Normalization` or `Norm`) left as they were. */
  unfolded: UnfoldedNorm[];
}

/** Layer classes a following batch norm folds into, with the name of their kernel weight. */
const FOLD_TARGETS: Readonly<Record<string, string>> = {
  Conv2D: 'kernel',
  DepthwiseConv2D: 'depthwise_kernel',
  Dense: 'kernel',
  SpectralConv: 'kernel',
  TemporalConv: 'kernel',
};

const NORM_CLASS = /Normali[sz]ation$|Norm$/;

interface NormConfig {
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
}

interface LayerConfig {
  activation?: unknown;
  dataFormat?: string;
  useBias?: boolean;
}

/** Values of a layer's weights by short name. */
function weightValues(layer: tfl.layers.Layer): Map<string, Float32Array> {
  return new Map(
    layer.weights.map((w) => [shortWeightName(w.originalName), w.read().dataSync() as Float32Array]),
  );
}

/** Why `call` (a BatchNormalization) cannot be folded into its producer, or the producer call. */
function foldTarget(
  call: LayerCall,
  producers: Map<number, LayerCall>,
  readers: Map<number, number>,
  outputs: Set<number>,
): LayerCall | string {
  const norm = call.layer;
  const config = norm.getConfig() as NormConfig;
  const input = call.inputs[0];
  if (call.inputs.length !== 1 || input === undefined) return 'it does not have exactly one input';
  const rank = input.shape.length;
  const axes = [config.axis ?? -1].flat();
  if (axes.length !== 1 || ((axes[0] as number) !== -1 && (axes[0] as number) !== rank - 1)) {
    return `it normalizes axis ${JSON.stringify(config.axis)}, not the last (channel) axis`;
  }
  if (norm.inboundNodes.length !== 1) return 'the layer is applied more than once';
  const producer = producers.get(input.id);
  if (producer === undefined) return 'its input is a model input';
  const className = producer.layer.getClassName();
  if (FOLD_TARGETS[className] === undefined) {
    return `its input comes from ${producer.layer.name} (${className}), not from a Conv2D, DepthwiseConv2D, Dense, SpectralConv or TemporalConv`;
  }
  const pc = producer.layer.getConfig() as LayerConfig;
  if (pc.activation !== undefined && pc.activation !== 'linear') {
    return `${producer.layer.name} applies the activation ${String(pc.activation)} before the norm`;
  }
  if (pc.dataFormat !== undefined && pc.dataFormat !== 'channelsLast') {
    return `${producer.layer.name} is channels-first`;
  }
  if (producer.layer.inboundNodes.length !== 1) return `${producer.layer.name} is applied more than once`;
  if ((readers.get(input.id) ?? 0) !== 1 || outputs.has(input.id)) {
    return `the output of ${producer.layer.name} is also read elsewhere`;
  }
  return producer;
}

/** The folded kernel and bias of `producer` with the norm `norm` (float64 arithmetic). */
function foldedWeights(producer: tfl.layers.Layer, norm: tfl.layers.Layer): Map<string, Float32Array> {
  const className = producer.getClassName();
  const kernelName = FOLD_TARGETS[className] as string;
  const own = weightValues(producer);
  const nw = weightValues(norm);
  const config = norm.getConfig() as NormConfig;
  const eps = config.epsilon ?? 1e-3;
  const kernelVar = producer.weights.find((w) => shortWeightName(w.originalName) === kernelName);
  const kernel = own.get(kernelName);
  const mean = nw.get('moving_mean');
  const variance = nw.get('moving_variance');
  if (kernelVar === undefined || kernel === undefined || mean === undefined || variance === undefined) {
    throw new KwsError('MODEL_INVALID', `cannot fold ${norm.name} into ${producer.name}: weights missing`);
  }
  const layout = channelLayout(className, kernelName, kernelVar.shape as number[]);
  const channels = mean.length;
  if (layout.channels !== channels) {
    throw new KwsError(
      'MODEL_INVALID',
      `cannot fold ${norm.name} (${channels} channels) into ${producer.name} (${layout.channels} output channels)`,
    );
  }
  const gamma = config.scale === false ? undefined : nw.get('gamma');
  const beta = config.center === false ? undefined : nw.get('beta');
  const bias = own.get('bias');
  const factor = new Float64Array(channels);
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const a = (gamma === undefined ? 1 : (gamma[c] as number)) / Math.sqrt((variance[c] as number) + eps);
    factor[c] = a;
    newBias[c] =
      a * ((bias === undefined ? 0 : (bias[c] as number)) - (mean[c] as number)) + (beta?.[c] ?? 0);
  }
  const newKernel = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) {
    newKernel[i] = (kernel[i] as number) * (factor[Math.floor(i / layout.inner) % channels] as number);
  }
  return new Map([
    [kernelName, newKernel],
    ['bias', newBias],
  ]);
}

/**
 * Folds every BatchNormalization that directly follows a linear layer into that layer (see the
 * module documentation). The result computes the same inference function (to float32 rounding:
 * relative differences around 1e-6) and has its own weights; `model` is not changed.
 *
 * @example
 * ```ts
 * const { model: folded, folded: merged, unfolded } = foldBatchNorm(bcResNet({ width: 1 }));
 * // merged: stem_bn → stem_conv, ...; unfolded: the SubSpectralNorms
 * ```
 * @throws KwsError `INVALID_ARGUMENT` for a non-model; `MODEL_INVALID` for nested models or
 *   unregistered layer classes.
 */
export function foldBatchNorm(model: tfl.LayersModel): FoldResult {
  const m = checkLayersModel('model', model, false);
  const calls = layerCalls(m);
  const producers = new Map<number, LayerCall>();
  const readers = new Map<number, number>();
  for (const call of calls) {
    for (const t of call.outputs) producers.set(t.id, call);
    for (const t of call.inputs) readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  }
  const outputs = new Set(m.outputs.map((t) => t.id));
  const folded: FoldedNorm[] = [];
  const unfolded: UnfoldedNorm[] = [];
  const rewrites = new Map<tfl.layers.Layer, LayerRewrite>();
  for (const call of calls) {
    const className = call.layer.getClassName();
    if (className !== 'BatchNormalization') {
      if (NORM_CLASS.test(className)) {
        unfolded.push({
          layer: call.layer.name,
          className,
          reason:
            className === 'SubSpectralNorm'
              ? 'its statistics differ per frequency sub-band, so it is not a per-channel factor of a kernel'
              : `only BatchNormalization is folded; ${className} normalizes with statistics of each input`,
        });
      }
      continue;
    }
    const target = foldTarget(call, producers, readers, outputs);
    if (typeof target === 'string') {
      unfolded.push({ layer: call.layer.name, className, reason: target });
      continue;
    }
    rewrites.set(call.layer, { drop: true });
    rewrites.set(target.layer, {
      config: { useBias: true },
      weights: foldedWeights(target.layer, call.layer),
    });
    folded.push({ norm: call.layer.name, into: target.layer.name, className: target.layer.getClassName() });
  }
  const rebuilt = rebuildModel(m, { rewrite: (call) => rewrites.get(call.layer) });
  return { model: rebuilt, folded, unfolded };
}
