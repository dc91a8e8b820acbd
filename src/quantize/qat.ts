/**
 * Quantization-aware training (QAT): fine-tune a float model while its forward pass sees int8
 * weights and 8-bit activations, so that it learns to tolerate the rounding, then export it
 * through the same path as post-training quantization.
 *
 * **How.** {@link prepareQat} returns a handle: a new model and the hooks that make kws-kit's
 * `train()` do QAT.
 *
 * 1. Batch norms are **folded first** ({@link foldBatchNorm}, default). An int8 runtime runs the
 *    folded model, so training quantizes exactly the kernels that will be deployed, and the short
 *    fine-tune does not fight batch statistics that a runtime would not have. (Freezing BN instead
 *    would keep two layers whose product is what gets quantized.) Norms that cannot be folded
 *    (SubSpectralNorm) stay and keep training their statistics.
 * 2. **Weights: shadow weights with a straight-through estimator** (BinaryConnect, Courbariaux et
 *    al. 2015; Jacob et al. 2018). The model's variables hold the float "master" weights. Before
 *    each (micro-)batch the hooks write the per-channel symmetric int8 values of every kernel
 *    (`quantizeInt8PerChannel`: `s_c = max|w_c|/127`, `ŵ = clamp(round(w/s_c), −127, 127)·s_c`)
 *    into the variables; the forward and backward passes run on them; then the masters are
 *    written back and the optimizer applies ∂L/∂ŵ to them. That is the STE `∂ŵ/∂w = 1`, and as
 *    the scale follows the channel's largest |w| no weight is ever clipped, so the gradient passes
 *    unchanged everywhere. This works for every layer class without new layer types (Conv2D,
 *    DepthwiseConv2D, Dense, GRU and Bidirectional GRU kernels and recurrent kernels, kws-kit's
 *    SpectralConv, TemporalConv and AttentionPooling). Biases, rank < 2 weights and norm
 *    parameters stay float (as `quantizeWeights` keeps them), unless `skip` says otherwise.
 * 3. **Activations**: a {@link MovingFakeQuant} layer after the model input and after every layer
 *    output (the same places `simulateInt8` quantizes; with `fuse`, not between a layer and a
 *    following activation), with a moving-average range while training, frozen in inference,
 *    and the clipped straight-through gradient.
 *
 * Validation inside `train()` runs on the quantized weights (hook `aroundValidation`), so the best
 * epoch is chosen by the int8 model's accuracy; the model holds the masters between steps (so
 * checkpoints and `restoreBest` keep masters, and resuming works).
 *
 * {@link convertQat} then gives a float model whose weights are the int8 values and whose
 * activation quantizers are frozen `FakeQuant` layers; export it with
 * `exportQuantized(model, dir, { scheme: 'int8-per-channel', perChannelStorage: 'uint16' })`.
 *
 * @example
 * ```ts
 * const qat = prepareQat(floatModel, { samples: calibrationBatch });
 * await train(qat.model, { train: split, validation, epochs: 3, learningRate: 0.01 }, qat.hooks);
 * const int8 = convertQat(qat);
 * await exportQuantized(int8, 'out/kws-qat', { scheme: 'int8-per-channel', perChannelStorage: 'uint16' });
 * qat.dispose();
 * ```
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { TrainHooks } from '../train/index.js';
import { checkBoolean, checkInt, checkNumber, checkOptions } from '../validate.js';
import { type FoldedNorm, foldBatchNorm, type UnfoldedNorm } from './bn-fold.js';
import { calibrateActivations } from './calibrate.js';
import { FakeQuant } from './fake-quant.js';
import { checkLayersModel, layerCalls } from './graph.js';
import { MovingFakeQuant, registerQatLayers } from './moving-fake-quant.js';
import { keepFloatByDefault, type WeightInfo, type WeightSkip } from './ptq.js';
import { type RebuiltOutput, rebuildModel, shortWeightName } from './rebuild.js';
import { type ChannelLayout, channelLayout, quantizeInt8PerChannel } from './weight-quantizers.js';

/** Layer classes whose kernels quantization-aware training quantizes. */
export const QAT_LAYER_CLASSES: readonly string[] = [
  'Conv2D',
  'DepthwiseConv2D',
  'Dense',
  'GRU',
  'Bidirectional',
  'SpectralConv',
  'TemporalConv',
  'AttentionPooling',
];

