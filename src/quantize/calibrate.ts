/**
 * Activation calibration and simulated int8 inference.
 *
 * {@link calibrateActivations} runs representative inputs (e.g. 100 clips of log-mel features)
 * through a model and records the range of every layer output ("tap", see below) and of the
 * model input: the observed min/max, or a percentile range that ignores rare outliers (a range
 * set by one extreme value wastes most of the 256 levels on values that never occur).
 *
 * {@link simulateInt8} builds a new functional model that computes what an int8 runtime would:
 * every layer is cloned (same class and config, so kws-kit's custom layers and tfjs-layers' own
 * work alike) with int8 fake-quantized weights, and a {@link FakeQuant} layer after the model
 * input and after every layer output rounds activations to the calibrated 8-bit grid. As a
 * runtime fuses conv + batch norm + activation, a tensor read only by BatchNormalization or
 * activation layers is left unrounded (option `fuse`). Its predictions are float32 tensors on the
 * int8 grid; compare them with the float model by {@link layerSqnr}. What it does not model:
 * batch-norm parameters stay float32 rather than being folded into the kernel (with per-channel
 * weights this is the same up to rounding, since per-channel scales follow any per-channel
 * factor), other norms (SubSpectralNorm) and elementwise ops are requantized like any layer,
 * biases stay float32 (int32 in a runtime: practically the same), and GRU/LSTM internals (gates,
 * state) stay float; only a recurrent layer's output sequence is quantized.
 *
 * Taps are named after their layer: the layer name, `name:i` for output i of a multi-output
 * layer, or the input layer's name for the model input.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { registerKwsLayers } from '../models/index.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { checkBatchSize, checkFiniteBatch, checkSamples, forEachBatch } from './batches.js';
import { FakeQuant, registerQuantizeLayers } from './fake-quant.js';
import {
  checkLayersModel,
  isNestedModel,
  type LayerCall,
  layerCalls,
  modelTaps,
  type Tap,
  tapName,
  tapReader,
} from './graph.js';
import { keepFloatByDefault, type WeightInfo, type WeightSkip } from './ptq.js';
import { channelLayout, encodeInt8PerTensor, quantizeInt8PerChannel } from './weight-quantizers.js';

/** How a range is derived from the observed activations. */
export type CalibrationMethod = 'minmax' | 'percentile';

/** Options of {@link calibrateActivations}. */
export interface CalibrationOptions {
  /**
   * `'minmax'` (default): the observed minimum and maximum. `'percentile'`: the `percentile`-th
   * percentile as the upper end and the (100 − percentile)-th as the lower end, per tap.
   */
  method?: CalibrationMethod;
  /**
   * Percentile p for `method: 'percentile'`, in [90, 100]. Default 99.99. The upper end is the
   * smallest observed value v with at least p % of the values ≤ v (the lower end likewise from
   * below); exact, computed from the ⌊N(1 − p/100)⌋ + 2 largest and smallest values of each tap
   * (N values per tap), which bounds memory.
   */
  percentile?: number;
  /** Examples per forward pass, ≥ 1. Default 32. */
  batchSize?: number;
}

/** Calibrated range of one tap. */
export interface ActivationRange {
  /** Tap name. */
  name: string;
  /** Producing layer (input layer for the model input). */
  layer: string;
  /** Class of the producing layer (`InputLayer` for the model input). */
  className: string;
  /** Output index within the layer call. */
  output: number;
  /** Lower end of the range (≤ 0: the range always contains 0). */
  min: number;
  /** Upper end of the range (≥ 0). */
  max: number;
  /** Smallest value seen. */
  observedMin: number;
  /** Largest value seen. */
  observedMax: number;
  /** Number of values seen (examples × elements per example). */
  count: number;
}

