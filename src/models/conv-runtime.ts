/**
 * A compiled inference engine for kws-kit's convolutional keyword models (BC-ResNet of any width,
 * causal or not, and other graphs of the same layers) in plain TypeScript: no tensors, no
 * backend, every buffer allocated at compile time (calls allocate only the logits they return,
 * and nothing when given an output array).
 *
 * Why: tfjs-layers runs BC-ResNet-1 as ~150 small kernels per clip, and their dispatch, not the
 * 2.5 M multiply-adds, sets its latency (3–7 ms on the wasm backend, 70+ ms on cpu).
 * {@link compileConvNet} walks the model's layer graph once and turns it into a program of about
 * 50 fused steps:
 *
 * - an inference-mode BatchNormalization / SubSpectralNorm after a convolution or `Dense` is
 *   folded into its weights and bias (one scaled copy of the weights per sub-band for
 *   SubSpectralNorm), exact because both are affine; one that cannot be folded becomes a
 *   multiply-add per element;
 * - a ReLU after a convolution, `Dense`, `Add` or normalisation is applied as the producer stores
 *   its output; other activations (SiLU, a clip) run over the output right after;
 * - BC-ResNet's block is rewritten: its 3-tap frequency convolution `f2` is never stored. The
 *   block's `FrequencyMean(f2)` is, like `f2`, linear in the block input, so it is computed
 *   directly from the input with per-row effective weights (and, when the input comes from the
 *   previous block, inside the previous block's last step), and the residual sum
 *   `ReLU(x + f2 + broadcast(f1))` computes `f2` on the fly, with the identity `x` folded into
 *   the centre tap: one pass over the block's feature map instead of four;
 * - dropout layers are the identity and vanish.
 *
 * Kernels (`conv-kernels.ts`) are float64 loops (JavaScript's own number type, so logits match
 * tfjs' float32 kernels to float32 rounding, about 1e-6) shaped by what V8 does well: typed-array
 * loads cost several instructions each (map, bounds and base checks are not hoisted out of
 * loops), local variables are free, and a call or an unpredictable branch in a hot loop is
 * expensive. So `Dense` (the 1×1 convolutions) is a weight-stationary matrix product: per block
 * of four output channels and chunk of eight inputs, 32 weights in locals while a tile of rows
 * streams through (`matRowsStationary`); the 5×5 convolutions (stem and classifier) keep their
 * 25 weights in locals and stream each input frame once through a shift register of partial
 * sums; the block's frequency convolution keeps five rows' weights in locals and runs over frames
 * innermost; ReLU is branch-free (in the stem and the 1×1 convolutions with the weights halved,
 * so that it costs one addition); the temporal convolution applies its SiLU as it stores, with a
 * table-based `exp`. Intermediate buffers are shared between values not alive at the same time.
 *
 * BC-ResNet-1 on one core here: 1.33 ms per 1 s clip with the previous kernels (tfjs-layers on
 * wasm 2.96 ms, PyTorch 1.13 at one thread 2.04 ms; bench/bc-resnet-inference.ts); the kernels
 * above take 0.80× that time (interleaved A/B in one process).
 *
 * @packageDocumentation
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkFinite, checkInt, checkOptions } from '../validate.js';
import { ACTIVATIONS, type ActivationName, applyActivation } from './activations.js';
import { convModelInput, singleCall } from './conv-graph.js';
import {
  addInto,
  affine,
  type ConvGeometry,
  type ConvKernel,
  clipAbove,
  conv5x5,
  depthwiseConv,
  frameTapRanges,
  freqConvMean,
  freqConvMeanWeights,
  frequencyMean,
  meanPositions,
  padFrames,
  planeConv,
  planeWindowRows,
  type ResidualOperands,
  reluAll,
  residualFreqConv,
  rowTapRanges,
  timeConv,
  timeConv3Silu,
  timeConvSilu,
} from './conv-kernels.js';
import {
  type AffineNorm,
  expandAffineNorm,
  foldNorm,
  invalidLayer,
  isFoldableNorm,
  layerWeights,
  requireWeight,
} from './folded-norm.js';
import { CONV_RUNTIME_LAYERS, INFERENCE_IDENTITY_LAYERS } from './inference-layers.js';
import { SpectralConv } from './layers/spectral-conv.js';
import { axisOutputSize } from './layers/tap-conv.js';
import { TemporalConv } from './layers/temporal-conv.js';
import { convTapPanels, matRowsStationary, toPanels } from './panel-matmul.js';

export { CONV_RUNTIME_LAYERS } from './inference-layers.js';

// ───────────────────────────── public types ─────────────────────────────

/** Options of {@link compileConvNet}. */
export interface CompileConvNetOptions {
  /**
   * Frames per example for a model whose input time axis is variable (`inputShape: [null, …]`),
   * integer in [1, 100000]. Default 101 (1 s of the default front end). A model with a fixed
   * time axis takes exactly its own frames; giving another number throws `INVALID_ARGUMENT`.
   */
  frames?: number;
}

/**
 * A compiled conv keyword model (see {@link compileConvNet}). Single-threaded: buffers are
 * shared between calls. Holds no tensors; nothing to dispose.
 */
export interface ConvNetRuntime {
  /** Frames per example (101 for the default BC-ResNet). */
  readonly frames: number;
  /** Frequency bins per frame (40). */
  readonly bins: number;
  /** Logits per example. */
  readonly numClasses: number;
  /**
   * Multiply-accumulates of one example in the model's convolutions and dense layers, counted as
   * kws-kit's `profile` counts them (normalisation, which the runtime folds away, excluded).
   */
  readonly macs: number;
  /** Number of fused steps the model compiled to (for diagnostics). */
  readonly steps: number;