/** Options of {@link prepareQat}. */
export interface QatOptions {
  /** Fold batch norms into the preceding linear layers first (see the module documentation). Default true. */
  foldBatchNorm?: boolean;
  /** Fake-quantize activations (input and layer outputs). Default true. */
  activations?: boolean;
  /** Bits of the activation grids, 2 … 16. Default 8. Weights are always int8. */
  activationBits?: number;
  /** Momentum of the moving activation ranges, in [0, 1). Default 0.99. */
  momentum?: number;
  /**
   * Leave tensors whose only consumers are BatchNormalization or activation layers (ReLU,
   * LeakyReLU, ELU, ThresholdedReLU, Activation other than softmax) unquantized, as runtimes fuse
   * them with the op before. Default true (the placement of `simulateInt8`).
   */
  fuse?: boolean;
  /**
   * Representative inputs `[n, ...one example]` whose min/max ranges (of the folded float model)
   * start the activation ranges. Default: none (the first training batch sets them).
   */
  samples?: tf.Tensor;
  /** Weights to keep in float32 (as in `quantizeWeights`). Default: biases, rank < 2 and norm params. */
  skip?: WeightSkip;
  /**
   * Layers to leave entirely in float32 (weights and output); also lets a model with a layer
   * class outside {@link QAT_LAYER_CLASSES} through. Default: none.
   */
  keepFloat?: (layerName: string) => boolean;
}

/** One weight that quantization-aware training quantizes. */
export interface QatWeight {
  /** Manifest name, e.g. `stem_conv/kernel`. */
  name: string;
  /** Owning layer. */
  layer: string;
  /** Class of the owning layer. */
  className: string;
  /** Shape. */
  shape: number[];
  /** Number of per-channel scales. */
  channels: number;
}

/** What {@link TrainHooks.prepareBatch} of a QAT handle returns: the masters set aside. */
export interface QatBatchState {
  /** Float master values, one per quantized weight, restored after the batch. */
  masters: tf.Tensor[];
}

/** A model prepared for quantization-aware training; see {@link prepareQat}. */
export interface QatModel {
  /**
   * The model to fine-tune: folded, with {@link MovingFakeQuant} layers. Its variables hold the
   * float masters except inside a batch or {@link QatModel.withQuantizedWeights}.
   */
  readonly model: tfl.LayersModel;
  /** Pass to `train(qat.model, options, qat.hooks)`. */
  readonly hooks: TrainHooks<QatBatchState>;
  /** The quantized weights, in model order. */
  readonly weights: readonly QatWeight[];
  /** Batch norms folded (empty with `foldBatchNorm: false`). */
  readonly folded: readonly FoldedNorm[];
  /** Normalization layers left unfolded, with the reason. */
  readonly unfolded: readonly UnfoldedNorm[];
  /**
   * Runs `fn` (synchronously) with the quantized weights in the model, e.g. to evaluate or
   * predict what the int8 model computes, and restores the masters afterwards.
   */
  withQuantizedWeights<T>(fn: () => T): T;
  /** Frees the model's weights. */
  dispose(): void;
}

interface ResolvedQat {
  fold: boolean;
  activations: boolean;
  bits: number;
  momentum: number;
  fuse: boolean;
  samples: tf.Tensor | undefined;
  skip: WeightSkip;
  keepFloat: (layerName: string) => boolean;
}

const OPTION_KEYS = [
  'foldBatchNorm',
  'activations',
  'activationBits',
  'momentum',
  'fuse',
  'samples',
  'skip',
  'keepFloat',
];

