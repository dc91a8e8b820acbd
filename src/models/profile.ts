/**
 * Static profile of a tfjs-layers model for ONE example (batch 1): per layer and in total, the
 * parameter count, multiply-accumulates (MACs), normalization arithmetic, weight bytes by dtype,
 * activation bytes and the peak activation memory of one forward pass. No tensor is created: the
 * numbers come from layer configs and shapes.
 *
 * ## What is counted
 * - **MACs**: multiply-accumulates of the matrix and convolution products, one per weight use:
 *   - Dense: `positions · in · units` (positions = product of the dims between batch and last,
 *     1 for a `[1, in]` input);
 *   - Conv1D/2D/3D: `outPositions · ∏kernelSize · cin · filters` (outPositions = output elements
 *     / filters, e.g. outH·outW);
 *   - Conv2DTranspose/Conv3DTranspose: `inPositions · ∏kernelSize · cin · filters`;
 *   - DepthwiseConv2D: `outPositions · kh·kw · cin · depthMultiplier`;
 *   - SeparableConv2D: depthwise part as above plus `outPositions · cin·depthMultiplier · filters`;
 *   - GRU: `T · 3 · (in·h + h·h)`; LSTM: `T · 4 · (in·h + h·h)`; SimpleRNN: `T · (in·h + h·h)`
 *     (T steps of the input and recurrent matrix-vector products). The gate products (`r ⊙ h`,
 *     `z ⊙ h`, …) and bias adds are elementwise and not counted; Keras' `reset_after` GRU variant
 *     has the same two products per step (its extra is a second bias), so it adds nothing;
 *   - Dot: output elements × the contracted length;
 *   - TimeDistributed: the wrapped layer's count × T; Bidirectional: forward + backward layer;
 *   - a nested model: its own profile (its layers appear as rows named `outer/inner`).
 * - **normMacs** (kept apart from `macs` because inference engines fold them into the preceding
 *   convolution or run them as cheap elementwise ops): BatchNormalization 2 per output element
 *   (scale and shift, with the moving statistics folded into them); LayerNormalization 4 per
 *   element (Σx and Σx² for the statistics, then scale and shift).
 * - **0 MACs**: bias adds, activations (ReLU, softmax, …), pooling, elementwise merges (Add,
 *   Multiply, Concatenate, …), reshapes, dropout, padding, embedding lookups.
 * - **Custom layers** that have a method `countMacs(inputShape)` (duck typing) report their own
 *   `{ macs, normMacs }`. `inputShape` includes the batch dimension, which is 1 (e.g.
 *   `[1, 101, 40, 16]`); a layer with several inputs receives an array of shapes. A layer class the
 *   profiler does not know and that has no `countMacs` counts 0 and is listed in `warnings`.
 *
 * ## Memory model
 * `params`, `trainableParams` and `weightBytes` come from `layer.weights` (bytes per element:
 * float32 4, int32 4, float16 2, bool 1). `activationBytes` is the size of a layer's output
 * tensors. The peak replays tfjs-layers' own inference executor: calls run in the order of its
 * depth-first topological sort (from the outputs, last input first), every output is allocated
 * when its layer runs, and an intermediate tensor is freed right after its last consumer ran.
 * Model inputs stay alive for the whole pass (the caller owns them) and model outputs from their
 * creation to the end. While a layer runs, its inputs and outputs are both alive; temporaries inside
 * a layer (e.g. a GRU's gates) and the weights are not counted. The peak is the largest sum of
 * live activation bytes over the pass.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkOptions } from '../validate.js';

/** MACs of one call of a layer, as returned by a custom layer's `countMacs`. */
export interface MacCount {
  /** Multiply-accumulates of matrix/convolution products. */
  macs: number;
  /** Multiply-accumulates of normalization arithmetic (e.g. 2 per element for BatchNorm). */
  normMacs: number;
}

/**
 * A layer that reports its own MACs to {@link profile}. `inputShape` includes the batch
 * dimension, which is 1; a layer with several inputs receives one shape per input.
 */