  /**
   * Logits of one example.
   *
   * @param features - log-mel features, frame-major `[frames, bins]` (`frames · bins` values)
   * @param out - optional `Float32Array` of `numClasses` values to write the logits into
   *   (no allocation); default: a new array
   * @returns `out`, or a new `Float32Array` `[numClasses]`
   * @throws KwsError `INVALID_ARGUMENT` for a non-Float32Array, `SHAPE_MISMATCH` for a wrong
   *   length of `features` or `out`, `NON_FINITE_INPUT` for NaN/±Infinity in `features`
   */
  predict(features: Float32Array, out?: Float32Array): Float32Array;
  /**
   * Logits of `count` examples, each computed exactly as by {@link ConvNetRuntime.predict}.
   *
   * @param features - `[count, frames, bins]` row-major
   * @param count - examples, integer ≥ 1
   * @param out - optional `Float32Array` of `count · numClasses` values to write into
   * @returns `out`, or a new `Float32Array` `[count, numClasses]`
   * @throws KwsError as {@link ConvNetRuntime.predict}, and `INVALID_ARGUMENT` for a `count`
   *   that is not an integer ≥ 1
   */
  predictBatch(features: Float32Array, count: number, out?: Float32Array): Float32Array;
}

// ───────────────────────────── compiled program ─────────────────────────────

/** One fused step of the program, bound to its buffers. */
interface Step {
  run(): void;
}

/**
 * An activation split for fusion: a ReLU applied as the producer stores (`relu`), an upper clip
 * (`hi`, +∞ for none) and any other activation (`post`) applied to the output afterwards.
 */
interface Activation {
  readonly relu: boolean;
  readonly hi: number;
  readonly post: ActivationName | null;
}

const IDENTITY: Activation = { relu: false, hi: Number.POSITIVE_INFINITY, post: null };

function isIdentity(a: Activation): boolean {
  return !a.relu && a.post === null && a.hi === Number.POSITIVE_INFINITY;
}

/** Applies the parts of `act` the producing kernel did not (clip, `post`) to `y[0…size)`. */
function finish(y: Float64Array, size: number, cols: number, act: Activation, reluDone: boolean): void {
  if (act.relu && !reluDone) reluAll(y, size);
  if (act.hi !== Number.POSITIVE_INFINITY) clipAbove(y, size, act.hi);
  if (act.post !== null) applyActivation(y, cols, act.post, null, 0, size);
}

/**
 * A 3-tap frequency convolution whose output is not stored: its `FrequencyMean` is computed from
 * its input and the `Add` reading it computes it on the fly (see `residualFreqConv`).
 */
interface DeferredConv {
  /** The convolution's input. */
  readonly input: Value;
  /** Geometry, folded weights `[groups, 3, C]` and bias `[groups, C]`. */
  readonly k: ConvKernel;
  readonly macs: number;
}

/** The next block's frequency mean computed by a residual step (weights of `freqConvMean`). */
interface FusedMean {
  readonly value: Value;
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/** A layer output as the runtime stores it: `[frames, rows, channels]` channels-last. */
interface Value {
  readonly id: number;
  readonly frames: number;
  readonly rows: number;
  readonly channels: number;
  /** Rank of the tfjs tensor, batch included: 4 `[b, T, R, C]`, 3 `[b, T, C]` (rows 1), 2 `[b, C]`. */
  readonly rank: number;
  /** After the time pooling. */
  readonly pooled: boolean;
  /** Set when the value is a convolution computed only inside its consumer (no buffer). */
  readonly deferred?: DeferredConv;
}

type Shape = Omit<Value, 'id' | 'deferred'>;

function sizeOf(v: Shape): number {
  return v.frames * v.rows * v.channels;
}

/**
 * Makes the `run` of a step with one input once buffers are assigned: from the input's, the
 * output's and a fused frequency mean's (or null).
 */
type RunFactory = (xb: Float64Array, yb: Float64Array, mb: Float64Array | null) => () => void;

/** A step before buffers are assigned: which values it reads and writes, and how to build it. */
interface PlannedStep {
  readonly inputs: readonly number[];
  /** Grows when a later layer's computation is folded into this step. */
  readonly outputs: number[];
  readonly macs: number;
  build(buffer: (id: number) => Float64Array): Step;
}

const NO_FEATURES = /* @__PURE__ */ new Float32Array(0);

/** Copies one example's features (float32) into the input value (float64). */
class InputStep implements Step {
  source: Float32Array = NO_FEATURES;
  offset = 0;
  constructor(
    private readonly y: Float64Array,
    private readonly size: number,
  ) {}
  run(): void {
    const { source, offset, y, size } = this;
    for (let k = 0; k < size; k++) y[k] = source[offset + k] as number;
  }
}

// ───────────────────────────── layer reading ─────────────────────────────

type Layer = tfl.layers.Layer;

/** The activation named `name` (tfjs-layers' names), with an upper clip `maxValue` for a ReLU. */
function activationOf(layer: Layer, name: unknown, maxValue: unknown = null): Activation {
  const kind = typeof name === 'string' ? name : String(name);
  const hi = typeof maxValue === 'number' ? maxValue : Number.POSITIVE_INFINITY;
  if (kind === 'linear') return IDENTITY;
  if (kind === 'relu') return { relu: true, hi, post: null };
  if (kind === 'relu6') return { relu: true, hi: Math.min(6, hi), post: null };
  if (!(ACTIVATIONS as readonly string[]).includes(kind)) {
    throw invalidLayer(layer, `activation "${kind}" is not supported; supported: ${ACTIVATIONS.join(', ')}`);
  }
  return { relu: false, hi: Number.POSITIVE_INFINITY, post: kind as ActivationName };
}

/** The activation a `ReLU` or `Activation` layer applies, or null for other classes. */
function activationLayer(layer: Layer): Activation | null {
  const config = layer.getConfig();
  const cls = layer.getClassName();
  if (cls === 'ReLU') return activationOf(layer, 'relu', config.maxValue);
  if (cls === 'Activation') return activationOf(layer, config.activation);
  return null;
}

/**
 * Per-channel convolution weights `[kt·kf, C]` and bias with a normalisation folded in:
 * `W'[g, k, c] = W[k, c] · scale[g, c]`, `b'[g, c] = b[c] · scale[g, c] + offset[g, c]`
 * (one copy per sub-band `g` for a SubSpectralNorm).
 */
function foldConv(
  kernel: Float64Array,
  bias: Float64Array | null,
  channels: number,
  norm: AffineNorm | null,
): { groups: number; kernel: Float64Array; bias: Float64Array } {
  if (norm === null) return { groups: 1, kernel, bias: bias ?? new Float64Array(channels) };
  const taps = kernel.length / channels;
  const groups = norm.groups;
  const k = new Float64Array(groups * kernel.length);
  const b = new Float64Array(groups * channels);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < channels; c++) {
      const s = norm.scale[g * channels + c] as number;
      const shift = norm.offset[g * channels + c] as number;
      b[g * channels + c] = (bias === null ? 0 : (bias[c] as number)) * s + shift;
      for (let t = 0; t < taps; t++) {
        k[g * kernel.length + t * channels + c] = (kernel[t * channels + c] as number) * s;
      }
    }
  }
  return { groups, kernel: k, bias: b };
}