function resolveQat(options: QatOptions | undefined): ResolvedQat {
  const o = checkOptions('options', options);
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `unknown prepareQat option ${JSON.stringify(key)}; allowed: ${OPTION_KEYS.join(', ')}`,
      );
    }
  }
  for (const key of ['skip', 'keepFloat'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') {
      throw new KwsError('INVALID_ARGUMENT', `options.${key} must be a function`);
    }
  }
  if (o.samples !== undefined && !(o.samples instanceof tf.Tensor)) {
    throw new KwsError('INVALID_ARGUMENT', 'options.samples must be a tensor [n, ...one example]');
  }
  const momentum = checkNumber('options.momentum', o.momentum ?? 0.99, 0, 1);
  if (momentum === 1) throw new KwsError('INVALID_ARGUMENT', 'options.momentum must be < 1; got 1');
  return {
    fold: checkBoolean('options.foldBatchNorm', o.foldBatchNorm ?? true),
    activations: checkBoolean('options.activations', o.activations ?? true),
    bits: checkInt('options.activationBits', o.activationBits ?? 8, 2, 16),
    momentum,
    fuse: checkBoolean('options.fuse', o.fuse ?? true),
    samples: o.samples,
    skip: o.skip ?? keepFloatByDefault,
    keepFloat: o.keepFloat ?? (() => false),
  };
}

// As simulateInt8: a runtime fuses these into the op before (a norm left unfolded included).
const FUSED_CLASSES = new Set(['BatchNormalization', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU']);

function isFusedIntoProducer(layer: tfl.layers.Layer): boolean {
  const className = layer.getClassName();
  if (FUSED_CLASSES.has(className)) return true;
  return (
    className === 'Activation' && (layer.getConfig() as { activation?: unknown }).activation !== 'softmax'
  );
}

/** Ids of tensors every consumer of which is fused into its producer (left unquantized). */
function fusedTensorIds(model: tfl.LayersModel): Set<number> {
  const consumers = new Map<number, tfl.layers.Layer[]>();
  for (const call of layerCalls(model)) {
    for (const t of call.inputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), call.layer]);
  }
  const outputs = new Set(model.outputs.map((t) => t.id));
  const fused = new Set<number>();
  for (const [id, layers] of consumers) {
    if (!outputs.has(id) && layers.every(isFusedIntoProducer)) fused.add(id);
  }
  return fused;
}

function isSkipped(skip: WeightSkip, info: WeightInfo): boolean {
  const keep: unknown = skip(info.layer, info.weight, info);
  if (typeof keep !== 'boolean') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `options.skip returned ${typeof keep} for ${info.name}; it must return a boolean`,
    );
  }
  return keep;
}

interface Entry {
  weight: QatWeight;
  variable: tf.Variable;
  layout: ChannelLayout;
}

/** The weights to quantize; throws for a layer class that QAT does not support. */
function quantizedEntries(model: tfl.LayersModel, opts: ResolvedQat): Entry[] {
  const entries: Entry[] = [];
  for (const layer of model.layers) {
    if (opts.keepFloat(layer.name)) continue;
    const className = layer.getClassName();
    for (const w of layer.trainableWeights) {
      if (w.dtype !== 'float32') continue;
      const shape = w.shape.slice() as number[];
      const info: WeightInfo = {
        name: w.originalName,
        layer: layer.name,
        weight: shortWeightName(w.originalName),
        className,
        shape,
      };
      if (isSkipped(opts.skip, info)) continue;
      if (!QAT_LAYER_CLASSES.includes(className) || !supportedWrapper(layer)) {
        throw new KwsError(
          'MODEL_INVALID',
          `layer ${layer.name} (${describeClass(layer)}) has weight ${info.weight} to quantize, but quantization-aware training supports ${QAT_LAYER_CLASSES.join(', ')}; keep it in float with options.keepFloat or options.skip`,
        );
      }
      const layout = channelLayout(className, info.weight, shape);
      entries.push({
        weight: { name: info.name, layer: layer.name, className, shape, channels: layout.channels },
        variable: w.read() as tf.Variable,
        layout,
      });
    }
  }
  return entries;
}