/** Result of {@link calibrateActivations}. */
export interface ActivationRanges {
  /** Method used. */
  method: CalibrationMethod;
  /** Percentile used, or null for minmax. */
  percentile: number | null;
  /** Number of examples run. */
  samples: number;
  /** One range per tap: the model input first, then layer outputs in execution order. */
  ranges: ActivationRange[];
}

/** Keeps the k largest values pushed (ties may be dropped; the k-th largest value stays exact). */
class LargestValues {
  private readonly values: number[] = [];
  private threshold = Number.NEGATIVE_INFINITY;

  constructor(private readonly k: number) {}

  push(v: number): void {
    if (v <= this.threshold) return;
    this.values.push(v);
    if (this.values.length >= 2 * this.k + 1024) this.compact();
  }

  private compact(): void {
    this.values.sort((a, b) => b - a);
    this.values.length = this.k;
    this.threshold = this.values[this.k - 1] as number;
  }

  /** The (i + 1)-th largest value pushed (i < k). */
  nth(i: number): number {
    this.values.sort((a, b) => b - a);
    return this.values[Math.min(i, this.values.length - 1)] as number;
  }
}

interface Accumulator {
  tap: Tap;
  min: number;
  max: number;
  count: number;
  high?: LargestValues;
  low?: LargestValues;
}

function observe(
  acc: Accumulator,
  values: Float32Array,
  totalCount: number,
  percentile: number | null,
): void {
  if (percentile !== null && acc.high === undefined) {
    const k = Math.floor(totalCount * (1 - percentile / 100)) + 2;
    acc.high = new LargestValues(k);
    acc.low = new LargestValues(k);
  }
  let { min, max } = acc;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  acc.min = min;
  acc.max = max;
  acc.count += values.length;
  const { high, low } = acc;
  if (high !== undefined && low !== undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      high.push(v);
      low.push(-v);
    }
  }
}

function finish(acc: Accumulator, percentile: number | null): ActivationRange {
  const { tap, count } = acc;
  let lo = acc.min;
  let hi = acc.max;
  if (percentile !== null && acc.high !== undefined && acc.low !== undefined && count > 0) {
    // Ascending rank r (1-based) of the upper end; the lower end has rank count + 1 − r.
    const r = Math.min(count, Math.max(1, Math.ceil((percentile / 100) * count)));
    hi = acc.high.nth(count - r);
    lo = -acc.low.nth(count - r);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new KwsError(
      'MODEL_INVALID',
      `layer output ${tap.name} produced non-finite values (${acc.min} … ${acc.max}) on the calibration samples`,
    );
  }
  return {
    name: tap.name,
    layer: tap.layer,
    className: tap.className,
    output: tap.output,
    min: Math.min(lo, 0),
    max: Math.max(hi, 0),
    observedMin: acc.min,
    observedMax: acc.max,
    count,
  };
}

interface ResolvedCalibration {
  method: CalibrationMethod;
  percentile: number | null;
  batchSize: number;
}

function resolveCalibration(options: CalibrationOptions | undefined): ResolvedCalibration {
  const o = checkOptions('options', options);
  const method = checkChoice('options.method', o.method ?? 'minmax', ['minmax', 'percentile'] as const);
  const p = checkNumber('options.percentile', o.percentile ?? 99.99, 90, 100);
  return { method, percentile: method === 'percentile' ? p : null, batchSize: checkBatchSize(o.batchSize) };
}

/**
 * Records the range of the model input and of every layer output over representative inputs.
 * See the module documentation and {@link CalibrationOptions}. Inference mode (dropout off).
 *
 * @param model - a single-input tfjs-layers model (Sequential or functional)
 * @param samples - representative inputs `[n, ...one example]`, float32, n ≥ 1
 * @returns one range per tap, each containing 0
 * @throws KwsError `INVALID_ARGUMENT` (bad model or options), `SHAPE_MISMATCH` (samples do not fit
 *   the model), `EMPTY_INPUT` (n = 0), `NON_FINITE_INPUT` (NaN/Infinity in samples),
 *   `MODEL_INVALID` (a layer produced non-finite values)
 */