/** Whether a depthwise geometry is BC-ResNet's 3-tap frequency convolution. */
function isFreqConv3(g: ConvGeometry): boolean {
  return g.kt === 1 && g.kf === 3 && g.df === 1 && g.padRows === 1;
}

// ───────────────────────────── graph compiler ─────────────────────────────

/** Walks the layer graph in order and plans the fused steps. */
class Compiler {
  readonly values: Value[] = [];
  readonly steps: PlannedStep[] = [];
  /** tfjs symbolic tensor id → value id. */
  private readonly valueOf = new Map<number, number>();
  /** Identity-layer output tensor id → the tensor id it passes on. */
  private readonly alias = new Map<number, number>();
  /** Resolved tensor id → the (non-identity) layers reading it. */
  private readonly consumers = new Map<number, Layer[]>();
  /** Layers already compiled into an earlier step. */
  private readonly absorbed = new Set<Layer>();
  /**
   * Residual steps by the value they write: each can also compute the next block's frequency
   * mean (see `residualFreqConv`), which a later {@link Compiler.deferConv} fills in.
   */
  private readonly residualSteps = new Map<number, { step: PlannedStep; mean: FusedMean | null }>();
  private readonly outputTensor: number;

  constructor(private readonly model: tfl.LayersModel) {
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      const node = singleCall(layer, 'compileConvNet');
      if (INFERENCE_IDENTITY_LAYERS.has(layer.getClassName())) {
        if (node.inputTensors.length !== 1) throw invalidLayer(layer, 'takes one input');
        this.alias.set(
          (node.outputTensors[0] as tfl.SymbolicTensor).id,
          (node.inputTensors[0] as tfl.SymbolicTensor).id,
        );
      }
    }
    for (const layer of model.layers) {
      const cls = layer.getClassName();
      if (cls === 'InputLayer' || INFERENCE_IDENTITY_LAYERS.has(cls)) continue;
      for (const t of (layer.inboundNodes[0] as { inputTensors: tfl.SymbolicTensor[] }).inputTensors) {
        const id = this.resolve(t.id);
        const list = this.consumers.get(id) ?? [];
        list.push(layer);
        this.consumers.set(id, list);
      }
    }
    this.outputTensor = this.resolve((model.outputs[0] as tfl.SymbolicTensor).id);
  }

  private resolve(id: number): number {
    let r = id;
    for (let next = this.alias.get(r); next !== undefined; next = this.alias.get(r)) r = next;
    return r;
  }

  private newValue(shape: Shape, deferred?: DeferredConv): Value {
    // Only the shape fields: `shape` may be another Value (spread), whose id and deferral are its own.
    const { frames, rows, channels, rank, pooled } = shape;
    const v: Value = { id: this.values.length, frames, rows, channels, rank, pooled, deferred };
    this.values.push(v);
    return v;
  }

  /**
   * Plans a step reading `x` and writing `y` (and `mean`, a fused frequency mean, when given):
   * `make` receives their buffers once assigned and returns the step's `run`.
   */
  private unary(x: Value, y: Value, macs: number, make: RunFactory, mean: Value | null = null): void {
    this.steps.push({
      inputs: [x.id],
      outputs: mean === null ? [y.id] : [y.id, mean.id],
      macs,
      build: (buffer) => ({ run: make(buffer(x.id), buffer(y.id), mean === null ? null : buffer(mean.id)) }),
    });
  }

  private setValue(tensor: tfl.SymbolicTensor, v: Value): void {
    this.valueOf.set(this.resolve(tensor.id), v.id);
  }

  private valueFor(layer: Layer, t: tfl.SymbolicTensor): Value {
    const id = this.valueOf.get(this.resolve(t.id));
    if (id === undefined)
      throw invalidLayer(layer, `its input ${t.name} is not computed from the model input`);
    return this.values[id] as Value;
  }

  /** The output tensor of `layer`'s only call. */
  private static outputOf(layer: Layer): tfl.SymbolicTensor {
    return (layer.inboundNodes[0] as { outputTensors: tfl.SymbolicTensor[] })
      .outputTensors[0] as tfl.SymbolicTensor;
  }

  private readers(tensor: tfl.SymbolicTensor): Layer[] {
    return this.consumers.get(this.resolve(tensor.id)) ?? [];
  }

  /** The single layer reading `tensor`, when it is not also the model output. */
  private soleConsumer(tensor: tfl.SymbolicTensor): Layer | null {
    if (this.resolve(tensor.id) === this.outputTensor) return null;
    const list = this.readers(tensor);
    return list.length === 1 ? (list[0] as Layer) : null;
  }

  private static lastAxis(layer: Layer, rank: number): boolean {
    const axis = layer.getConfig().axis;
    return axis === -1 || axis === rank - 1;
  }

  /**
   * If the only reader of `tensor` is a normalisation over the last axis of a rank-`rank` tensor
   * that can fold into its producer (a SubSpectralNorm only when `rows` allow sub-band weight
   * copies), absorbs it: returns its folding and its output tensor.
   */
  private takeNorm(
    tensor: tfl.SymbolicTensor,
    channels: number,
    rank: number,
    rows: number | null,
  ): { norm: AffineNorm; tensor: tfl.SymbolicTensor } | null {
    const next = this.soleConsumer(tensor);
    if (next === null || !isFoldableNorm(next)) return null;
    if (next.getClassName() === 'SubSpectralNorm') {
      const bands = next.getConfig().subBands as number;
      if (rows === null || rank !== 4 || rows % bands !== 0) return null;
    } else if (!Compiler.lastAxis(next, rank)) return null;
    this.absorbed.add(next);
    return { norm: foldNorm(next, channels), tensor: Compiler.outputOf(next) };
  }

  /** Absorbs a `ReLU`/`Activation` layer that is the only reader of `tensor` into its producer. */
  private fuseActivation(
    tensor: tfl.SymbolicTensor,
    act: Activation,
  ): { act: Activation; tensor: tfl.SymbolicTensor } {
    if (!isIdentity(act)) return { act, tensor };
    const next = this.soleConsumer(tensor);
    const fused = next === null ? null : activationLayer(next);
    if (next === null || fused === null) return { act, tensor };
    this.absorbed.add(next);
    return { act: fused, tensor: Compiler.outputOf(next) };
  }

  compile(frames: number, bins: number, inputRank: number): number {
    const input = this.model.inputs[0] as tfl.SymbolicTensor;
    const x = this.newValue({
      frames,
      rows: inputRank === 3 ? 1 : bins,
      channels: inputRank === 3 ? bins : 1,
      rank: inputRank,
      pooled: false,
    });
    this.setValue(input, x);
    const size = sizeOf(x);
    this.steps.push({
      inputs: [],
      outputs: [x.id],
      macs: 0,
      build: (buffer) => new InputStep(buffer(x.id), size),
    });
    for (const layer of this.model.layers) {
      const cls = layer.getClassName();
      if (cls === 'InputLayer' || INFERENCE_IDENTITY_LAYERS.has(cls) || this.absorbed.has(layer)) continue;
      const node = layer.inboundNodes[0] as { inputTensors: tfl.SymbolicTensor[] };
      const inputs = node.inputTensors.map((t) => this.valueFor(layer, t));
      this.layer(layer, inputs);
    }
    const id = this.valueOf.get(this.outputTensor);
    const out = id === undefined ? undefined : this.values[id];
    if (out === undefined || !out.pooled || out.deferred !== undefined) {
      throw new KwsError(
        'MODEL_INVALID',
        `compileConvNet: model "${this.model.name}" must output [batch, classes] computed after a time ` +
          'pooling (GlobalAveragePooling2D/1D)',
      );
    }
    return out.id;
  }

  private layer(layer: Layer, given: Value[]): void {
    const cls = layer.getClassName();
    if (cls === 'Add') {
      this.add(layer, given);
      return;
    }
    const inputs = given.map((v) => this.materialize(v));
    if (inputs.length !== 1) throw invalidLayer(layer, `takes one input; got ${inputs.length}`);
    const x = inputs[0] as Value;
    const timeResolved = (): void => {
      if (x.pooled) throw invalidLayer(layer, 'comes after the time pooling, where it is not supported');
    };
    switch (cls) {
      case 'SpectralConv':
      case 'TemporalConv':
        timeResolved();
        this.conv(layer, x);
        return;
      case 'Dense':
        this.dense(layer, x);
        return;
      case 'BatchNormalization':
      case 'SubSpectralNorm':
        this.norm(layer, x);
        return;
      case 'ReLU':
      case 'Activation':
        this.activation(layer, x);
        return;
      case 'FrequencyMean':
        timeResolved();
        this.frequencyMean(layer, x);
        return;
      case 'GlobalAveragePooling2D':
      case 'GlobalAveragePooling1D':
        this.pool(layer, x);
        return;
      default:
        throw invalidLayer(
          layer,
          `this layer class is not supported by compileConvNet; supported: ${CONV_RUNTIME_LAYERS.join(', ')}`,
        );
    }
  }

  private conv(layer: Layer, x: Value): void {
    if (!(layer instanceof SpectralConv) && !(layer instanceof TemporalConv)) {
      throw invalidLayer(layer, 'is not a kws-kit layer of that name (registerKwsLayers() not in effect?)');
    }
    const geometry = layer.geometry();
    const [kt, kf] = geometry.kernel;
    const [dt, df] = geometry.dilation;
    // A rank-3 spectrogram input [batch, time, freq] is one plane: freq rows, 1 channel.
    const plane = x.rank === 3;
    if (!plane && x.rank !== 4) throw invalidLayer(layer, 'expects a rank-4 input');
    const rows = plane ? x.channels : x.rows;
    const inChannels = plane ? 1 : x.channels;
    const channels = layer instanceof SpectralConv ? layer.filters : inChannels;
    if (inChannels !== 1 && inChannels !== channels) {
      throw invalidLayer(layer, `input has ${inChannels} channels; expected 1 or ${channels}`);
    }
    const outFrames = axisOutputSize(x.frames, kt, dt, 1, geometry.padTime);
    const outRows = axisOutputSize(rows, kf, df, geometry.freqStride, geometry.padFreq);
    if (outFrames < 1 || outRows < 1) {
      throw invalidLayer(
        layer,
        `a ${kt}×${kf} kernel does not fit an input of ${x.frames} frames × ${rows} rows`,
      );
    }
    const w = layerWeights(layer);
    const kernel = requireWeight(layer, w, 'kernel', kt * kf * channels);
    const bias = layer.useBias ? requireWeight(layer, w, 'bias', channels) : null;
    let tensor = Compiler.outputOf(layer);
    const folded = this.takeNorm(tensor, channels, 4, outRows);
    if (folded !== null) tensor = folded.tensor;
    const fused = this.fuseActivation(tensor, IDENTITY);
    tensor = fused.tensor;
    const weights = foldConv(kernel, bias, channels, folded?.norm ?? null);
    const g: ConvGeometry = {
      frames: x.frames,
      rows,
      outFrames,
      outRows,
      channels,
      kt,
      kf,
      dt,
      df,
      stride: geometry.freqStride,
      padTime: geometry.padTime[0],
      padRows: geometry.padFreq[0],
      rowsPerGroup: outRows / weights.groups,
    };
    const k: ConvKernel = { g, w: weights.kernel, bias: weights.bias };
    const shape: Shape = { frames: outFrames, rows: outRows, channels, rank: 4, pooled: false };
    const macs = outFrames * outRows * channels * kt * kf;
    if (
      inChannels !== 1 &&
      isIdentity(fused.act) &&
      isFreqConv3(g) &&
      this.deferConv(tensor, x, k, shape, macs)
    ) {
      return;
    }
    const y = this.newValue(shape);
    this.setValue(tensor, y);
    const mean = inChannels === 1 ? null : this.takeFrequencyMean(tensor, shape);
    const act = fused.act;
    const run =
      kt === 5 && kf === 5 && dt === 1 && df === 1
        ? Compiler.conv5x5(k, inChannels, act)
        : inChannels === 1
          ? Compiler.planeConv(k, weights.groups, act)
          : Compiler.depthwise(k, act);
    this.unary(x, y, macs, run, mean);
  }

  /** A `FrequencyMean` reading `tensor`, absorbed, with a value for its output; or null. */
  private takeFrequencyMean(tensor: tfl.SymbolicTensor, shape: Shape): Value | null {
    const mean = this.readers(tensor).find((l) => l.getClassName() === 'FrequencyMean');
    if (mean === undefined) return null;
    this.absorbed.add(mean);
    const v = this.newValue({ ...shape, rows: 1 });
    this.setValue(Compiler.outputOf(mean), v);
    return v;
  }

  /**
   * BC-ResNet's block pattern: a 3-tap frequency convolution (normalisation folded, no
   * activation) read by exactly one `FrequencyMean` and one `Add`. Its output is then never
   * stored: the mean is computed from the convolution's input (one step here) and the `Add`
   * computes the convolution on the fly ({@link Compiler.add}). Returns false if the pattern does
   * not apply.
   */
  private deferConv(
    tensor: tfl.SymbolicTensor,
    x: Value,
    k: ConvKernel,
    shape: Shape,
    macs: number,
  ): boolean {
    if (this.resolve(tensor.id) === this.outputTensor) return false;
    const readers = this.readers(tensor);
    if (
      readers.length !== 2 ||
      !readers.some((l) => l.getClassName() === 'FrequencyMean') ||
      !readers.some((l) => l.getClassName() === 'Add')
    ) {
      return false;
    }
    this.setValue(tensor, this.newValue(shape, { input: x, k, macs }));
    const m = this.takeFrequencyMean(tensor, shape) as Value;
    const { weights: weff, bias: beff } = freqConvMeanWeights(k);
    const producer = this.residualSteps.get(x.id);
    if (producer !== undefined && producer.mean === null) {
      producer.mean = { value: m, weights: weff, bias: beff };
      producer.step.outputs.push(m.id);
      return true;
    }
    const { frames, rows, channels } = k.g;
    this.unary(x, m, 0, (xb, mb) => () => freqConvMean(xb, frames, rows, channels, weff, beff, mb));
    return true;
  }

  /** Stores a deferred convolution after all (a reader that cannot compute it on the fly). */
  private materialize(v: Value): Value {
    const d = v.deferred;
    if (d === undefined) return v;
    const y = this.newValue(v);
    this.valueOf.forEach((id, tensor) => {
      if (id === v.id) this.valueOf.set(tensor, y.id);
    });
    this.unary(d.input, y, d.macs, Compiler.depthwise(d.k, IDENTITY));
    return y;
  }

  /**
   * The `run` of a per-channel convolution step (depthwise, or along time only) with its
   * activation and, when the step has one, a fused frequency mean of its output.
   */
  private static depthwise(k: ConvKernel, act: Activation): RunFactory {
    const g = k.g;
    const { outFrames, outRows, channels } = g;
    const size = outFrames * outRows * channels;
    // A convolution along time only runs over whole frames; a SiLU alone (BC-ResNet's) is applied
    // as the kernel stores, other activations beyond a ReLU after it, and a fused frequency mean
    // after them.
    if (g.kf === 1 && g.stride === 1 && g.padRows === 0) {
      if (act.post === 'swish' && !act.relu && act.hi === Number.POSITIVE_INFINITY) {
        // BC-ResNet's three taps call their kernel alone, which V8 compiles best.
        const three = g.kt === 3;
        return (xb, yb, mb) =>
          three && mb === null
            ? () => timeConv3Silu(xb, k, yb)
            : () => {
                timeConvSilu(xb, k, yb);
                if (mb !== null) frequencyMean(yb, outFrames, outRows, channels, mb);
              };
      }
      return (xb, yb, mb) => () => {
        timeConv(xb, k, yb, act.relu);
        finish(yb, size, channels, act, true);
        if (mb !== null) frequencyMean(yb, outFrames, outRows, channels, mb);
      };
    }
    const kernelMean = act.hi === Number.POSITIVE_INFINITY && act.post === null;
    const frameTaps = frameTapRanges(g);
    const rowTaps = rowTapRanges(g);
    return (xb, yb, mb) => () => {
      depthwiseConv(xb, k, frameTaps, rowTaps, yb, act.relu, kernelMean ? mb : null);
      finish(yb, size, channels, act, true);
      if (mb !== null && !kernelMean) frequencyMean(yb, outFrames, outRows, channels, mb);
    };
  }

  /** The `run` of a 5×5 undilated convolution (stem or classifier): `conv5x5` on a zero-bordered copy. */
  private static conv5x5(k: ConvKernel, inChannels: number, act: Activation): RunFactory {
    const g = k.g;
    const { frames, rows, outFrames, outRows, channels, padTime, padRows } = g;
    const paddedRows = Math.max(padRows + rows, (outRows - 1) * g.stride + 5);
    const frameStride = paddedRows * inChannels;
    const chanStride = inChannels === 1 ? 0 : 1;
    const size = outFrames * outRows * channels;
    return (xb, yb, mb) => {
      const xp = new Float64Array((outFrames + 4) * frameStride);
      return () => {
        padFrames(xb, frames, rows, inChannels, padTime, padRows, paddedRows, xp);
        conv5x5(xp, frameStride, inChannels, chanStride, k, yb, act.relu);
        finish(yb, size, channels, act, true);
        if (mb !== null) frequencyMean(yb, outFrames, outRows, channels, mb);
      };
    };
  }

  /** The `run` of any other 1 → C convolution: `planeConv`, one matrix product per frame and weight group. */
  private static planeConv(k: ConvKernel, groups: number, act: Activation): RunFactory {
    const { g, w, bias } = k;
    const { kt, kf, dt, df, outFrames, outRows, channels } = g;
    const panels = convTapPanels(w, kt, kf, channels, bias, groups, dt, df);
    const windowSize = planeWindowRows(g) * ((kt - 1) * dt + 1);
    const size = outFrames * outRows * channels;
    return (xb, yb) => {
      const window = new Float64Array(windowSize);
      return () => {
        planeConv(xb, g, panels, window, yb, act.relu);
        finish(yb, size, channels, act, true);
      };
    };
  }

  private dense(layer: Layer, x: Value): void {
    const config = layer.getConfig();
    const units = config.units as number;
    const inSize = x.channels;
    const w = layerWeights(layer);
    const kernel = requireWeight(layer, w, 'kernel', inSize * units);
    const bias = config.useBias === false ? null : requireWeight(layer, w, 'bias', units);
    let act = activationOf(layer, config.activation ?? 'linear');
    let tensor = Compiler.outputOf(layer);
    let scale: Float64Array | null = null;
    let b = bias;
    if (isIdentity(act)) {
      // A SubSpectralNorm would need per-row weights here: it stays a separate step.
      const folded = this.takeNorm(tensor, units, x.rank, null);
      if (folded !== null) {
        tensor = folded.tensor;
        const { scale: s, offset } = folded.norm;
        scale = s;
        b = Float64Array.from(
          offset,
          (o, j) => (bias === null ? 0 : (bias[j] as number)) * (s[j] as number) + o,
        );
      }
    }
    const fused = this.fuseActivation(tensor, act);
    tensor = fused.tensor;
    act = fused.act;
    const panels = toPanels(kernel, inSize, units, { scale, bias: b });
    const y = this.newValue({ ...x, channels: units });
    this.setValue(tensor, y);
    const rows = x.frames * x.rows;
    const size = sizeOf(y);
    this.unary(x, y, rows * inSize * units, (xb, yb) => () => {
      matRowsStationary(panels, xb, 0, inSize, rows, yb, 0, units, act.relu);
      finish(yb, size, units, act, true);
    });
  }

  private norm(layer: Layer, x: Value): void {
    const folded = foldNorm(layer, x.channels);
    let scale = folded.scale;
    let offset = folded.offset;
    if (layer.getClassName() === 'SubSpectralNorm') {
      if (x.rank !== 4 || x.rows % folded.groups !== 0) {
        throw invalidLayer(
          layer,
          `${folded.groups} sub-bands must divide the ${x.rows} frequency rows of a rank-4 input`,
        );
      }
      ({ scale, offset } = expandAffineNorm(layer, folded, x.rows));
    } else if (!Compiler.lastAxis(layer, x.rank)) {
      throw invalidLayer(
        layer,
        `normalises axis ${String(layer.getConfig().axis)}; only the last (channel) axis is supported`,
      );
    }
    const { act, tensor } = this.fuseActivation(Compiler.outputOf(layer), IDENTITY);
    const y = this.newValue({ ...x });
    this.setValue(tensor, y);
    const size = sizeOf(y);
    this.unary(x, y, 0, (xb, yb) => () => {
      affine(xb, size, scale, offset, yb, act.relu);
      finish(yb, size, x.channels, act, true);
    });
  }

  private activation(layer: Layer, x: Value): void {
    const act = activationLayer(layer) as Activation;
    const y = this.newValue({ ...x });
    this.setValue(Compiler.outputOf(layer), y);
    const size = sizeOf(y);
    this.unary(x, y, 0, (xb, yb) => () => {
      yb.set(xb.subarray(0, size));
      finish(yb, size, x.channels, act, false);
    });
  }

  private add(layer: Layer, given: Value[]): void {
    if (given.length < 2) throw invalidLayer(layer, 'needs at least two inputs');
    const first = given[0] as Value;
    const rows = Math.max(...given.map((v) => v.rows));
    for (const v of given) {
      if (
        v.rank !== first.rank ||
        v.channels !== first.channels ||
        v.frames !== first.frames ||
        v.pooled !== first.pooled ||
        (v.rows !== rows && v.rows !== 1)
      ) {
        throw invalidLayer(
          layer,
          'its inputs must have the same frames and channels, and the same rows or 1 (broadcast)',
        );
      }
    }
    const { act, tensor } = this.fuseActivation(Compiler.outputOf(layer), IDENTITY);
    const y = this.newValue({ ...first, rows });
    this.setValue(tensor, y);
    if (this.residual(given, y, act)) return;
    const inputs = given.map((v) => this.materialize(v));
    const { frames, channels: C } = first;
    const size = sizeOf(y);
    this.steps.push({
      inputs: inputs.map((v) => v.id),
      outputs: [y.id],
      macs: 0,
      build: (buffer) => {
        const xs = inputs.map((v) => buffer(v.id));
        const rs = inputs.map((v) => v.rows);
        const yb = buffer(y.id);
        return {
          run: () => {
            for (let k = 0; k < xs.length; k++) {
              addInto(xs[k] as Float64Array, rs[k] as number, frames, rows, C, yb, k === 0);
            }
            finish(yb, size, C, act, false);
          },
        };
      },
    });
  }

  /**
   * An `Add` of a deferred convolution, optionally its own input (the identity, folded into the
   * centre weight) and optionally one frequency-broadcast term: one {@link residualFreqConv}
   * step. Returns false for any other combination.
   */
  private residual(given: Value[], y: Value, act: Activation): boolean {
    const deferred = given.filter((v) => v.deferred !== undefined);
    const d = deferred[0]?.deferred;
    if (deferred.length !== 1 || d === undefined) return false;
    const others = given.filter((v) => v.deferred === undefined);
    const identity = others.filter((v) => v.id === d.input.id);
    const extras = others.filter((v) => v.id !== d.input.id);
    const g = d.k.g;
    if (identity.length > 1 || extras.length > 1 || (identity.length === 1 && g.stride !== 1)) return false;
    const extra = extras[0] ?? null;
    if (extra !== null && extra.rows !== 1) return false;
    const w = d.k.w.slice();
    if (identity.length === 1) {
      const C = g.channels;
      for (let k = 0; k < g.outRows / g.rowsPerGroup; k++) {
        for (let c = 0; c < C; c++) w[(k * 3 + 1) * C + c] = (w[(k * 3 + 1) * C + c] as number) + 1;
      }
    }
    const k: ConvKernel = { g, w, bias: d.k.bias };
    const size = sizeOf(y);
    const slot: { step: PlannedStep; mean: FusedMean | null } = {
      mean: null,
      step: {
        inputs: extra === null ? [d.input.id] : [d.input.id, extra.id],
        outputs: [y.id],
        macs: d.macs,
        build: (buffer) => {
          const xb = buffer(d.input.id);
          const eb = extra === null ? null : buffer(extra.id);
          const yb = buffer(y.id);
          // The next block's mean can be fused only when nothing runs on y after the kernel.
          const mean = slot.mean;
          const operands: ResidualOperands = {
            x: xb,
            k,
            e: eb,
            y: yb,
            relu: act.relu,
            mean: mean === null ? null : buffer(mean.value.id),
            meanW: mean?.weights ?? yb,
            meanB: mean?.bias ?? yb,
          };
          return {
            run: () => {
              residualFreqConv(operands);
              finish(yb, size, g.channels, act, true);
            },
          };
        },
      },
    };
    this.steps.push(slot.step);
    if (act.hi === Number.POSITIVE_INFINITY && act.post === null) this.residualSteps.set(y.id, slot);
    return true;
  }

  private frequencyMean(layer: Layer, x: Value): void {
    if (x.rank !== 4) throw invalidLayer(layer, 'expects a rank-4 input');
    const y = this.newValue({ ...x, rows: 1 });
    this.setValue(Compiler.outputOf(layer), y);
    this.unary(x, y, 0, (xb, yb) => () => frequencyMean(xb, x.frames, x.rows, x.channels, yb));
  }

  private pool(layer: Layer, x: Value): void {
    const cls = layer.getClassName();
    const config = layer.getConfig();
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
      throw invalidLayer(layer, 'only channelsLast pooling is supported');
    }
    if (x.pooled || x.rank !== (cls === 'GlobalAveragePooling2D' ? 4 : 3)) {
      throw invalidLayer(layer, 'expects a time-resolved input of the matching rank');
    }
    const y = this.newValue({ frames: 1, rows: 1, channels: x.channels, rank: 2, pooled: true });
    this.setValue(Compiler.outputOf(layer), y);
    const positions = x.frames * x.rows;
    this.unary(x, y, 0, (xb, yb) => () => meanPositions(xb, positions, x.channels, yb));
  }
}

