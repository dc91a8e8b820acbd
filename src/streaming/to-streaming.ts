/**
 * `toStreaming(model)`: converts a trained causal conv keyword model (a `bcResNet({ causal: true })`
 * or another model built from kws-kit's layers) into its streaming form, a
 * {@link StreamingConvNet} that runs one feature frame at a time.
 *
 * The conversion reads the model's layer graph and weights once (later weight changes are not
 * seen) and compiles each layer into a per-frame op: causal time convolutions get a ring buffer
 * of their past inputs, normalisations are folded into a scale and shift, 1×1 convs (`Dense`)
 * become matrix-vector products. The time pooling (`GlobalAveragePooling2D`/`1D`) becomes a
 * mean over the last W frames, and the layers after it (the classifier) run once per output.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import {
  ACTIVATIONS,
  type ActivationName,
  CONV_RUNTIME_LAYERS,
  convModelInput,
  expandAffineNorm,
  foldNorm,
  INFERENCE_IDENTITY_LAYERS,
  invalidLayer,
  layerWeights,
  requireWeight,
  SpectralConv,
  singleCall,
  TemporalConv,
} from '../models/index.js';
import { checkInt, checkOptions } from '../validate.js';
import {
  ActivationOp,
  AddOp,
  AffineOp,
  CausalConvOp,
  DenseOp,
  type FrameOp,
  RowMeanOp,
} from './frame-ops.js';
import { StreamingConvNet } from './streaming-conv-net.js';

/** Options of {@link toStreaming}. */
export interface ToStreamingOptions {
  /**
   * Frames W averaged by the time pooling per output (integer in [1, 100000]). Default: the
   * model's input frames, or 101 (1 s of the default front end) for a model that takes any
   * number of frames.
   */
  windowFrames?: number;
}

/** Layer classes {@link toStreaming} converts: those `compileConvNet` compiles. */
export const STREAMABLE_LAYERS: readonly string[] = CONV_RUNTIME_LAYERS;

/** Frames averaged when the model's time axis is variable: `DEFAULT_WINDOW_FRAMES` of StreamingKWS. */
const VARIABLE_MODEL_WINDOW = 101;

/**
 * One frame of a layer output as the runtime stores it: a tensor `[batch, time, rows, cols]`
 * (rank 4) or `[batch, time, cols]` (rank 3, one row); after the time pooling `[batch, cols]`.
 */
interface FrameValue {
  buffer: Float64Array;
  rank: number;
  rows: number;
  cols: number;
  /** Computed after the time pooling (once per output, not per frame). */
  pooled: boolean;
  /** Input frames before the current one this value depends on. */
  past: number;
  /** Layer that produced the value (identity layers pass their input's producer on). */
  layer: string;
}

interface Program {
  frameOps: FrameOp[];
  headOps: FrameOp[];
  pool: { frame: FrameValue; headInput: Float64Array } | null;
}

type Layer = tfl.layers.Layer;

function nonCausalError(layer: Layer, before: number, after: number): KwsError {
  return invalidLayer(
    layer,
    `its time padding is not causal (${before} frames before, ${after} after): output frame t would ` +
      'need input frames after t, so the model cannot stream exactly frame by frame. Stateful streaming ' +
      "needs a causal model: build and train it with bcResNet({ causal: true }) (or timePadding 'causal' / " +
      "causal: true on every temporal conv), or use StreamingKWS mode 'window'",
  );
}