export function calibrateActivations(
  model: tfl.LayersModel,
  samples: tf.Tensor,
  options?: CalibrationOptions,
): ActivationRanges {
  const m = checkLayersModel('model', model);
  const opts = resolveCalibration(options);
  const x = checkSamples(samples, m);
  const n = x.shape[0] as number;
  const taps = modelTaps(m);
  const accs: Accumulator[] = taps.map((tap) => ({
    tap,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    count: 0,
  }));
  const read = tapReader(m, taps);
  forEachBatch(x, opts.batchSize, (batch, start) => {
    const values = read(batch);
    checkFiniteBatch(values[0] as Float32Array, start);
    const rows = batch.shape[0] as number;
    values.forEach((v, i) => {
      if (v.length > 0) observe(accs[i] as Accumulator, v, (v.length / rows) * n, opts.percentile);
    });
  });
  return {
    method: opts.method,
    percentile: opts.percentile,
    samples: n,
    ranges: accs.filter((a) => a.count > 0).map((a) => finish(a, opts.percentile)),
  };
}

// ---------------------------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------------------------

/** Weight quantization of {@link simulateInt8}. */
export type SimulatedWeights = 'per-channel' | 'per-tensor' | 'float';

/** Options of {@link simulateInt8}. */
export interface SimulateInt8Options {
  /**
   * Weights: symmetric int8 with one scale `max|w_c|/127` per output channel (`'per-channel'`,
   * default; the `simulated` values of `quantizeWeights`' int8-per-channel scheme), one per
   * tensor (`'per-tensor'`), or unchanged (`'float'`, to isolate activation error).
   */
  weights?: SimulatedWeights;
  /** Whether to fake-quantize activations (input and layer outputs). Default true. */
  activations?: boolean;
  /** Bits of the activation grid, 2 … 16. Default 8. */
  activationBits?: number;
  /** Weights to keep in float32 (as in `quantizeWeights`). Default: biases, rank < 2 and norm params. */
  skip?: WeightSkip;
  /**
   * Layers to leave entirely in float32 (weights and output), e.g. the ones {@link layerSqnr}
   * shows to hurt most. Default: none.
   */
  keepFloat?: (layerName: string) => boolean;
  /**
   * Fuse as int8 runtimes do (default true): a tensor whose only consumers are
   * BatchNormalization or activation layers (ReLU, LeakyReLU, ELU, ThresholdedReLU, Activation
   * other than softmax) is not quantized, because a runtime folds the norm into the preceding
   * kernel and applies the activation before requantizing; the grid is applied after the last
   * layer of such a chain. With false, every layer output is quantized (pessimistic: a batch
   * norm then sees its input's rounding amplified by γ/σ).
   */
  fuse?: boolean;
}

interface ResolvedSimulation {
  weights: SimulatedWeights;
  activations: boolean;
  bits: number;
  skip: WeightSkip;
  keepFloat: (layerName: string) => boolean;
  fuse: boolean;
}

function resolveSimulation(options: SimulateInt8Options | undefined): ResolvedSimulation {
  const o = checkOptions('options', options);
  const weights = checkChoice('options.weights', o.weights ?? 'per-channel', [
    'per-channel',
    'per-tensor',
    'float',
  ] as const);
  for (const key of ['skip', 'keepFloat'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') {
      throw new KwsError('INVALID_ARGUMENT', `options.${key} must be a function`);
    }
  }
  return {
    weights,
    activations: checkBoolean('options.activations', o.activations ?? true),
    bits: checkInt('options.activationBits', o.activationBits ?? 8, 2, 16),
    skip: o.skip ?? keepFloatByDefault,
    keepFloat: o.keepFloat ?? (() => false),
    fuse: checkBoolean('options.fuse', o.fuse ?? true),
  };
}