/**
 * Assigns buffers to values: a value's buffer is reused by later values once its last reader has
 * run (best fit by size), so only the values alive at the same time occupy memory. Deferred
 * values get none.
 */
function assignBuffers(
  values: readonly Value[],
  steps: readonly PlannedStep[],
  keep: number,
): Float64Array[] {
  const lastUse = new Int32Array(values.length).fill(-1);
  steps.forEach((s, k) => {
    for (const id of s.inputs) lastUse[id] = k;
  });
  const buffers: Float64Array[] = new Array(values.length);
  const free: Float64Array[] = [];
  steps.forEach((s, k) => {
    for (const id of s.outputs) {
      const size = sizeOf(values[id] as Value);
      let best = -1;
      for (let f = 0; f < free.length; f++) {
        const len = (free[f] as Float64Array).length;
        if (len >= size && (best < 0 || len < (free[best] as Float64Array).length)) best = f;
      }
      buffers[id] = best < 0 ? new Float64Array(size) : (free.splice(best, 1)[0] as Float64Array);
    }
    for (const id of new Set(s.inputs)) {
      if (lastUse[id] === k && id !== keep && !s.outputs.includes(id)) free.push(buffers[id] as Float64Array);
    }
    // An output nobody reads is free right away.
    for (const id of s.outputs) {
      if ((lastUse[id] as number) < 0 && id !== keep) free.push(buffers[id] as Float64Array);
    }
  });
  return buffers;
}