function convertSpectralConv(layer: SpectralConv, x: FrameValue): { op: CausalConvOp; value: FrameValue } {
  const g = layer.geometry();
  const [kt, kf] = g.kernel;
  const span = (kt - 1) * g.dilation[0];
  if (g.padTime[0] !== span || g.padTime[1] !== 0) throw nonCausalError(layer, g.padTime[0], g.padTime[1]);
  // A rank-3 spectrogram input [batch, time, freq] is one plane: freq rows, 1 channel.
  const inRows = x.rank === 3 ? x.cols : x.rows;
  const inChannels = x.rank === 3 ? 1 : x.cols;
  const channels = layer.filters;
  if (inChannels !== 1 && inChannels !== channels) {
    throw invalidLayer(layer, `input has ${inChannels} channels; expected 1 or ${channels}`);
  }
  const outRows =
    Math.floor((inRows + g.padFreq[0] + g.padFreq[1] - (kf - 1) * g.dilation[1] - 1) / g.freqStride) + 1;
  if (outRows < 1) throw invalidLayer(layer, `a ${kf}-bin kernel does not fit ${inRows} bins`);
  const w = layerWeights(layer);
  const op = new CausalConvOp({
    input: x.buffer,
    inRows,
    inChannels,
    channels,
    kernel: [kt, kf],
    dilation: g.dilation,
    rowStride: g.freqStride,
    padRowsBefore: g.padFreq[0],
    outRows,
    weights: requireWeight(layer, w, 'kernel', kt * kf * channels),
    bias: layer.useBias ? requireWeight(layer, w, 'bias', channels) : null,
  });
  return {
    op,
    value: { ...x, buffer: op.output, rank: 4, rows: outRows, cols: channels, past: x.past + span },
  };
}

function convertTemporalConv(layer: TemporalConv, x: FrameValue): { op: CausalConvOp; value: FrameValue } {
  const g = layer.geometry();
  const k = layer.kernelSize;
  const span = (k - 1) * layer.dilation;
  if (g.padTime[0] !== span || g.padTime[1] !== 0) throw nonCausalError(layer, g.padTime[0], g.padTime[1]);
  if (x.rank !== 4) throw invalidLayer(layer, 'expects a rank-4 input');
  const w = layerWeights(layer);
  const op = new CausalConvOp({
    input: x.buffer,
    inRows: x.rows,
    inChannels: x.cols,
    channels: x.cols,
    kernel: [k, 1],
    dilation: [layer.dilation, 1],
    rowStride: 1,
    padRowsBefore: 0,
    outRows: x.rows,
    weights: requireWeight(layer, w, 'kernel', k * x.cols),
    bias: layer.useBias ? requireWeight(layer, w, 'bias', x.cols) : null,
  });
  return { op, value: { ...x, buffer: op.output, past: x.past + span } };
}

/** SubSpectralNorm with its moving statistics: scale and shift per (sub-band, channel). */
function convertSubSpectralNorm(layer: Layer, x: FrameValue): AffineOp {
  const bands = layer.getConfig().subBands as number;
  if (x.rank !== 4 || x.rows % bands !== 0) {
    throw invalidLayer(
      layer,
      `${bands} sub-bands must divide the ${x.rows} frequency rows of a rank-4 input`,
    );
  }
  const { scale, offset } = expandAffineNorm(layer, foldNorm(layer, x.cols), x.rows);
  return new AffineOp(x.buffer, scale, offset);
}

/** Inference-mode BatchNormalization over the last axis: scale and shift per channel. */
function convertBatchNorm(layer: Layer, x: FrameValue): AffineOp {
  const axis = layer.getConfig().axis as number;
  const lastAxis = x.pooled ? 1 : x.rank - 1;
  if (axis !== -1 && axis !== lastAxis) {
    throw invalidLayer(layer, `normalises axis ${axis}; only the last (channel) axis can be streamed`);
  }
  const { scale, offset } = expandAffineNorm(layer, foldNorm(layer, x.cols), x.rows);
  return new AffineOp(x.buffer, scale, offset);
}

function activationName(layer: Layer, value: unknown): ActivationName {
  const name = typeof value === 'string' ? value : String(value);
  if (!(ACTIVATIONS as readonly string[]).includes(name)) {
    throw invalidLayer(
      layer,
      `activation "${name}" has no streaming form; supported: ${ACTIVATIONS.join(', ')}`,
    );
  }
  return name as ActivationName;
}

function convertDense(layer: Layer, x: FrameValue): DenseOp {
  const config = layer.getConfig();
  const units = config.units as number;
  const w = layerWeights(layer);
  const kernel = requireWeight(layer, w, 'kernel', x.cols * units);
  const bias = config.useBias === false ? null : requireWeight(layer, w, 'bias', units);
  return new DenseOp(x.buffer, x.rows, kernel, units, bias, activationName(layer, config.activation));
}