function checkRanges(ranges: unknown): Map<string, ActivationRange> {
  const r = ranges as ActivationRanges | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.ranges)) {
    throw new KwsError('INVALID_ARGUMENT', 'ranges must be the object returned by calibrateActivations');
  }
  const map = new Map<string, ActivationRange>();
  for (const range of r.ranges) {
    const ok =
      typeof range === 'object' &&
      range !== null &&
      typeof range.name === 'string' &&
      Number.isFinite(range.min) &&
      Number.isFinite(range.max) &&
      range.min <= range.max;
    if (!ok) {
      throw new KwsError('INVALID_ARGUMENT', `ranges holds a malformed entry ${JSON.stringify(range)}`);
    }
    map.set(range.name, range);
  }
  return map;
}

/** A fresh layer of the same class and configuration (unbuilt, no weights yet). */
function cloneLayer(layer: tfl.layers.Layer): tfl.layers.Layer {
  const className = layer.getClassName();
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) {
    throw new KwsError(
      'MODEL_INVALID',
      `layer ${layer.name} has class ${className}, which is not registered for serialisation; register it with tf.serialization.registerClass`,
    );
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, layer.getConfig()) as unknown as tfl.layers.Layer;
}

function quantizeLayerWeights(
  layer: tfl.layers.Layer,
  clone: tfl.layers.Layer,
  opts: ResolvedSimulation,
): void {
  const source = layer.weights;
  const target = clone.weights;
  if (source.length !== target.length || source.some((w, i) => w.shape.join() !== target[i]?.shape.join())) {
    throw new KwsError('MODEL_INVALID', `layer ${layer.name} could not be cloned with the same weights`);
  }
  if (source.length === 0) return;
  const keep = opts.weights === 'float' || opts.keepFloat(layer.name);
  const values = tf.tidy(() =>
    source.map((w) => {
      const value = w.read();
      if (keep || value.dtype !== 'float32') return tf.clone(value);
      const slash = w.originalName.lastIndexOf('/');
      const info: WeightInfo = {
        name: w.originalName,
        layer: layer.name,
        weight: w.originalName.slice(slash + 1),
        className: layer.getClassName(),
        shape: w.shape.slice() as number[],
      };
      const skipped: unknown = opts.skip(info.layer, info.weight, info);
      if (typeof skipped !== 'boolean') {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `options.skip returned ${typeof skipped} for ${info.name}; it must return a boolean`,
        );
      }
      if (skipped) return tf.clone(value);
      const data = value.dataSync() as Float32Array;
      const q =
        opts.weights === 'per-channel'
          ? quantizeInt8PerChannel(data, channelLayout(info.className, info.weight, info.shape)).dequantized
          : encodeInt8PerTensor(data).dequantized;
      return tf.tensor(q, info.shape, 'float32');
    }),
  );
  clone.setWeights(values);
  tf.dispose(values);
}

const FUSED_CLASSES = new Set(['BatchNormalization', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU']);

/** Whether a runtime fuses `layer` into the op producing its input (see `fuse`). */
function isFusedIntoProducer(layer: tfl.layers.Layer): boolean {
  const className = layer.getClassName();
  if (FUSED_CLASSES.has(className)) return true;
  return (
    className === 'Activation' && (layer.getConfig() as { activation?: unknown }).activation !== 'softmax'
  );
}

/** Tensors that stay unquantized because every consumer is fused into their producer. */
function fusedTensors(model: tfl.LayersModel, calls: readonly LayerCall[]): Set<number> {
  const consumers = new Map<number, tfl.layers.Layer[]>();
  for (const call of calls) {
    for (const t of call.inputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), call.layer]);
  }
  const outputs = new Set(model.outputs.map((t) => t.id));
  const fused = new Set<number>();
  for (const [id, layers] of consumers) {
    if (!outputs.has(id) && layers.every(isFusedIntoProducer)) fused.add(id);
  }
  return fused;
}

function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