// ───────────────────────────── runtime ─────────────────────────────

class CompiledConvNet implements ConvNetRuntime {
  readonly frames: number;
  readonly bins: number;
  readonly numClasses: number;
  readonly macs: number;
  readonly steps: number;
  private readonly program: Step[];
  private readonly input: InputStep;
  private readonly output: Float64Array;

  constructor(frames: number, bins: number, compiler: Compiler, outputId: number) {
    this.frames = frames;
    this.bins = bins;
    this.numClasses = (compiler.values[outputId] as Value).channels;
    this.macs = compiler.steps.reduce((sum, s) => sum + s.macs, 0);
    const buffers = assignBuffers(compiler.values, compiler.steps, outputId);
    const buffer = (id: number): Float64Array => buffers[id] as Float64Array;
    this.program = compiler.steps.map((s) => s.build(buffer));
    this.input = this.program[0] as InputStep;
    this.output = buffer(outputId);
    this.steps = this.program.length;
  }

  private checkFeatures(features: unknown, count: number): Float32Array {
    const shape = count === 1 ? `[${this.frames}, ${this.bins}]` : `[${count}, ${this.frames}, ${this.bins}]`;
    if (!(features instanceof Float32Array)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `features must be a Float32Array ${shape}; got ${typeof features}`,
      );
    }
    const values = count * this.frames * this.bins;
    if (features.length !== values) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `features must hold ${shape} = ${values} values; got ${features.length}`,
      );
    }
    checkFinite('features', features);
    return features;
  }

  private checkOut(out: unknown, count: number): Float32Array {
    const values = count * this.numClasses;
    if (out === undefined) return new Float32Array(values);
    if (!(out instanceof Float32Array)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `out must be a Float32Array of ${values} values; got ${typeof out}`,
      );
    }
    if (out.length !== values) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `out must hold ${count} × ${this.numClasses} = ${values} values; got ${out.length}`,
      );
    }
    return out;
  }

  private forward(features: Float32Array, offset: number): void {
    this.input.source = features;
    this.input.offset = offset;
    const program = this.program;
    for (let k = 0; k < program.length; k++) (program[k] as Step).run();
    // Do not keep the caller's array alive.
    this.input.source = NO_FEATURES;
  }

  predict(features: Float32Array, out?: Float32Array): Float32Array {
    const x = this.checkFeatures(features, 1);
    const y = this.checkOut(out, 1);
    this.forward(x, 0);
    for (let j = 0; j < this.numClasses; j++) y[j] = this.output[j] as number;
    return y;
  }

  predictBatch(features: Float32Array, count: number, out?: Float32Array): Float32Array {
    const n = checkInt('count', count, 1);
    const x = this.checkFeatures(features, n);
    const y = this.checkOut(out, n);
    const per = this.frames * this.bins;
    const k = this.numClasses;
    for (let b = 0; b < n; b++) {
      this.forward(x, b * per);
      for (let j = 0; j < k; j++) y[b * k + j] = this.output[j] as number;
    }
    return y;
  }
}