function convertAdd(layer: Layer, inputs: FrameValue[]): { op: AddOp; value: FrameValue } {
  const first = inputs[0] as FrameValue;
  const rows = Math.max(...inputs.map((v) => v.rows));
  for (const v of inputs) {
    if (
      v.rank !== first.rank ||
      v.cols !== first.cols ||
      v.pooled !== first.pooled ||
      (v.rows !== rows && v.rows !== 1)
    ) {
      throw invalidLayer(layer, 'its inputs must have the same channels and rows (or 1 row, broadcast)');
    }
  }
  const op = new AddOp(
    inputs.map((v) => v.buffer),
    rows,
    first.cols,
  );
  const past = Math.max(...inputs.map((v) => v.past));
  return { op, value: { ...first, buffer: op.output, rows, past } };
}

/** Converts one layer call, appending its op to the frame or head program; returns its value. */
function convertLayer(layer: Layer, inputs: FrameValue[], program: Program): FrameValue {
  const cls = layer.getClassName();
  if (cls === 'Add') {
    if (inputs.length < 2) throw invalidLayer(layer, 'needs at least two inputs');
    const { op, value } = convertAdd(layer, inputs);
    ((inputs[0] as FrameValue).pooled ? program.headOps : program.frameOps).push(op);
    return { ...value, layer: layer.name };
  }
  if (inputs.length !== 1) throw invalidLayer(layer, `takes one input; got ${inputs.length}`);
  const x = inputs[0] as FrameValue;
  if (INFERENCE_IDENTITY_LAYERS.has(cls)) return x;
  if (cls === 'GlobalAveragePooling2D' || cls === 'GlobalAveragePooling1D') {
    if (program.pool !== null) throw invalidLayer(layer, 'only one time pooling per model can be streamed');
    const config = layer.getConfig();
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
      throw invalidLayer(layer, 'only channelsLast pooling can be streamed');
    }
    if (x.pooled || x.rank !== (cls === 'GlobalAveragePooling2D' ? 4 : 3)) {
      throw invalidLayer(layer, 'expects a time-resolved input of the matching rank');
    }
    const headInput = new Float64Array(x.cols);
    program.pool = { frame: x, headInput };
    return {
      buffer: headInput,
      rank: 2,
      rows: 1,
      cols: x.cols,
      pooled: true,
      past: x.past,
      layer: layer.name,
    };
  }
  const ops = x.pooled ? program.headOps : program.frameOps;
  const emit = (op: FrameOp, value: Partial<FrameValue> = {}): FrameValue => {
    ops.push(op);
    return { ...x, buffer: op.output, ...value, layer: layer.name };
  };
  const timeResolved = (): void => {
    if (x.pooled)
      throw invalidLayer(layer, 'comes after the time pooling, where only per-vector layers can be streamed');
  };
  switch (cls) {
    case 'SpectralConv': {
      timeResolved();
      if (!(layer instanceof SpectralConv)) throw invalidLayer(layer, 'is not kws-kit SpectralConv');
      const { op, value } = convertSpectralConv(layer, x);
      return emit(op, value);
    }
    case 'TemporalConv': {
      timeResolved();
      if (!(layer instanceof TemporalConv)) throw invalidLayer(layer, 'is not kws-kit TemporalConv');
      const { op, value } = convertTemporalConv(layer, x);
      return emit(op, value);
    }
    case 'SubSpectralNorm':
      timeResolved();
      return emit(convertSubSpectralNorm(layer, x));
    case 'FrequencyMean':
      timeResolved();
      if (x.rank !== 4) throw invalidLayer(layer, 'expects a rank-4 input');
      return emit(new RowMeanOp(x.buffer, x.rows, x.cols), { rows: 1 });
    case 'BatchNormalization':
      return emit(convertBatchNorm(layer, x));
    case 'Dense': {
      const op = convertDense(layer, x);
      return emit(op, { cols: op.output.length / x.rows });
    }
    case 'ReLU': {
      const maxValue = layer.getConfig().maxValue;
      return emit(new ActivationOp(x.buffer, x.cols, 'relu', typeof maxValue === 'number' ? maxValue : null));
    }
    case 'Activation':
      return emit(new ActivationOp(x.buffer, x.cols, activationName(layer, layer.getConfig().activation)));
    default:
      throw invalidLayer(
        layer,
        `this layer class has no streaming form; toStreaming supports ${STREAMABLE_LAYERS.join(', ')}`,
      );
  }
}