/** A Bidirectional wrapper is supported around a GRU only. */
function supportedWrapper(layer: tfl.layers.Layer): boolean {
  if (layer.getClassName() !== 'Bidirectional') return true;
  return innerClass(layer) === 'GRU';
}

function innerClass(layer: tfl.layers.Layer): string {
  const inner = (layer.getConfig() as { layer?: { className?: unknown } }).layer;
  return typeof inner?.className === 'string' ? inner.className : 'unknown';
}

function describeClass(layer: tfl.layers.Layer): string {
  const c = layer.getClassName();
  return c === 'Bidirectional' ? `Bidirectional(${innerClass(layer)})` : c;
}

function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

/**
 * Prepares `model` for quantization-aware training (see the module documentation): folds batch
 * norms (default), inserts moving-range activation quantizers, and returns the new model with
 * the `train()` hooks that run each step on per-channel int8 weights and update the float
 * masters. `model` is not changed.
 *
 * @throws KwsError `INVALID_ARGUMENT` for bad options (e.g. `activationBits` outside 2 … 16);
 *   `MODEL_INVALID` for a layer class with weights to quantize outside {@link QAT_LAYER_CLASSES},
 *   nested models or unregistered layer classes; the errors of `calibrateActivations` for bad
 *   `samples`.
 */
export function prepareQat(model: tfl.LayersModel, options?: QatOptions): QatModel {
  const m = checkLayersModel('model', model);
  const opts = resolveQat(options);
  registerQatLayers();
  // Check layer support before any rebuilding (cheap errors first).
  quantizedEntries(m, opts);
  const fold = opts.fold ? foldBatchNorm(m) : null;
  const base = fold === null ? m : fold.model;
  let qatModel: tfl.LayersModel;
  try {
    const fused = opts.fuse ? fusedTensorIds(base) : new Set<number>();
    const used = new Set<string>(base.layers.map((l) => l.name));
    for (const t of base.inputs) used.add(t.sourceLayer.name);
    const quantizers: MovingFakeQuant[] = [];
    const afterOutput = (o: RebuiltOutput): tfl.SymbolicTensor => {
      if (!opts.activations || o.tensor.dtype !== 'float32' || fused.has(o.source.id)) return o.tensor;
      if (o.className !== 'InputLayer' && opts.keepFloat(o.layer)) return o.tensor;
      const fq = new MovingFakeQuant({
        bits: opts.bits,
        momentum: opts.momentum,
        target: o.tap,
        name: uniqueName(`${o.tap.replace(/:/g, '_')}_fq`, used),
      });
      quantizers.push(fq);
      return fq.apply(o.tensor) as tfl.SymbolicTensor;
    };
    qatModel = rebuildModel(base, { afterOutput, name: `${m.name}_qat` });
    if (opts.samples !== undefined && quantizers.length > 0) {
      const ranges = new Map(calibrateActivations(base, opts.samples).ranges.map((r) => [r.name, r]));
      for (const fq of quantizers) {
        const r = ranges.get(fq.target);
        if (r !== undefined) fq.setRange(r.min, r.max);
      }
    }
  } finally {
    fold?.model.dispose();
  }
  const entries = quantizedEntries(qatModel, opts);
  return createHandle(qatModel, entries, fold?.folded ?? [], fold?.unfolded ?? []);
}