/**
 * Compiles a conv keyword model built from kws-kit's layers (`bcResNet({ width, causal })` of any
 * width, causal or not, trained or loaded with `loadModel`) into a plain-TypeScript inference
 * engine whose logits equal `model.predict` (inference mode) to float32 rounding. The weights
 * are read once and copied (with normalisations folded in): later changes to the model are not
 * seen; compile again. No tensor is kept or created after compilation.
 *
 * Supported graphs: one input `[batch, frames, bins]` or `[batch, frames, bins, 1]`; any DAG of
 * `SpectralConv` (1 → C or depthwise, any kernel, dilation, frequency stride, time/frequency
 * padding), `TemporalConv` (any dilation, 'same' or causal), `SubSpectralNorm`,
 * `BatchNormalization` (last axis), `FrequencyMean`, `Dense` (on the last axis: BC-ResNet's 1×1
 * convolutions), `ReLU`, `Activation` (linear, relu, relu6, sigmoid, tanh, swish, elu, softplus,
 * softmax), `Add` (with broadcast over frequency), dropouts (identity), one time pooling
 * (`GlobalAveragePooling2D`/`1D`), then per-vector layers to one output `[batch, classes]`.
 * Each layer must be called once (no shared layers).
 *
 * @param model - a tfjs-layers model of the layers above
 * @param options - see {@link CompileConvNetOptions}
 * @returns the runtime; `predict(features)` takes `[frames, bins]` frame-major log-mels
 * @throws KwsError `INVALID_ARGUMENT` for a non-model or bad options; `MODEL_INVALID` naming the
 *   first layer that is not supported (class, configuration or shared use), or for a model
 *   without one input, one output and a time pooling before its output
 */
export function compileConvNet(model: tfl.LayersModel, options?: CompileConvNetOptions): ConvNetRuntime {
  if (!(model instanceof tfl.LayersModel)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'compileConvNet needs a tfl.LayersModel (from bcResNet() or loadModel())',
    );
  }
  const o = checkOptions('options', options);
  const { frames: time, bins, rank } = convModelInput(model, 'compileConvNet');
  let frames: number;
  if (time === null) {
    frames = checkInt('frames', o.frames ?? 101, 1, 100000);
  } else {
    frames = time;
    if (o.frames !== undefined && o.frames !== time) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `frames must be the model's input length ${time} (or omitted); got ${String(o.frames)}`,
      );
    }
  }
  const compiler = new Compiler(model);
  const outputId = compiler.compile(frames, bins, rank);
  return new CompiledConvNet(frames, bins, compiler, outputId);
}
