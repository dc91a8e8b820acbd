/**
 * A compiled training program for kws-kit's convolutional keyword models (BC-ResNet of any width,
 * causal or not): forward pass in training mode (batch statistics, dropout masks), softmax
 * cross-entropy (optionally class-weighted), and backward pass to the gradient of every trainable
 * weight, in plain TypeScript (no tensors, no backend dispatch). `train()` runs it through
 * `engine.ts` (its `engine` option).
 *
 * Why: tfjs runs one BC-ResNet-1 training step at batch 50 as ~4,200 kernels and ~1.4 GB of
 * intermediate tensors; here it is ~60 steps over buffers allocated once per batch size, each
 * forward activation kept for the backward pass.
 *
 * Layers: `SpectralConv`, `TemporalConv` (depthwise, dilated, 'same' / causal), `Dense` (on the
 * last axis), `BatchNormalization` (channel axis) and `SubSpectralNorm` in training mode,
 * `FrequencyMean`, `ReLU`, `Activation` ('relu', 'swish', 'linear'), `Add` (up to two same-shape
 * inputs and one broadcast over frequency), `GlobalAveragePooling2D`, kws-kit's `ChannelDropout`
 * (masks drawn from the layer's own seeded generator, in the order `model.apply` calls the
 * layers, so the program consumes the generators exactly as tfjs training does), and
 * `Dropout` / `SpatialDropout1D` / `SpatialDropout2D` with rate 0 (identity; a positive rate
 * draws from tfjs' unseedable random ops and is refused).
 *
 * Storage and speed: activations and their gradients are `Float32Array`s (half the memory
 * traffic of float64; the same precision as tfjs' tensors), weights and every sum are float64.
 * A ReLU that is the only reader of an `Add` or a normalisation is applied by that step (its
 * backward pass masks the gradient by y > 0). Forward passes of convolutions and `Dense` are
 * the inference runtime's kernels (`channel-conv.ts`, `dense-grad.ts`); a step that is the first
 * of the backward pass to write its input's gradient overwrites it instead of adding (no zeroing
 * pass).
 *
 * @internal
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { ChannelDropout, invalidLayer, SpectralConv, TemporalConv } from '../../models/index.js';
import { lossDenominator } from '../loss.js';
import { layerCallOrder } from './call-order.js';
import { ChannelConv } from './channel-conv.js';
import { channelMaskBackward, channelMaskForward } from './channel-mask-grad.js';
import type { ChannelConvGeometry } from './conv-grad.js';
import { denseBackward, denseForward, densePanels } from './dense-grad.js';
import {
  addBackward,
  addForward,
  meanBackward,
  meanForward,
  reluBackward,
  reluForward,
  swishBackward,
  swishForward,
} from './elementwise-grad.js';
import { batchNormBackward, batchNormForward, type NormShape } from './norm-grad.js';
import { softmaxCrossEntropyGrad } from './softmax-cross-entropy.js';

type Layer = tfl.layers.Layer;
type LayerVariable = tfl.LayerVariable;

/** Dropout layers: the identity at rate 0. */
const DROPOUT_LAYERS = new Set(['ChannelDropout', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D']);

/** Layer classes the compiled trainer runs (for error messages). */
export const COMPILED_LAYER_CLASSES: readonly string[] = [
  'SpectralConv',
  'TemporalConv',
  'Dense',
  'BatchNormalization',
  'SubSpectralNorm',
  'FrequencyMean',
  'ReLU',
  'Activation (relu, swish, linear)',
  'Add',
  'GlobalAveragePooling2D',
  'ChannelDropout',
  'Dropout / SpatialDropout1D / SpatialDropout2D with rate 0',
];

/** Result of {@link TrainingGraph.lossAndGradients}. */
export interface LossAndGradients {
  /** Softmax cross-entropy of the batch (the mean, unless {@link LossOptions} say otherwise). */
  loss: number;
  /** The model's output in training mode, `[batch, classes]`. */
  logits: Float32Array;
  /** Gradient of every trainable weight, in the order and shape of `model.trainableWeights`. */
  gradients: Float32Array[];
  /**
   * The moving mean / variance every normalisation layer would hold after this step, in the order
   * of {@link TrainingGraph.movingVariables} (tfjs-layers' and SubSpectralNorm's update rules).
   */
  movingStats: Float32Array[];
}

/** How {@link TrainingGraph.lossAndGradients} forms the loss (see `softmaxCrossEntropyGrad`). */
export interface LossOptions {
  /** Loss weight per class (length `numClasses`, finite, ≥ 0). Default: every class 1. */
  classWeights?: readonly number[];
  /**
   * Divide the (weighted) sum of the examples' losses by this (≥ 0) instead of by the batch's
   * own size or total weight: for a micro-batch, the whole batch's (`lossDenominator`).
   */
  denominator?: number;
}

/** A compiled training program (see {@link compileTrainingGraph}). Single-threaded. */
export interface TrainingGraph {
  /** Frames and bins of one example. */
  readonly frames: number;
  readonly bins: number;
  readonly numClasses: number;
  /** The model's trainable variables, the order of `gradients`. */
  readonly trainableVariables: readonly LayerVariable[];
  /** The moving-statistics variables, the order of `movingStats`. */
  readonly movingVariables: readonly LayerVariable[];
  /** Copies every weight and moving statistic from the model's variables (after an update). */
  readWeights(): void;
  /**
   * Forward and backward pass of one batch in training mode, with the weights of the last
   * {@link readWeights} (compile time, initially). Buffers are kept between calls and resized when
   * the batch size changes; the returned arrays are new on every call.
   *
   * Like a tfjs training call of the model, each call draws fresh `ChannelDropout` masks from the
   * layers' generators and advances the program's copy of the moving statistics to
   * {@link LossAndGradients.movingStats}, so that consecutive calls (the micro-batches of one
   * step) chain their updates as tfjs does; the model's variables are not written.
   *
   * @param features - `[batch, frames, bins]` log-mel features
   * @param labels - `batch` class indices in `[0, numClasses)`
   * @param batch - examples in the batch (≥ 1)
   * @param options - class weights and denominator of the loss; default the plain batch mean
   */
  lossAndGradients(
    features: Float32Array,
    labels: Int32Array,
    batch: number,
    options?: LossOptions,
  ): LossAndGradients;
  /**
   * Milliseconds of each step's forward and backward pass in the last {@link lossAndGradients}
   * call made with `timeSteps` set (for profiling); keyed by layer name.
   */
  readonly stepTimes: { layer: string; forwardMs: number; backwardMs: number }[];
  /** Record {@link stepTimes} on the following calls (slightly slower). Default false. */
  timeSteps: boolean;
}

/** One weight: its variable, float64 copy and gradient accumulator. */
interface Param {
  readonly variable: LayerVariable;
  readonly value: Float64Array;
  readonly grad: Float64Array;
}

/** A value of the program: one layer output, `[batch, frames, bins, channels]`. */
interface Value {
  readonly frames: number;
  readonly bins: number;
  readonly channels: number;
  /** Values per example. */
  readonly size: number;
  data: Float32Array;
  grad: Float32Array;
}

/** One step: forward and backward over the current batch; `alloc` (re)sizes its scratch. */
interface Step {
  /**
   * Values whose gradient this step can overwrite instead of accumulating into, when it is the
   * first step of the backward pass to write them; `assign` is told which ones it is.
   */
  assignable?: readonly Value[];
  assign?(values: ReadonlySet<Value>): void;
  alloc(batch: number): void;
  forward(batch: number): void;
  backward(batch: number): void;
}

/** The update of one moving statistic after a step. */
interface MovingUpdate {
  readonly variable: LayerVariable;
  readonly value: Float64Array;
  /** Batch statistic the step produced (mean or biased variance). */
  readonly batchValue: Float64Array;
  readonly momentum: number;
  /** tfjs-layers writes `old − (old − v)·(1 − m)`; SubSpectralNorm `m·old + (1 − m)·v`. */
  readonly keras: boolean;
}

function dims(shape: readonly (number | null)[], layer: Layer): [number, number, number] {
  const d = shape.slice(1) as number[];
  if (d.some((v) => v === null || v === undefined))
    throw invalidLayer(layer, 'has an unknown output dimension');
  if (d.length === 3) return [d[0] as number, d[1] as number, d[2] as number];
  if (d.length === 2) return [d[0] as number, d[1] as number, 1];
  if (d.length === 1) return [1, 1, d[0] as number];
  throw invalidLayer(layer, `has an output of rank ${shape.length}; 2 to 4 are supported`);
}

function makeValue(frames: number, bins: number, channels: number): Value {
  return {
    frames,
    bins,
    channels,
    size: frames * bins * channels,
    data: new Float32Array(0),
    grad: new Float32Array(0),
  };
}

function sizedFloat(a: Float32Array, n: number): Float32Array {
  return a.length === n ? a : new Float32Array(n);
}

class Compiler {
  readonly values: Value[] = [];
  readonly steps: Step[] = [];
  /** Layer name of each step. */
  readonly stepNames: string[] = [];
  /** Values each step reads. */
  readonly stepInputs: Value[][] = [];
  readonly params = new Map<LayerVariable, Param>();
  readonly moving: MovingUpdate[] = [];
  /** Draws the masks of each `ChannelDropout` step for a batch, by layer. */
  readonly maskDraws = new Map<Layer, (batch: number) => void>();
  private readonly valueOf = new Map<number, Value>();
  private readonly alias = new Map<number, number>();
  /** Readers of each (alias-resolved) tensor id. */
  private readonly readers = new Map<number, Layer[]>();
  /** ReLU layers applied by the step of the layer they follow. */
  private readonly fusedRelus = new Set<Layer>();

  constructor(
    private readonly model: tfl.LayersModel,
    frames: number | undefined,
  ) {
    const inputShape = (model.inputs[0] as tfl.SymbolicTensor).shape;
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new KwsError('MODEL_INVALID', 'compileTrainingGraph needs a model with one input and one output');
    }
    const time = inputShape[1] ?? frames;
    if (time == null)
      throw new KwsError('INVALID_ARGUMENT', 'the model has a variable time axis; give frames');
    const bins = inputShape[2] as number;
    if (inputShape.length === 4 && inputShape[3] !== 1) {
      throw new KwsError('MODEL_INVALID', 'the model input must have one channel');
    }
    for (const layer of model.layers) {
      const node = layer.inboundNodes[0];
      if (node === undefined || !isIdentity(layer)) continue;
      this.alias.set(
        (node.outputTensors[0] as tfl.SymbolicTensor).id,
        (node.inputTensors[0] as tfl.SymbolicTensor).id,
      );
    }
    for (const layer of model.layers) {
      const node = layer.inboundNodes[0];
      if (node === undefined || layer.getClassName() === 'InputLayer' || isIdentity(layer)) continue;
      for (const t of node.inputTensors) {
        const id = this.resolve(t.id);
        this.readers.set(id, [...(this.readers.get(id) ?? []), layer]);
      }
    }
    const input = makeValue(time, bins, 1);
    this.values.push(input);
    this.valueOf.set((model.inputs[0] as tfl.SymbolicTensor).id, input);
    for (const layer of model.layers) this.compileLayer(layer);
  }

  get input(): Value {
    return this.values[0] as Value;
  }

  get output(): Value {
    return this.valueFor((this.model.outputs[0] as tfl.SymbolicTensor).id, this.model.layers[0] as Layer);
  }

  private resolve(id: number): number {
    let r = id;
    for (let next = this.alias.get(r); next !== undefined; next = this.alias.get(r)) r = next;
    return r;
  }

  private valueFor(id: number, layer: Layer): Value {
    const v = this.valueOf.get(this.resolve(id));
    if (v === undefined) throw invalidLayer(layer, 'reads a tensor not computed from the model input');
    return v;
  }

  private param(layer: Layer, name: string): Param {
    const variable = layer.trainableWeights.find((w) => w.originalName.endsWith(`/${name}`));
    if (variable === undefined) throw invalidLayer(layer, `has no trainable weight "${name}"`);
    const size = variable.shape.reduce((a: number, b) => a * (b as number), 1);
    const p: Param = { variable, value: new Float64Array(size), grad: new Float64Array(size) };
    this.params.set(variable, p);
    return p;
  }

  private weight(layer: Layer, name: string): LayerVariable {
    const variable = layer.weights.find((w) => w.originalName.endsWith(`/${name}`));
    if (variable === undefined) throw invalidLayer(layer, `has no weight "${name}"`);
    return variable;
  }

  private compileLayer(layer: Layer): void {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') return;
    const node = layer.inboundNodes[0];
    if (layer.inboundNodes.length !== 1 || node === undefined)
      throw invalidLayer(layer, 'must be called once');
    const outTensor = node.outputTensors[0] as tfl.SymbolicTensor;
    if (isIdentity(layer) || this.fusedRelus.has(layer)) return;
    const inputs = node.inputTensors.map((t) => this.valueFor(t.id, layer));
    const x = inputs[0] as Value;
    const shapeIn = inputs.map((v) => [1, v.frames, v.bins, v.channels]);
    let outShape: readonly (number | null)[];
    if (cls === 'GlobalAveragePooling2D') outShape = [1, x.channels];
    else if (cls === 'Dense') outShape = [1, x.frames, x.bins, (layer.getConfig().units as number) ?? 0];
    else
      outShape = layer.computeOutputShape(
        shapeIn.length === 1 ? (shapeIn[0] as number[]) : shapeIn,
      ) as number[];
    const [t, f, c] = dims(outShape, layer);
    checkOutputShape(layer, [t, f, c]);
    const y = makeValue(t, f, c);
    this.values.push(y);
    this.valueOf.set(outTensor.id, y);
    this.steps.push(this.stepFor(layer, cls, inputs, y));
    this.stepNames.push(layer.name);
    this.stepInputs.push(inputs);
  }

  /**
   * Whether a ReLU is the only reader of `layer`'s output; if so it is applied by `layer`'s step
   * from now on (its output tensor becomes an alias of `layer`'s, and it compiles to nothing).
   */
  private fuseRelu(layer: Layer): boolean {
    const out = outputId(layer);
    const readers = this.readers.get(this.resolve(out)) ?? [];
    const next = readers[0];
    if (readers.length !== 1 || next === undefined || !isPlainRelu(next)) return false;
    this.fusedRelus.add(next);
    this.alias.set(outputId(next), out);
    return true;
  }

  private stepFor(layer: Layer, cls: string, inputs: Value[], y: Value): Step {
    const x = inputs[0] as Value;
    const isInput = x === this.input;
    switch (cls) {
      case 'SpectralConv':
      case 'TemporalConv':
        return this.convStep(layer, x, y, isInput);
      case 'Dense':
        return this.denseStep(layer, x, y, isInput);
      case 'BatchNormalization':
      case 'SubSpectralNorm':
        return this.normStep(layer, cls, x, y, this.fuseRelu(layer));
      case 'ReLU':
        if (!isPlainRelu(layer)) throw invalidLayer(layer, 'a ReLU cap is not supported');
        return reluStep(x, y);
      case 'Activation': {
        const a = activationOf(layer);
        if (a === 'relu') return reluStep(x, y);
        if (a === 'swish' || a === 'silu') return swishStep(x, y);
        throw invalidLayer(layer, `activation "${a}" is not supported`);
      }
      case 'Add':
        return addStep(layer, inputs, y, this.fuseRelu(layer));
      case 'FrequencyMean':
        return meanStep(x, y, x.bins);
      case 'GlobalAveragePooling2D':
        return meanStep(x, y, x.frames * x.bins);
      case 'ChannelDropout':
        return this.channelDropoutStep(layer, x, y, isInput);
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
        throw invalidLayer(
          layer,
          `rate ${dropoutRate(layer)}: tfjs-layers dropout draws its masks from tfjs' own random ops, ` +
            "which the compiled trainer cannot reproduce (use kws-kit's ChannelDropout, or rate 0)",
        );
      default:
        throw invalidLayer(layer, 'is not supported by the compiled trainer');
    }
  }

  /** Training-mode `ChannelDropout`: the input times a fresh `[batch, channels]` mask. */
  private channelDropoutStep(layer: Layer, x: Value, y: Value, isInput: boolean): Step {
    if (!(layer instanceof ChannelDropout)) throw invalidLayer(layer, "is not kws-kit's ChannelDropout");
    let mask: Float32Array = new Float32Array(0);
    this.maskDraws.set(layer, (batch) => {
      mask = layer.drawMask(batch, x.channels);
    });
    const positions = x.frames * x.bins;
    let assign = false;
    return {
      assignable: [x],
      assign: (values) => {
        assign = values.has(x);
      },
      alloc: () => undefined,
      forward: (batch) => channelMaskForward(batch, positions, x.channels, x.data, mask, y.data),
      backward: (batch) => {
        if (!isInput) channelMaskBackward(batch, positions, x.channels, mask, y.grad, x.grad, assign);
      },
    };
  }

  private convStep(layer: Layer, x: Value, y: Value, isInput: boolean): Step {
    const kernel = this.param(layer, 'kernel');
    if (layer.trainableWeights.length > 1) throw invalidLayer(layer, 'a convolution bias is not supported');
    let g: ChannelConvGeometry;
    if (layer instanceof SpectralConv) {
      const geo = layer.geometry();
      g = {
        frames: x.frames,
        rows: x.bins,
        inChannels: x.channels,
        outFrames: y.frames,
        outRows: y.bins,
        channels: y.channels,
        kt: geo.kernel[0],
        kf: geo.kernel[1],
        dt: geo.dilation[0],
        df: geo.dilation[1],
        stride: geo.freqStride,
        padTime: geo.padTime[0],
        padRows: geo.padFreq[0],
      };
    } else if (layer instanceof TemporalConv) {
      const geo = layer.geometry();
      g = {
        frames: x.frames,
        rows: x.bins,
        inChannels: x.channels,
        outFrames: y.frames,
        outRows: y.bins,
        channels: y.channels,
        kt: geo.kernel[0],
        kf: 1,
        dt: geo.dilation[0],
        df: 1,
        stride: 1,
        padTime: geo.padTime[0],
        padRows: 0,
      };
    } else {
      throw invalidLayer(layer, 'is not a kws-kit SpectralConv / TemporalConv');
    }
    return convStepFor(g, x, y, kernel, isInput);
  }

  private denseStep(layer: Layer, x: Value, y: Value, isInput: boolean): Step {
    const kernel = this.param(layer, 'kernel');
    const bias = layer.trainableWeights.length > 1 ? this.param(layer, 'bias') : null;
    const config = layer.getConfig();
    if (config.activation !== 'linear')
      throw invalidLayer(layer, 'a fused Dense activation is not supported');
    const k = x.channels;
    const j = y.channels;
    if (kernel.value.length !== k * j) {
      throw invalidLayer(layer, `has a ${kernel.variable.shape.join('×')} kernel; expected ${k}×${j}`);
    }
    const perExample = x.frames * x.bins;
    const panels = densePanels(k, j);
    let assignX = false;
    let scratch: Float32Array = new Float32Array(0);
    return {
      assignable: [x],
      assign: (values) => {
        assignX = values.has(x);
      },
      alloc: (batch) => {
        if (!assignX && !isInput) scratch = sizedFloat(scratch, batch * perExample * k);
      },
      forward: (batch) =>
        denseForward(batch * perExample, panels, kernel.value, bias?.value ?? null, x.data, y.data),
      backward: (batch) =>
        denseBackward(
          batch * perExample,
          panels,
          kernel.value,
          x.data,
          y.grad,
          isInput ? null : x.grad,
          assignX,
          scratch,
          kernel.grad,
          bias?.grad ?? null,
        ),
    };
  }

  private normStep(layer: Layer, cls: string, x: Value, y: Value, relu: boolean): Step {
    const config = layer.getConfig();
    const ssn = cls === 'SubSpectralNorm';
    if (!ssn) {
      const axis = config.axis as number | number[];
      const last = Array.isArray(axis)
        ? axis.length === 1 && (axis[0] === -1 || axis[0] === 3)
        : axis === -1 || axis === 3;
      if (!last || config.center === false || config.scale === false) {
        throw invalidLayer(layer, 'only channel-axis BatchNormalization with centre and scale is supported');
      }
    }
    const subBands = ssn ? (config.subBands as number) : 1;
    const epsilon = config.epsilon as number;
    const momentum = config.momentum as number;
    const gamma = this.param(layer, 'gamma');
    const beta = this.param(layer, 'beta');
    const stats = subBands * x.channels;
    const mean = new Float64Array(stats);
    const variance = new Float64Array(stats);
    const rstd = new Float64Array(stats);
    const scale = new Float64Array(stats);
    const shift = new Float64Array(stats);
    const sums = new Float64Array(2 * stats);
    const colA = new Float64Array(x.bins * x.channels);
    const colB = new Float64Array(x.bins * x.channels);
    const colC = new Float64Array(x.bins * x.channels);
    for (const [name, batchValue] of [
      ['moving_mean', mean],
      ['moving_variance', variance],
    ] as const) {
      this.moving.push({
        variable: this.weight(layer, name),
        value: new Float64Array(stats),
        batchValue,
        momentum,
        keras: !ssn,
      });
    }
    const shape = (batch: number): NormShape => ({
      rows: batch * x.frames,
      subBands,
      bandBins: x.bins / subBands,
      channels: x.channels,
    });
    let assignX = false;
    return {
      assignable: [x],
      assign: (values) => {
        assignX = values.has(x);
      },
      alloc: () => undefined,
      forward: (batch) =>
        batchNormForward(
          shape(batch),
          x.data,
          gamma.value,
          beta.value,
          epsilon,
          relu,
          y.data,
          mean,
          variance,
          rstd,
          scale,
          shift,
          colA,
          colB,
        ),
      backward: (batch) =>
        batchNormBackward(
          shape(batch),
          x.data,
          y.data,
          relu,
          mean,
          rstd,
          scale,
          y.grad,
          x.grad,
          gamma.grad,
          beta.grad,
          sums,
          colA,
          colB,
          colC,
          assignX,
        ),
    };
  }
}

function activationOf(layer: Layer): string {
  return String(layer.getConfig().activation);
}

/** Id of the output tensor of `layer`'s (only) call. */
function outputId(layer: Layer): number {
  const node = layer.inboundNodes[0];
  if (node === undefined) throw invalidLayer(layer, 'is not connected');
  return (node.outputTensors[0] as tfl.SymbolicTensor).id;
}

function dropoutRate(layer: Layer): number {
  return Number(layer.getConfig().rate ?? 0);
}

function isIdentity(layer: Layer): boolean {
  const cls = layer.getClassName();
  if (DROPOUT_LAYERS.has(cls)) return dropoutRate(layer) === 0;
  return cls === 'Activation' && activationOf(layer) === 'linear';
}

/**
 * Refuses a layer whose output the program would shape otherwise than tfjs does (e.g. a `Dense`
 * applied to a `[batch, frames, bins]` input, which the program would read as 1-channel).
 */
function checkOutputShape(layer: Layer, compiled: readonly [number, number, number]): void {
  const shape = layer.outputShape as (number | null)[];
  const d = shape.slice(1);
  const tfjs = d.length === 3 ? d : d.length === 2 ? [d[0], d[1], 1] : d.length === 1 ? [1, 1, d[0]] : [];
  if (tfjs.length !== 3 || tfjs.some((v, i) => v !== null && v !== compiled[i])) {
    throw invalidLayer(
      layer,
      `has output shape [${shape.join(', ')}]; the compiled trainer runs [batch, frames, bins, channels] ` +
        'values and expected frames × bins × channels = ' +
        compiled.join(' × '),
    );
  }
}

function isPlainRelu(layer: Layer): boolean {
  const cls = layer.getClassName();
  if (cls === 'ReLU') return (layer.getConfig().maxValue ?? null) === null;
  return cls === 'Activation' && activationOf(layer) === 'relu';
}

function reluStep(x: Value, y: Value): Step {
  return {
    alloc: () => undefined,
    forward: (batch) => reluForward(batch * x.size, x.data, y.data),
    backward: (batch) => reluBackward(batch * x.size, y.data, y.grad, x.grad),
  };
}

function swishStep(x: Value, y: Value): Step {
  let sig: Float32Array = new Float32Array(0);
  let assignX = false;
  return {
    assignable: [x],
    assign: (values) => {
      assignX = values.has(x);
    },
    alloc: (batch) => {
      sig = sizedFloat(sig, batch * x.size);
    },
    forward: (batch) => swishForward(batch * x.size, x.data, y.data, sig),
    backward: (batch) => swishBackward(batch * x.size, x.data, sig, y.grad, x.grad, assignX),
  };
}

function addStep(layer: Layer, inputs: Value[], y: Value, relu: boolean): Step {
  const full = inputs.filter((v) => v.bins === y.bins);
  const wide = inputs.filter((v) => v.bins !== y.bins);
  const a = full[0];
  if (
    a === undefined ||
    full.length > 2 ||
    wide.length > 1 ||
    wide.some((v) => v.bins !== 1) ||
    inputs.some((v) => v.channels !== y.channels || v.frames !== y.frames)
  ) {
    throw invalidLayer(
      layer,
      'only sums of 1–2 same-shape inputs and one frequency-broadcast input are supported',
    );
  }
  const b = full[1] ?? null;
  const e = wide[0] ?? null;
  let assignA = false;
  let assignB = false;
  return {
    assignable: b === a ? [] : b === null ? [a] : [a, b],
    assign: (values) => {
      assignA = values.has(a);
      assignB = b !== null && values.has(b);
    },
    alloc: () => undefined,
    forward: (batch) =>
      addForward(
        batch * y.frames,
        y.bins,
        y.channels,
        a.data,
        b?.data ?? null,
        e?.data ?? null,
        relu,
        y.data,
      ),
    backward: (batch) =>
      addBackward(
        batch * y.frames,
        y.bins,
        y.channels,
        y.data,
        relu,
        y.grad,
        a.grad,
        assignA,
        b?.grad ?? null,
        assignB,
        e?.grad ?? null,
      ),
  };
}

/** Mean over `len` consecutive positions per group (`FrequencyMean`, global average pooling). */
function meanStep(x: Value, y: Value, len: number): Step {
  const groupsPerExample = (x.frames * x.bins) / len;
  let assignX = false;
  return {
    assignable: [x],
    assign: (values) => {
      assignX = values.has(x);
    },
    alloc: () => undefined,
    forward: (batch) => meanForward(batch * groupsPerExample, len, x.channels, x.data, y.data),
    backward: (batch) => meanBackward(batch * groupsPerExample, len, x.channels, y.grad, x.grad, assignX),
  };
}

/** A per-channel convolution step: the kernels for its shape are chosen by {@link ChannelConv}. */
function convStepFor(g: ChannelConvGeometry, x: Value, y: Value, kernel: Param, isInput: boolean): Step {
  const conv = new ChannelConv(g, kernel.value);
  let assignX = false;
  return {
    assignable: [x],
    assign: (values) => {
      assignX = values.has(x);
    },
    alloc: (batch) => conv.alloc(batch),
    forward: (batch) => conv.forward(batch, x.data, y.data),
    backward: (batch) => conv.backward(batch, x.data, y.grad, isInput ? null : x.grad, assignX, kernel.grad),
  };
}

/** Options of {@link compileTrainingGraph}. */
export interface CompileTrainingGraphOptions {
  /** Frames per example when the model's time axis is variable. Default: the model's own. */
  frames?: number;
}

/**
 * Compiles a kws-kit conv keyword model (e.g. `bcResNet()`) into a {@link TrainingGraph} and reads
 * its current weights. The optimiser is not part of the program: apply `gradients` to
 * `trainableVariables` (and write `movingStats` to `movingVariables`), then call `readWeights()`.
 *
 * @throws KwsError `MODEL_INVALID` for a layer or configuration the trainer cannot run
 */
export function compileTrainingGraph(
  model: tfl.LayersModel,
  options: CompileTrainingGraphOptions = {},
): TrainingGraph {
  const c = new Compiler(model, options.frames);
  const { values, steps, moving } = c;
  const input = c.input;
  const output = c.output;
  if (output.frames !== 1 || output.bins !== 1) {
    throw new KwsError('MODEL_INVALID', 'the model output must be logits [batch, classes]');
  }
  const trainableVariables = model.trainableWeights;
  const params = trainableVariables.map((v) => {
    const p = c.params.get(v);
    if (p === undefined)
      throw new KwsError('MODEL_INVALID', `weight ${v.name} is not used by any compiled layer`);
    return p;
  });
  const movingVariables = moving.map((m) => m.variable);
  const maskDraws = layerCallOrder(model)
    .map((layer) => c.maskDraws.get(layer))
    .filter((draw) => draw !== undefined);
  // The first step of the backward pass to write a value's gradient is its last reader; when
  // that step can overwrite the gradient, the value needs no zeroing before the pass.
  const lastReader = new Map<Value, number>();
  c.stepInputs.forEach((inputs, k) => {
    for (const v of inputs) lastReader.set(v, k);
  });
  const assigned = new Set<Value>();
  steps.forEach((s, k) => {
    const mine = new Set((s.assignable ?? []).filter((v) => lastReader.get(v) === k && v !== input));
    s.assign?.(mine);
    for (const v of mine) assigned.add(v);
  });
  const zeroed = values.filter((v) => v !== input && !assigned.has(v));
  let allocated = 0;
  const alloc = (batch: number): void => {
    if (batch === allocated) return;
    for (const v of values) {
      if (v !== input) v.data = new Float32Array(batch * v.size);
      v.grad = v === input ? new Float32Array(0) : new Float32Array(batch * v.size);
    }
    for (const s of steps) s.alloc(batch);
    allocated = batch;
  };
  const readWeights = (): void => {
    for (const p of params) p.value.set(p.variable.read().dataSync() as Float32Array);
    for (const m of moving) m.value.set(m.variable.read().dataSync() as Float32Array);
  };
  readWeights();
  const stepTimes = c.stepNames.map((layer) => ({ layer, forwardMs: 0, backwardMs: 0 }));
  return {
    stepTimes,
    timeSteps: false,
    frames: input.frames,
    bins: input.bins,
    numClasses: output.channels,
    trainableVariables,
    movingVariables,
    readWeights,
    lossAndGradients(features, labels, batch, options = {}) {
      if (!Number.isInteger(batch) || batch < 1) {
        throw new KwsError('INVALID_ARGUMENT', `batch must be a positive integer; got ${batch}`);
      }
      if (features.length !== batch * input.size || labels.length !== batch) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `expected ${batch}×${input.frames}×${input.bins} features and ${batch} labels; got ${features.length} and ${labels.length}`,
        );
      }
      for (let n = 0; n < batch; n++) {
        const label = labels[n] as number;
        if (!(label >= 0 && label < output.channels)) {
          throw new KwsError(
            'INVALID_ARGUMENT',
            `labels must be in [0, ${output.channels}); labels[${n}] is ${label}`,
          );
        }
      }
      const { classWeights, denominator } = options;
      if (
        classWeights !== undefined &&
        (classWeights.length !== output.channels || !classWeights.every((w) => Number.isFinite(w) && w >= 0))
      ) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `classWeights must be ${output.channels} finite numbers >= 0; got ${classWeights.length}`,
        );
      }
      if (denominator !== undefined && !(Number.isFinite(denominator) && denominator >= 0)) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `denominator must be a finite number >= 0; got ${denominator}`,
        );
      }
      alloc(batch);
      input.data = features;
      for (const draw of maskDraws) draw(batch);
      const timing = this.timeSteps;
      steps.forEach((s, k) => {
        const t0 = timing ? performance.now() : 0;
        s.forward(batch);
        if (timing) (stepTimes[k] as { forwardMs: number }).forwardMs = performance.now() - t0;
      });
      for (const v of zeroed) v.grad.fill(0);
      for (const p of params) p.grad.fill(0);
      const total = denominator ?? lossDenominator(labels, classWeights);
      const loss = softmaxCrossEntropyGrad(
        batch,
        output.channels,
        output.data,
        labels,
        output.grad,
        classWeights,
        total,
      );
      for (let k = steps.length - 1; k >= 0; k--) {
        const t0 = timing ? performance.now() : 0;
        (steps[k] as Step).backward(batch);
        if (timing) (stepTimes[k] as { backwardMs: number }).backwardMs = performance.now() - t0;
      }
      const movingStats = moving.map((m) => {
        const out = new Float32Array(m.value.length);
        for (let i = 0; i < out.length; i++) {
          const old = m.value[i] as number;
          const v = m.batchValue[i] as number;
          out[i] = m.keras ? old - (old - v) * (1 - m.momentum) : old * m.momentum + v * (1 - m.momentum);
        }
        // The next call continues from the float32 values the variables would now hold.
        m.value.set(out);
        return out;
      });
      return {
        loss,
        logits: output.data.slice(0, batch * output.channels),
        gradients: params.map((p) => Float32Array.from(p.grad)),
        movingStats,
      };
    },
  };
}