export interface MacCountingLayer {
  countMacs(inputShape: number[] | number[][]): MacCount;
}

/** Options of {@link profile}. */
export interface ProfileOptions {
  /**
   * Shape of one example, without the batch dimension (e.g. `[101, 40, 1]`), or one such shape
   * per model input. Needed when a model input has an unknown (null) dimension besides the
   * batch, e.g. a variable number of frames; otherwise optional and, if given, must match the
   * model's input shape.
   */
  inputShape?: number[] | number[][];
}

/** Profile of one layer (summed over its calls if it is shared). */
export interface LayerProfile {
  /** Layer name; `outer/inner` for a layer inside a nested model. */
  name: string;
  /** tfjs class name, e.g. `'Conv2D'`. */
  className: string;
  /** Shape of the (first) output for batch 1, e.g. `[1, 6, 6, 4]`. */
  outputShape: number[];
  /** Number of weight elements. */
  params: number;
  /** Number of trainable weight elements (0 for a frozen layer). */
  trainableParams: number;
  /** Multiply-accumulates per example (see the module notes for each layer type). */
  macs: number;
  /** Normalization multiply-accumulates per example. */
  normMacs: number;
  /** Weight bytes by dtype, e.g. `{ float32: 160 }`; empty for a layer without weights. */
  weightBytes: Record<string, number>;
  /** Bytes of the layer's output tensors for one example. */
  activationBytes: number;
  /** How many times the model calls the layer (more than 1 for a shared layer). */
  calls: number;
}

/** Totals of a {@link ModelProfile}. */
export interface ProfileTotals {
  params: number;
  trainableParams: number;
  macs: number;
  normMacs: number;
  /** Weight bytes by dtype over all layers. */
  weightBytes: Record<string, number>;
  /** Largest sum of live activation bytes during one forward pass (see the memory model). */
  peakActivationBytes: number;
}

/** Result of {@link profile}. */
export interface ModelProfile {
  /** One row per layer that runs, in execution order; input layers are not listed. */
  layers: LayerProfile[];
  total: ProfileTotals;
  /** Shapes of the model inputs used, batch dimension (1) included. */
  inputShapes: number[][];
  /** Layers counted as 0 MACs because the profiler cannot count them. */
  warnings: string[];
}

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;
type Shape = number[];

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  float16: 2,
  bool: 1,
  uint8: 1,
  complex64: 8,
};

// Layers whose arithmetic is elementwise, a reduction or data movement: 0 MACs by definition.
const ZERO_MAC_LAYERS = new Set([
  'InputLayer',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'Softmax',
  'Dropout',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'Flatten',
  'Reshape',
  'Permute',
  'RepeatVector',
  'Masking',
  'Add',
  'Subtract',
  'Average',
  'Maximum',
  'Minimum',
  'Multiply',
  'Concatenate',
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'UpSampling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'Embedding',
  'Rescaling',
  'CenterCrop',
  'Resizing',
  'CategoryEncoding',
]);

const RNN_GATES: Readonly<Record<string, number>> = {
  GRU: 3,
  GRUCell: 3,
  LSTM: 4,
  LSTMCell: 4,
  SimpleRNN: 1,
  SimpleRNNCell: 1,
};

function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

function dtypeBytes(dtype: string): number {
  return DTYPE_BYTES[dtype] ?? 4;
}

function showShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