function checkFlat(calls: readonly LayerCall[]): void {
  for (const call of calls) {
    if (isNestedModel(call.layer)) {
      throw new KwsError(
        'MODEL_INVALID',
        `layer ${call.layer.name} is a nested model; simulateInt8 handles flat Sequential or functional models (apply the nested model's layers directly)`,
      );
    }
  }
}

/**
 * A functional model that simulates int8 inference of `model`: cloned layers with int8
 * fake-quantized weights, and activations rounded to the calibrated 8-bit grids of `ranges` at
 * the model input and after every layer (see the module documentation). `model` is not changed;
 * the result owns new weights (dispose it with `dispose()` when done).
 *
 * Its layers keep the original names; each {@link FakeQuant} layer is named `<layer>_fq` and
 * records the tap it quantizes in `target`, which {@link layerSqnr} uses to line the two models up.
 *
 * @throws KwsError `INVALID_ARGUMENT` for bad arguments or a `ranges` without an entry for a tap
 *   of this model; `MODEL_INVALID` for nested models or a layer class that is not registered.
 */
export function simulateInt8(
  model: tfl.LayersModel,
  ranges: ActivationRanges,
  options?: SimulateInt8Options,
): tfl.LayersModel {
  const m = checkLayersModel('model', model);
  const byName = checkRanges(ranges);
  const opts = resolveSimulation(options);
  registerKwsLayers();
  registerQuantizeLayers();
  const calls = layerCalls(m);
  checkFlat(calls);
  const used = new Set<string>(m.layers.map((l) => l.name));
  for (const t of m.inputs) used.add(t.sourceLayer.name);

  const fused = opts.fuse ? fusedTensors(m, calls) : new Set<number>();
  const quantizeTap = (
    t: tfl.SymbolicTensor,
    source: tfl.SymbolicTensor,
    tap: string,
    layerName: string,
  ): tfl.SymbolicTensor => {
    if (!opts.activations || t.dtype !== 'float32' || opts.keepFloat(layerName) || fused.has(source.id))
      return t;
    const range = byName.get(tap);
    if (range === undefined) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `ranges has no entry for ${tap}; calibrate this model with calibrateActivations first`,
      );
    }
    const fq = new FakeQuant({
      min: range.min,
      max: range.max,
      bits: opts.bits,
      target: tap,
      name: uniqueName(`${tap.replace(/:/g, '_')}_fq`, used),
    });
    return fq.apply(t) as tfl.SymbolicTensor;
  };

  const mapped = new Map<number, tfl.SymbolicTensor>();
  const inputs = m.inputs.map((t) => {
    const input = tfl.input({ batchShape: t.shape, dtype: t.dtype, name: t.sourceLayer.name });
    mapped.set(t.id, quantizeTap(input, t, t.sourceLayer.name, t.sourceLayer.name));
    return input;
  });
  const clones = new Map<tfl.layers.Layer, tfl.layers.Layer>();
  for (const call of calls) {
    let clone = clones.get(call.layer);
    if (clone === undefined) {
      clone = cloneLayer(call.layer);
      clones.set(call.layer, clone);
    }
    const ins = call.inputs.map((t) => mapped.get(t.id) as tfl.SymbolicTensor);
    const out = clone.apply(ins.length === 1 ? (ins[0] as tfl.SymbolicTensor) : ins, call.callArgs);
    const outs = [out].flat() as tfl.SymbolicTensor[];
    call.outputs.forEach((t, i) => {
      const tap = tapName(call.layer.name, i, call.outputs.length);
      mapped.set(t.id, quantizeTap(outs[i] as tfl.SymbolicTensor, t, tap, call.layer.name));
    });
  }
  for (const [layer, clone] of clones) quantizeLayerWeights(layer, clone, opts);
  return tfl.model({
    inputs,
    outputs: m.outputs.map((t) => mapped.get(t.id) as tfl.SymbolicTensor),
    name: `${m.name}_int8`,
  });
}