function createHandle(
  model: tfl.LayersModel,
  entries: readonly Entry[],
  folded: FoldedNorm[],
  unfolded: UnfoldedNorm[],
): QatModel {
  let swapped = false;
  const swapIn = (): QatBatchState => {
    if (swapped) throw new KwsError('INVALID_ARGUMENT', 'the QAT model already holds its quantized weights');
    const masters: tf.Tensor[] = [];
    try {
      for (const e of entries) {
        // The clone shares the master's data; assign() moves the variable to the new values.
        masters.push(tf.clone(e.variable));
        const values = e.variable.dataSync() as Float32Array;
        const q = tf.tensor(
          quantizeInt8PerChannel(values, e.layout).dequantized,
          e.variable.shape,
          'float32',
        );
        e.variable.assign(q);
        q.dispose();
      }
    } catch (err) {
      restore(masters);
      throw err;
    }
    swapped = true;
    return { masters };
  };
  const restore = (masters: readonly tf.Tensor[]): void => {
    masters.forEach((master, i) => {
      (entries[i] as Entry).variable.assign(master);
      master.dispose();
    });
    swapped = false;
  };
  const withQuantizedWeights = <T>(fn: () => T): T => {
    if (typeof fn !== 'function')
      throw new KwsError('INVALID_ARGUMENT', 'withQuantizedWeights needs a function');
    const state = swapIn();
    try {
      return fn();
    } finally {
      restore(state.masters);
    }
  };
  return {
    model,
    hooks: {
      prepareBatch: () => swapIn(),
      disposeBatch: (state: QatBatchState) => restore(state.masters),
      aroundValidation: <T>(validate: () => T): T => withQuantizedWeights(validate),
    },
    weights: entries.map((e) => ({ ...e.weight, shape: [...e.weight.shape] })),
    folded,
    unfolded,
    withQuantizedWeights,
    dispose: () => model.dispose(),
  };
}

/** Options of {@link convertQat}. */
export interface ConvertQatOptions {
  /**
   * Keep the activation quantizers as `FakeQuant` layers with the frozen ranges (default true;
   * the model then predicts what the QAT model does, and loading it needs
   * `registerQuantizeLayers()`), or drop them (a model of stock and kws-kit layers with int8
   * weights and float activations).
   */
  activations?: boolean;
}

function isQatModel(v: unknown): v is QatModel {
  const q = v as Partial<QatModel> | null;
  return (
    typeof q === 'object' &&
    q !== null &&
    typeof q.withQuantizedWeights === 'function' &&
    typeof q.model === 'object' &&
    Array.isArray(q.weights)
  );
}

/**
 * The deployable model of a QAT handle: a new float model whose quantized weights are the
 * per-channel int8 values of the masters (`quantizeInt8PerChannel`, bit for bit what the QAT
 * forward pass used) and whose activation quantizers are `FakeQuant` layers with the frozen
 * ranges (or none, `activations: false`). Its predictions equal the QAT model's in inference
 * mode. Export it with `exportQuantized(model, dir, { scheme: 'int8-per-channel',
 * perChannelStorage: 'uint16' })`; the file then holds the int8 values with the channel scales
 * rounded to a common lattice (see `encodeInt8PerChannelLattice`).
 *
 * @throws KwsError `INVALID_ARGUMENT` for something that is not a {@link prepareQat} handle or bad
 *   options.
 */
export function convertQat(qat: QatModel, options?: ConvertQatOptions): tfl.LayersModel {
  if (!isQatModel(qat))
    throw new KwsError('INVALID_ARGUMENT', 'convertQat needs the handle returned by prepareQat');
  const o = checkOptions('options', options);
  const keepActivations = checkBoolean('options.activations', o.activations ?? true);
  registerQatLayers();
  return qat.withQuantizedWeights(() =>
    rebuildModel(qat.model, {
      name: qat.model.name.replace(/_qat$/, '_int8'),
      rewrite: (call) => {
        const layer = call.layer;
        if (!(layer instanceof MovingFakeQuant)) return undefined;
        if (!keepActivations) return { drop: true };
        const [min, max] = layer.range();
        return {
          layer: new FakeQuant({ min, max, bits: layer.bits, target: layer.target, name: layer.name }),
        };
      },
    }),
  );
}