/**
 * Converts a trained causal conv keyword model into its streaming form, a
 * {@link StreamingConvNet} (per-frame plain-TypeScript runtime; no tensors).
 *
 * Supported models: one input `[batch, time, mels]` or `[batch, time, mels, 1]`; a frame stack
 * of kws-kit `SpectralConv` / `TemporalConv` with causal time padding (`bcResNet({ causal: true })`),
 * `SubSpectralNorm`, `BatchNormalization`, `FrequencyMean`, `Dense` (1×1 convs), `ReLU`,
 * `Activation`, `Add` (with broadcast over frequency) and dropouts (identity at inference); one
 * `GlobalAveragePooling2D` (or `1D`) over time; then `Dense` / activation / normalisation layers
 * giving `[batch, classes]`. The frame stack must be causal: with 'same' time padding a frame's
 * output needs future frames and the conversion throws (see below).
 *
 * Exactness: frame outputs equal the layers model's frame layer on the whole stream, and the
 * first window's logits equal `model.predict` on it, to float32 rounding (measured ≤ 1e-5; see
 * {@link StreamingConvNet} for later windows).
 *
 * @param model a built tfjs-layers model (e.g. `bcResNet({ causal: true })` after training or
 *   `loadModel`). Its weights are copied: later changes to the model are not seen.
 * @throws KwsError `INVALID_ARGUMENT` for a non-model or bad options; `MODEL_INVALID` for a model
 *   the runtime cannot stream: non-causal time padding (train with `causal: true`, or use
 *   window mode), a layer class it does not know, shared layers, several inputs or outputs, no
 *   time pooling.
 */
export function toStreaming(model: tfl.LayersModel, options?: ToStreamingOptions): StreamingConvNet {
  const m = model as unknown as Partial<tfl.LayersModel> | null;
  if (m === null || typeof m !== 'object' || !Array.isArray(m.layers) || !Array.isArray(m.inputs)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'model must be a tfjs-layers LayersModel (tf.model / tf.sequential)',
    );
  }
  const o = checkOptions('options', options);
  const { tensor: input, rank, frames, bins } = convModelInput(model, 'toStreaming');
  const windowFrames = checkInt('windowFrames', o.windowFrames ?? frames ?? VARIABLE_MODEL_WINDOW, 1, 100000);

  const inputBuffer = new Float64Array(bins);
  const values = new Map<number, FrameValue>();
  values.set(input.id, {
    buffer: inputBuffer,
    rank,
    rows: rank === 3 ? 1 : bins,
    cols: rank === 3 ? bins : 1,
    pooled: false,
    past: 0,
    layer: input.sourceLayer.name,
  });
  const program: Program = { frameOps: [], headOps: [], pool: null };
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = singleCall(layer, 'toStreaming');
    const inputs = node.inputTensors.map((t) => {
      const v = values.get(t.id);
      if (v === undefined)
        throw invalidLayer(layer, `its input ${t.name} is not computed from the model input`);
      return v;
    });
    values.set((node.outputTensors[0] as tfl.SymbolicTensor).id, convertLayer(layer, inputs, program));
  }
  const output = values.get((model.outputs[0] as tfl.SymbolicTensor).id);
  if (program.pool === null || output === undefined || !output.pooled || output.rank !== 2) {
    throw new KwsError(
      'MODEL_INVALID',
      'toStreaming needs a model that pools its time axis once (GlobalAveragePooling2D/1D) and outputs ' +
        '[batch, classes] computed from the pooled features',
    );
  }
  const { frame, headInput } = program.pool;
  return new StreamingConvNet({
    bins,
    input: inputBuffer,
    frameOps: program.frameOps,
    frameLayer: frame.layer,
    frame: frame.buffer,
    frameRows: frame.rows,
    frameCols: frame.cols,
    headInput,
    headOps: program.headOps,
    headOutput: output.buffer,
    receptiveField: frame.past,
    windowFrames,
  });
}
