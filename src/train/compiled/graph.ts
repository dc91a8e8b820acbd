/**
 * A compiled training program for kws-kit's convolutional keyword models (BC-ResNet of any width,
 * causal or not): forward pass in training mode (batch statistics), mean softmax cross-entropy,
 * and backward pass to the gradient of every trainable weight, in plain TypeScript (no tensors,
 * no backend dispatch).
 *
 * Why: tfjs runs one BC-ResNet-1 training step at batch 50 as ~4,200 kernels and ~1.4 GB of
 * intermediate tensors; here it is ~60 steps over buffers allocated once per batch size, each
 * forward activation kept for the backward pass.
 *
 * Layers: `SpectralConv`, `TemporalConv` (depthwise, dilated, 'same' / causal), `Dense` (on the
 * last axis), `BatchNormalization` (channel axis) and `SubSpectralNorm` in training mode,
 * `FrequencyMean`, `ReLU`, `Activation` ('relu', 'swish', 'linear'), `Add` (up to two same-shape
 * inputs and one broadcast over frequency), `GlobalAveragePooling2D`. `ChannelDropout` /
 * `Dropout` are the identity: masks are not applied yet, so the program matches tfjs only for
 * models built with dropout 0.
 *
 * Storage and speed: activations and their gradients are `Float32Array`s (half the memory
 * traffic of float64; the same precision as tfjs' tensors), weights and every sum are float64.
 * A ReLU that is the only reader of an `Add` or a normalisation is applied by that step (its
 * backward pass masks the gradient by y > 0). The stem's 1 → C convolution is a register-blocked
 * matrix product over gathered patches; the 3-tap frequency and temporal convolutions have their
 * own kernel; the 1×1 convolutions are blocked products (see the kernel files).
 *
 * @internal
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { invalidLayer, SpectralConv, TemporalConv } from '../../models/index.js';
import {
  type ChannelConvGeometry,
  channelConvBackward,
  channelConvForward,
  conv3Backward,
  conv3Forward,
  gatherPatches,
  scatterPatches,
} from './conv-grad.js';
import { accumulateWeightGrad, denseBackward, denseForward } from './dense-grad.js';
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

/** Layers that are the identity in this program (dropout is not applied yet). */
const IDENTITY_LAYERS = new Set(['ChannelDropout', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D']);

/** Result of {@link TrainingGraph.lossAndGradients}. */
export interface LossAndGradients {
  /** Mean softmax cross-entropy over the batch. */
  loss: number;
  /** Gradient of every trainable weight, in the order and shape of `model.trainableWeights`. */
  gradients: Float32Array[];
  /**
   * The moving mean / variance every normalisation layer would hold after this step, in the order
   * of {@link TrainingGraph.movingVariables} (tfjs-layers' and SubSpectralNorm's update rules).
   */
  movingStats: Float32Array[];
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
   * the batch size changes; the returned arrays are new on every call. Moving statistics are not
   * written to the model (see {@link LossAndGradients.movingStats}).
   *
   * @param features - `[batch, frames, bins]` log-mel features
   * @param labels - `batch` class indices in `[0, numClasses)`
   * @param batch - examples in the batch (≥ 1)
   */
  lossAndGradients(features: Float32Array, labels: Int32Array, batch: number): LossAndGradients;
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
      default:
        throw invalidLayer(layer, 'is not supported by the compiled trainer');
    }
  }

  private convStep(layer: Layer, x: Value, y: Value, isInput: boolean): Step {
    const kernel = this.param(layer, 'kernel');
    if (layer.trainableWeights.length > 1) throw invalidLayer(layer, 'a convolution bias is not supported');
    let g: ChannelConvGeometry;
    if (layer instanceof SpectralConv) {
      const geo = layer.geometry();
      g = {
        frames: x.frames,
        bins: x.bins,
        inChannels: x.channels,
        outFrames: y.frames,
        outBins: y.bins,
        channels: y.channels,
        kt: geo.kernel[0],
        kf: geo.kernel[1],
        dt: geo.dilation[0],
        df: geo.dilation[1],
        stride: geo.freqStride,
        padTime: geo.padTime[0],
        padFreq: geo.padFreq[0],
      };
    } else if (layer instanceof TemporalConv) {
      const geo = layer.geometry();
      g = {
        frames: x.frames,
        bins: x.bins,
        inChannels: x.channels,
        outFrames: y.frames,
        outBins: y.bins,
        channels: y.channels,
        kt: geo.kernel[0],
        kf: 1,
        dt: geo.dilation[0],
        df: 1,
        stride: 1,
        padTime: geo.padTime[0],
        padFreq: 0,
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
    const perExample = x.frames * x.bins;
    const wT = new Float64Array(k * j);
    return {
      alloc: () => undefined,
      forward: (batch) =>
        denseForward(batch * perExample, k, j, x.data, kernel.value, bias?.value ?? null, y.data),
      backward: (batch) =>
        denseBackward(
          batch * perExample,
          k,
          j,
          x.data,
          kernel.value,
          y.grad,
          isInput ? null : x.grad,
          kernel.grad,
          bias?.grad ?? null,
          wT,
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
    return {
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

function isIdentity(layer: Layer): boolean {
  const cls = layer.getClassName();
  return IDENTITY_LAYERS.has(cls) || (cls === 'Activation' && activationOf(layer) === 'linear');
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
  return {
    alloc: (batch) => {
      sig = sizedFloat(sig, batch * x.size);
    },
    forward: (batch) => swishForward(batch * x.size, x.data, y.data, sig),
    backward: (batch) => swishBackward(batch * x.size, x.data, sig, y.grad, x.grad),
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
  return {
    alloc: () => undefined,
    forward: (batch) => meanForward(batch * groupsPerExample, len, x.channels, x.data, y.data),
    backward: (batch) => meanBackward(batch * groupsPerExample, len, x.channels, y.grad, x.grad),
  };
}

/**
 * The kernels for a per-channel convolution: a matrix product over gathered patches for a
 * 1-channel input (the stem), the three-tap line kernel for BC-ResNet's frequency and temporal
 * convolutions, the general loops otherwise.
 */
function convStepFor(g: ChannelConvGeometry, x: Value, y: Value, kernel: Param, isInput: boolean): Step {
  const K = g.kt * g.kf;
  const C = g.channels;
  if (g.inChannels === 1 && C > 1) {
    let patches: Float32Array = new Float32Array(0);
    let dPatches: Float32Array = new Float32Array(0);
    const wT = new Float64Array(K * C);
    return {
      alloc: (batch) => {
        patches = sizedFloat(patches, batch * y.frames * y.bins * K);
        if (!isInput) dPatches = sizedFloat(dPatches, patches.length);
      },
      forward: (batch) => {
        gatherPatches(g, batch, x.data, patches);
        denseForward(batch * y.frames * y.bins, K, C, patches, kernel.value, null, y.data);
      },
      backward: (batch) => {
        const rows = batch * y.frames * y.bins;
        if (isInput) {
          accumulateWeightGrad(rows, K, C, patches, y.grad, kernel.grad);
          return;
        }
        dPatches.fill(0);
        denseBackward(rows, K, C, patches, kernel.value, y.grad, dPatches, kernel.grad, null, wT);
        scatterPatches(g, batch, dPatches, x.grad);
      },
    };
  }
  const depthwise = g.inChannels === C;
  const dx = (): Float32Array | null => (isInput ? null : x.grad);
  if (depthwise && g.kt === 1 && g.kf === 3) {
    // Lines = (example, frame) rows along frequency.
    return {
      alloc: () => undefined,
      forward: (batch) =>
        conv3Forward(
          batch * g.frames,
          g.bins,
          g.outBins,
          C,
          g.stride,
          g.df,
          g.padFreq,
          x.data,
          kernel.value,
          y.data,
        ),
      backward: (batch) =>
        conv3Backward(
          batch * g.frames,
          g.bins,
          g.outBins,
          C,
          g.stride,
          g.df,
          g.padFreq,
          x.data,
          kernel.value,
          y.grad,
          dx(),
          kernel.grad,
        ),
    };
  }
  if (depthwise && g.kt === 3 && g.kf === 1 && g.bins === 1) {
    // Lines = examples along time (frequency already averaged away).
    return {
      alloc: () => undefined,
      forward: (batch) =>
        conv3Forward(batch, g.frames, g.outFrames, C, 1, g.dt, g.padTime, x.data, kernel.value, y.data),
      backward: (batch) =>
        conv3Backward(
          batch,
          g.frames,
          g.outFrames,
          C,
          1,
          g.dt,
          g.padTime,
          x.data,
          kernel.value,
          y.grad,
          dx(),
          kernel.grad,
        ),
    };
  }
  const taps = new Float64Array(K);
  const wT = new Float64Array(K * (C + 3));
  return {
    alloc: () => undefined,
    forward: (batch) => channelConvForward(g, batch, x.data, kernel.value, y.data, taps, wT),
    backward: (batch) => channelConvBackward(g, batch, x.data, kernel.value, y.grad, dx(), kernel.grad),
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
    lossAndGradients(features, labels, batch) {
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
      alloc(batch);
      input.data = features;
      const timing = this.timeSteps;
      steps.forEach((s, k) => {
        const t0 = timing ? performance.now() : 0;
        s.forward(batch);
        if (timing) (stepTimes[k] as { forwardMs: number }).forwardMs = performance.now() - t0;
      });
      for (const v of zeroed) v.grad.fill(0);
      for (const p of params) p.grad.fill(0);
      const loss = softmaxCrossEntropyGrad(batch, output.channels, output.data, labels, output.grad);
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
        return out;
      });
      return { loss, gradients: params.map((p) => Float32Array.from(p.grad)), movingStats };
    },
  };
}