function config(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function numberList(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

// ---------------------------------------------------------------------------------------------
// MAC formulas
// ---------------------------------------------------------------------------------------------

const ZERO: MacCount = { macs: 0, normMacs: 0 };

function first<T>(xs: readonly T[], what: string): T {
  const x = xs[0];
  if (x === undefined) throw new KwsError('MODEL_INVALID', `${what} has no input`);
  return x;
}

/** [positions, channels] of a conv input/output for a channelsLast or channelsFirst layout. */
function splitChannels(shape: Shape, channelsFirst: boolean): { positions: number; channels: number } {
  const channels = (channelsFirst ? shape[1] : shape[shape.length - 1]) as number;
  const spatial = channelsFirst ? shape.slice(2) : shape.slice(1, -1);
  return { positions: prod(spatial), channels };
}

function convMacs(layer: Layer, input: Shape, output: Shape): MacCount {
  const cfg = config(layer);
  const channelsFirst = cfg.dataFormat === 'channelsFirst';
  const kernel = prod(numberList(cfg.kernelSize));
  const inp = splitChannels(input, channelsFirst);
  const out = splitChannels(output, channelsFirst);
  const className = layer.getClassName();
  if (className === 'DepthwiseConv2D') {
    const dm = (cfg.depthMultiplier as number | undefined) ?? 1;
    return { macs: out.positions * kernel * inp.channels * dm, normMacs: 0 };
  }
  if (className === 'SeparableConv2D') {
    const dm = (cfg.depthMultiplier as number | undefined) ?? 1;
    const depthwise = out.positions * kernel * inp.channels * dm;
    return { macs: depthwise + out.positions * inp.channels * dm * out.channels, normMacs: 0 };
  }
  const groups = typeof cfg.groups === 'number' && cfg.groups > 0 ? cfg.groups : 1;
  // A transposed convolution scatters every input position through the whole kernel.
  const positions = className.endsWith('Transpose') ? inp.positions : out.positions;
  return { macs: (positions * kernel * inp.channels * out.channels) / groups, normMacs: 0 };
}

function denseMacs(layer: Layer, input: Shape): MacCount {
  const units = config(layer).units as number;
  const inDim = input[input.length - 1] as number;
  return { macs: prod(input.slice(1, -1)) * inDim * units, normMacs: 0 };
}

/** Per-step MACs of an RNN cell; `undefined` for a cell type the profiler does not know. */
function cellStepMacs(cell: unknown, inDim: number): { macs: number; outDim: number } | undefined {
  if (typeof cell !== 'object' || cell === null) return undefined;
  const c = cell as { getClassName?: () => string; units?: unknown; cells?: unknown };
  const className = typeof c.getClassName === 'function' ? c.getClassName() : '';
  if (className === 'StackedRNNCells' && Array.isArray(c.cells)) {
    let total = 0;
    let dim = inDim;
    for (const inner of c.cells) {
      const step = cellStepMacs(inner, dim);
      if (step === undefined) return undefined;
      total += step.macs;
      dim = step.outDim;
    }
    return { macs: total, outDim: dim };
  }
  const gates = RNN_GATES[className];
  if (gates === undefined || typeof c.units !== 'number') return undefined;
  const h = c.units;
  return { macs: gates * (inDim * h + h * h), outDim: h };
}

function rnnMacs(layer: Layer, input: Shape): MacCount | undefined {
  const steps = input[1] as number;
  const inDim = input[input.length - 1] as number;
  const step = cellStepMacs((layer as unknown as { cell?: unknown }).cell, inDim);
  return step === undefined ? undefined : { macs: steps * step.macs, normMacs: 0 };
}

function dotMacs(layer: Layer, inputs: Shape[], output: Shape): MacCount {
  const a = first(inputs, layer.name);
  const axes = numberList(config(layer).axes);
  const axis = axes[0] ?? -1;
  const contracted = a[axis < 0 ? a.length + axis : axis] as number;
  return { macs: prod(output.slice(1)) * contracted, normMacs: 0 };
}

function isMacCounting(layer: unknown): layer is MacCountingLayer {
  return typeof (layer as { countMacs?: unknown }).countMacs === 'function';
}

function customMacs(layer: Layer & MacCountingLayer, inputs: Shape[]): MacCount {
  const arg = inputs.length === 1 ? first(inputs, layer.name).slice() : inputs.map((s) => s.slice());
  const r = layer.countMacs(arg) as unknown;
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof r !== 'object' || r === null || !ok((r as MacCount).macs) || !ok((r as MacCount).normMacs)) {
    throw new KwsError(
      'MODEL_INVALID',
      `layer ${layer.name} (${layer.getClassName()}): countMacs must return { macs, normMacs } with finite numbers >= 0`,
    );
  }
  return { macs: (r as MacCount).macs, normMacs: (r as MacCount).normMacs };
}

/** MACs of one call of a (non-model) layer; unknown layers count 0 and add a warning. */
function layerMacs(layer: Layer, inputs: Shape[], outputs: Shape[], warnings: string[]): MacCount {
  if (isMacCounting(layer)) return customMacs(layer, inputs);
  const className = layer.getClassName();
  const input = first(inputs, layer.name);
  const output = first(outputs, layer.name);
  switch (className) {
    case 'Dense':
      return denseMacs(layer, input);
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'Conv2DTranspose':
    case 'Conv3DTranspose':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
      return convMacs(layer, input, output);
    case 'BatchNormalization':
      return { macs: 0, normMacs: 2 * prod(output.slice(1)) };
    case 'LayerNormalization':
      return { macs: 0, normMacs: 4 * prod(output.slice(1)) };
    case 'Dot':
      return dotMacs(layer, inputs, output);
    case 'TimeDistributed':
      return timeDistributedMacs(layer, input, warnings);
    case 'Bidirectional':
      return bidirectionalMacs(layer, inputs, warnings);
    default:
      break;
  }
  if (ZERO_MAC_LAYERS.has(className)) return ZERO;
  const rnn = className in RNN_GATES || className === 'RNN' ? rnnMacs(layer, input) : undefined;
  if (rnn !== undefined) return rnn;
  const hasWeights = layer.weights.length > 0;
  warnings.push(
    `layer ${layer.name} (${className}) is not known to the profiler and has no countMacs method; ` +
      `counted as 0 MACs${hasWeights ? ' although it has weights' : ''}`,
  );
  return ZERO;
}

function outputShapeOf(layer: Layer, inputs: Shape[]): Shape[] {
  const arg = inputs.length === 1 ? first(inputs, layer.name) : inputs;
  return asShapeList(layer.computeOutputShape(arg), layer.name);
}

function timeDistributedMacs(layer: Layer, input: Shape, warnings: string[]): MacCount {
  const inner = (layer as unknown as { layer: Layer }).layer;
  const innerInput = [1, ...input.slice(2)];
  const per = layerMacs(inner, [innerInput], outputShapeOf(inner, [innerInput]), warnings);
  const steps = input[1] as number;
  return { macs: steps * per.macs, normMacs: steps * per.normMacs };
}

function bidirectionalMacs(layer: Layer, inputs: Shape[], warnings: string[]): MacCount {
  const parts = layer as unknown as { forwardLayer: Layer; backwardLayer: Layer };
  const total = { ...ZERO };
  for (const inner of [parts.forwardLayer, parts.backwardLayer]) {
    const m = layerMacs(inner, inputs.slice(0, 1), outputShapeOf(inner, inputs.slice(0, 1)), warnings);
    total.macs += m.macs;
    total.normMacs += m.normMacs;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Graph walk and shapes
// ---------------------------------------------------------------------------------------------

interface Call {
  layer: Layer;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
}

function asShapeList(shape: unknown, where: string): Shape[] {
  const list = Array.isArray(shape) && Array.isArray(shape[0]) ? (shape as unknown[]) : [shape];
  return list.map((s) => {
    if (!Array.isArray(s) || s.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw new KwsError(
        'MODEL_INVALID',
        `cannot infer the output shape of ${where} for batch 1 (got ${Array.isArray(s) ? showShape(s) : String(s)})`,
      );
    }
    return s as Shape;
  });
}

/**
 * Layer calls in the order tfjs-layers' executor runs them: a depth-first post-order from each
 * output, visiting a tensor's inputs from last to first; model inputs are feeds, not calls.
 */
function executionOrder(model: tfl.LayersModel): Call[] {
  const done = new Set<number>(model.inputs.map((t) => t.id));
  const sorted: SymbolicTensor[] = [];
  for (const output of model.outputs) {
    const stack: { t: SymbolicTensor; next: number }[] = [{ t: output, next: output.inputs.length - 1 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { t: SymbolicTensor; next: number };
      if (done.has(frame.t.id)) {
        stack.pop();
      } else if (frame.next >= 0) {
        const input = frame.t.inputs[frame.next--] as SymbolicTensor;
        if (!done.has(input.id)) stack.push({ t: input, next: input.inputs.length - 1 });
      } else {
        done.add(frame.t.id);
        sorted.push(frame.t);
        stack.pop();
      }
    }
  }
  const calls: Call[] = [];
  const seen = new Set<string>();
  for (const t of sorted) {
    const key = `${t.sourceLayer.id}:${t.nodeIndex}`;
    if (t.inputs.length === 0 || seen.has(key)) continue;
    seen.add(key);
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    calls.push({ layer: t.sourceLayer, inputs: t.inputs, outputs: node ? node.outputTensors : [t] });
  }
  return calls;
}

function isModel(layer: unknown): layer is tfl.LayersModel {
  const m = layer as { inputs?: unknown; outputs?: unknown; layers?: unknown };
  return Array.isArray(m.inputs) && Array.isArray(m.outputs) && Array.isArray(m.layers);
}

/** Output shapes of a call for batch 1: the symbolic shapes where known, else inferred. */
function callOutputShapes(call: Call, inputs: Shape[]): Shape[] {
  const symbolic = call.outputs.map((t) => t.shape);
  if (symbolic.every((s) => s.slice(1).every((d) => d !== null))) {
    return symbolic.map((s) => [1, ...(s.slice(1) as number[])]);
  }
  let inferred: Shape[];
  try {
    inferred = outputShapeOf(call.layer, inputs);
  } catch (e) {
    if (e instanceof KwsError) throw e;
    throw new KwsError(
      'SHAPE_MISMATCH',
      `layer ${call.layer.name} cannot take inputs ${inputs.map(showShape).join(', ')}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  return inferred.map((s) => [1, ...s.slice(1)]);
}

// ---------------------------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------------------------

interface Row extends LayerProfile {
  layer: Layer;
}

interface Context {
  rows: Map<Layer, Row>;
  warnings: string[];
}

function weightStats(layer: Layer): Pick<LayerProfile, 'params' | 'trainableParams' | 'weightBytes'> {
  let params = 0;
  let trainableParams = 0;
  const weightBytes: Record<string, number> = {};
  for (const w of layer.weights) {
    const n = prod(w.shape as number[]);
    params += n;
    weightBytes[w.dtype] = (weightBytes[w.dtype] ?? 0) + n * dtypeBytes(w.dtype);
  }
  for (const w of layer.trainableWeights) trainableParams += prod(w.shape as number[]);
  return { params, trainableParams, weightBytes };
}

function record(
  ctx: Context,
  layer: Layer,
  name: string,
  outputs: Shape[],
  bytes: number,
  m: MacCount,
): void {
  let row = ctx.rows.get(layer);
  if (row === undefined) {
    row = {
      layer,
      name,
      className: layer.getClassName(),
      outputShape: first(outputs, name),
      ...weightStats(layer),
      macs: 0,
      normMacs: 0,
      activationBytes: 0,
      calls: 0,
    };
    ctx.rows.set(layer, row);
  }
  row.macs += m.macs;
  row.normMacs += m.normMacs;
  row.activationBytes += bytes;
  row.calls += 1;
}

/** Runs the model symbolically; returns the peak live bytes and the bytes of its inputs. */
function simulate(
  model: tfl.LayersModel,
  inputShapes: Shape[],
  prefix: string,
  ctx: Context,
): { peak: number; inputBytes: number } {
  const shapes = new Map<number, Shape>();
  const bytes = new Map<number, number>();
  const setTensor = (t: SymbolicTensor, shape: Shape): void => {
    shapes.set(t.id, shape);
    bytes.set(t.id, prod(shape) * dtypeBytes(t.dtype));
  };
  model.inputs.forEach((t, i) => {
    setTensor(t, inputShapes[i] as Shape);
  });
  const calls = executionOrder(model);
  const pinned = new Set<number>([...model.inputs, ...model.outputs].map((t) => t.id));
  const consumers = new Map<number, number>();
  for (const call of calls) {
    for (const id of new Set(call.inputs.map((t) => t.id))) consumers.set(id, (consumers.get(id) ?? 0) + 1);
  }

  const inputBytes = model.inputs.reduce((s, t) => s + (bytes.get(t.id) as number), 0);
  let live = inputBytes;
  let peak = live;
  for (const call of calls) {
    const inputs = call.inputs.map((t) => shapes.get(t.id) as Shape);
    const outputs = callOutputShapes(call, inputs);
    call.outputs.forEach((t, i) => {
      setTensor(t, outputs[i] as Shape);
    });
    const outBytes = call.outputs.reduce((s, t) => s + (bytes.get(t.id) as number), 0);
    let during = live + outBytes;
    const name = prefix + call.layer.name;
    if (isModel(call.layer)) {
      const inner = simulate(call.layer, inputs, `${name}/`, ctx);
      // The nested model's inputs are this call's inputs, already in `live`.
      during = Math.max(during, live + inner.peak - inner.inputBytes);
    } else {
      record(ctx, call.layer, name, outputs, outBytes, layerMacs(call.layer, inputs, outputs, ctx.warnings));
    }
    peak = Math.max(peak, during);
    live += outBytes;
    for (const id of new Set(call.inputs.map((t) => t.id))) {
      const left = (consumers.get(id) as number) - 1;
      consumers.set(id, left);
      if (left === 0 && !pinned.has(id)) live -= bytes.get(id) as number;
    }
  }
  return { peak, inputBytes };
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

function checkModel(model: unknown): tfl.LayersModel {
  const m = model as { getClassName?: unknown };
  if (
    typeof model !== 'object' ||
    model === null ||
    !isModel(model) ||
    typeof m.getClassName !== 'function'
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'model must be a tfjs-layers LayersModel (tfl.sequential or tfl.model) with inputs and outputs',
    );
  }
  if (model.inputs.length === 0 || model.outputs.length === 0) {
    throw new KwsError(
      'MODEL_INVALID',
      'model has no inputs or outputs yet (give its first layer an inputShape, or build it)',
    );
  }
  return model;
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => typeof d === 'number');
}

function resolveInputShapes(model: tfl.LayersModel, given: unknown): Shape[] {
  const n = model.inputs.length;
  let perInput: (number[] | undefined)[];
  if (given === undefined) {
    perInput = new Array(n).fill(undefined);
  } else if (isShape(given) && n === 1) {
    perInput = [given];
  } else if (Array.isArray(given) && given.length === n && given.every(isShape)) {
    perInput = given as number[][];
  } else {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `inputShape must be ${n === 1 ? 'an array of positive integers' : `an array of ${n} shapes, one per model input`} (without the batch dimension)`,
    );
  }
  return model.inputs.map((t, i) => {
    const symbolic = t.shape.slice(1);
    const shape = perInput[i];
    if (shape === undefined) {
      if (symbolic.some((d) => d === null)) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `model input ${i} has shape ${showShape(t.shape)} with unknown dimensions; pass options.inputShape ` +
            `(one example, without the batch dimension, e.g. ${showShape(symbolic.map((d) => d ?? 101))})`,
        );
      }
      return [1, ...(symbolic as number[])];
    }
    if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new KwsError('INVALID_ARGUMENT', `inputShape ${showShape(shape)} must hold integers >= 1`);
    }
    if (shape.length !== symbolic.length || symbolic.some((d, k) => d !== null && d !== shape[k])) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `inputShape ${showShape(shape)} does not fit model input ${i} of shape ${showShape(t.shape)} (batch first)`,
      );
    }
    return [1, ...shape];
  });
}

function addBytes(into: Record<string, number>, from: Record<string, number>): void {
  for (const [dtype, b] of Object.entries(from)) into[dtype] = (into[dtype] ?? 0) + b;
}

/**
 * Profiles a tfjs-layers model for one example (batch 1): parameters, MACs, normalization MACs,
 * weight bytes and activation bytes per layer, totals, and the peak activation memory of a
 * forward pass. See the module documentation for every formula and the memory model.
 *
 * @example
 * ```ts
 * const p = profile(model, { inputShape: [101, 40, 1] });
 * console.log(p.total.params, p.total.macs, p.total.peakActivationBytes);
 * console.log(formatProfile(p));
 * ```
 * @throws KwsError `INVALID_ARGUMENT` if `model` is not a LayersModel, or `inputShape` is missing
 *   (for an input with unknown dimensions) or malformed; `SHAPE_MISMATCH` if `inputShape` does not
 *   fit the model; `MODEL_INVALID` for a model without inputs, or a layer whose output shape
 *   cannot be inferred or whose `countMacs` returns something else than finite numbers.
 */
export function profile(model: tfl.LayersModel, options?: ProfileOptions): ModelProfile {
  const m = checkModel(model);
  const opts = checkOptions('options', options);
  const inputShapes = resolveInputShapes(m, opts.inputShape);
  const ctx: Context = { rows: new Map(), warnings: [] };
  const { peak } = simulate(m, inputShapes, '', ctx);
  const layers: LayerProfile[] = [];
  const total: ProfileTotals = {
    params: 0,
    trainableParams: 0,
    macs: 0,
    normMacs: 0,
    weightBytes: {},
    peakActivationBytes: peak,
  };
  for (const { layer: _layer, ...row } of ctx.rows.values()) {
    layers.push(row);
    total.params += row.params;
    total.trainableParams += row.trainableParams;
    total.macs += row.macs;
    total.normMacs += row.normMacs;
    addBytes(total.weightBytes, row.weightBytes);
  }
  return { layers, total, inputShapes, warnings: ctx.warnings };
}

function formatCount(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = (int as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function formatBytes(b: Record<string, number>): string {
  const entries = Object.entries(b);
  if (entries.length === 0) return '0';
  if (entries.length === 1 && entries[0]?.[0] === 'float32') return formatCount(entries[0][1]);
  return entries.map(([dtype, n]) => `${formatCount(n)} ${dtype}`).join(' + ');
}

function sumBytes(b: Record<string, number>): number {
  return Object.values(b).reduce((s, v) => s + v, 0);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * Renders a {@link ModelProfile} as a markdown table (one row per layer and a total row),
 * followed by the peak activation memory, the input shapes and any warnings. Byte columns show
 * plain numbers for float32 weights and `n dtype + …` otherwise.
 */
export function formatProfile(p: ModelProfile): string {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.layers) || typeof p.total !== 'object') {
    throw new KwsError('INVALID_ARGUMENT', 'formatProfile needs the object returned by profile()');
  }
  const header = [
    '| layer | class | output shape | params | trainable | MACs | norm MACs | weight bytes | activation bytes |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const rows = p.layers.map(
    (l) =>
      `| ${cell(l.name)}${l.calls > 1 ? ` (×${l.calls})` : ''} | ${cell(l.className)} | ${showShape(l.outputShape)} | ${formatCount(
        l.params,
      )} | ${formatCount(l.trainableParams)} | ${formatCount(l.macs)} | ${formatCount(l.normMacs)} | ${formatBytes(
        l.weightBytes,
      )} | ${formatCount(l.activationBytes)} |`,
  );
  const t = p.total;
  const totalRow = `| **total** | | | ${formatCount(t.params)} | ${formatCount(t.trainableParams)} | ${formatCount(
    t.macs,
  )} | ${formatCount(t.normMacs)} | ${formatBytes(t.weightBytes)} | |`;
  const lines = [...header, ...rows, totalRow, ''];
  lines.push(
    `Peak activation memory (batch 1): ${formatCount(t.peakActivationBytes)} bytes; weights: ${formatCount(
      sumBytes(t.weightBytes),
    )} bytes; input ${p.inputShapes.map(showShape).join(', ')}.`,
  );
  for (const w of p.warnings) lines.push(`- warning: ${w}`);
  return lines.join('\n');
}
