/**
 * How window mode turns a batch of feature windows into class probabilities: tfjs-layers
 * `model.predict`, or one of kws-kit's compiled plain-TypeScript runtimes (`compileConvNet` for
 * BC-ResNet and other conv models built from kws-kit's layers, `compileCrnn` for CRNNs), which
 * compute the same logits without tensors and without per-op dispatch.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { compileConvNet, compileCrnn } from '../models/index.js';
import type { ModelGeometry } from './model-input.js';
import { softmaxRows } from './softmax.js';

/**
 * Which engine runs the model in window mode:
 * - `'auto'`: a compiled runtime when the model is one it supports, else tfjs `model.predict`;
 * - `'compiled'`: a compiled runtime, or a `KwsError` saying why the model cannot be compiled;
 * - `'tfjs'`: always tfjs `model.predict` on the active backend.
 */
export type RuntimeOption = 'auto' | 'compiled' | 'tfjs';

/**
 * The engine in use: `'compiled-conv'` (plain TypeScript conv engine: `compileConvNet` in window
 * mode, `toStreaming` in stateful mode), `'compiled-crnn'` (`compileCrnn`) or `'tfjs'`
 * (tfjs-layers `model.predict` on the active backend).
 */
export type ModelRuntime = 'compiled-conv' | 'compiled-crnn' | 'tfjs';

/** The values {@link RuntimeOption} accepts. */
export const RUNTIME_OPTIONS: readonly RuntimeOption[] = ['auto', 'compiled', 'tfjs'];

/** Layer classes that make a model recurrent (a CRNN for the compiled runtimes). */
const RECURRENT_LAYERS = new Set(['GRU', 'LSTM', 'SimpleRNN', 'RNN', 'Bidirectional']);

/** Whether the model has a recurrent layer (GRU, LSTM, …), i.e. is a CRNN rather than a conv net. */
export function hasRecurrentLayer(model: LayersModel): boolean {
  const layers = (model as Partial<LayersModel>).layers;
  return Array.isArray(layers) && layers.some((layer) => RECURRENT_LAYERS.has(layer.getClassName()));
}

/** Evaluates batches of windows for {@link WindowMode}. */
export interface WindowPredictor {
  /** The engine. */
  readonly runtime: ModelRuntime;
  /**
   * Class probabilities of `count` windows.
   *
   * @param batch - `[count, inputFrames, bins]` row-major, exactly `count · inputFrames · bins` values
   * @returns `[count, classes]` row-major; valid until the next call (callers copy what they keep)
   */
  predict(batch: Float32Array, count: number): Float32Array | Promise<Float32Array>;
}

/** Options of {@link createWindowPredictor}. */
export interface WindowPredictorOptions {
  /** The classifier. */
  model: LayersModel;
  /** Its geometry, from `describeModel`. */
  geometry: ModelGeometry;
  /** Frames per example given to the model (its fixed input length, or the window). */
  inputFrames: number;
  /** Whether the model outputs logits (softmax is applied) rather than probabilities. */
  softmax: boolean;
  /** Engine choice. */
  runtime: RuntimeOption;
  /** Largest `count` that {@link WindowPredictor.predict} is called with. */
  maxBatch: number;
}

/** tfjs-layers `model.predict` on the active backend (the tensors live inside one call). */
class TfjsPredictor implements WindowPredictor {
  readonly runtime = 'tfjs';
  constructor(
    private readonly model: LayersModel,
    private readonly shape: readonly number[],
    private readonly softmax: boolean,
  ) {}

  async predict(batch: Float32Array, count: number): Promise<Float32Array> {
    const shape = [count, ...this.shape];
    // `batch` is the caller's reused buffer: the tensor made from it (which the cpu backend does
    // not copy) is consumed and released inside this tidy, before the first await.
    const probabilities = tf.tidy(() => {
      const output = this.model.predict(tf.tensor(batch, shape, 'float32'), { batchSize: count });
      if (Array.isArray(output)) {
        throw new KwsError(
          'MODEL_INVALID',
          `model.predict returned ${output.length} tensors; one was expected`,
        );
      }
      return this.softmax ? tf.softmax(output as tf.Tensor) : (output as tf.Tensor);
    });
    // tidy cannot span an await: the one tensor that leaves it is released here.
    try {
      return (await probabilities.data()) as Float32Array;
    } finally {
      probabilities.dispose();
    }
  }
}

/** A compiled runtime: logits into a buffer allocated once, then softmax in place. */
class CompiledPredictor implements WindowPredictor {
  private readonly out: Float32Array;
  constructor(
    readonly runtime: ModelRuntime,
    private readonly logits: (batch: Float32Array, count: number, out: Float32Array) => void,
    private readonly classes: number,
    private readonly softmax: boolean,
    maxBatch: number,
  ) {
    this.out = new Float32Array(maxBatch * classes);
  }

  predict(batch: Float32Array, count: number): Float32Array {
    const out = this.out.subarray(0, count * this.classes);
    this.logits(batch, count, out);
    if (this.softmax) softmaxRows(out, count, this.classes);
    return out;
  }
}

/**
 * Compiles `model` with the runtime that fits it: `compileCrnn` for a model with a recurrent
 * layer, `compileConvNet` otherwise.
 *
 * @throws KwsError from the compiler (`MODEL_INVALID` naming the first unsupported layer,
 *   `INVALID_ARGUMENT` for an object that is not a tfjs-layers model of this copy of the library)
 */
function compile(o: WindowPredictorOptions): CompiledPredictor {
  const { model, geometry, inputFrames, softmax, maxBatch } = o;
  const variable = geometry.frames === null;
  const classes = geometry.classes;
  if (hasRecurrentLayer(model)) {
    const crnn = compileCrnn(model, { variableFrames: variable });
    const logits = (batch: Float32Array, count: number, out: Float32Array): void => {
      out.set(crnn.predictBatch(batch, count, inputFrames));
    };
    return new CompiledPredictor('compiled-crnn', logits, classes, softmax, maxBatch);
  }
  const conv = compileConvNet(model, variable ? { frames: inputFrames } : undefined);
  const logits = (batch: Float32Array, count: number, out: Float32Array): void => {
    conv.predictBatch(batch, count, out);
  };
  return new CompiledPredictor('compiled-conv', logits, classes, softmax, maxBatch);
}

/**
 * Picks and builds the engine that evaluates windows of `model` (see {@link RuntimeOption}).
 * Compiling reads the weights once: later changes to the model's weights are not seen by a
 * compiled runtime (build a new one), while `'tfjs'` always uses the current weights.
 *
 * @throws KwsError `INVALID_ARGUMENT` with `runtime: 'compiled'` for a model the compiled
 *   runtimes do not support (the message gives the compiler's reason).
 */
export function createWindowPredictor(o: WindowPredictorOptions): WindowPredictor {
  const shape =
    o.geometry.rank === 3 ? [o.inputFrames, o.geometry.bins] : [o.inputFrames, o.geometry.bins, 1];
  if (o.runtime === 'tfjs') return new TfjsPredictor(o.model, shape, o.softmax);
  try {
    return compile(o);
  } catch (error) {
    const unsupported =
      error instanceof KwsError && (error.code === 'MODEL_INVALID' || error.code === 'INVALID_ARGUMENT');
    if (!unsupported) throw error;
    if (o.runtime === 'auto') return new TfjsPredictor(o.model, shape, o.softmax);
    throw new KwsError(
      'INVALID_ARGUMENT',
      `runtime 'compiled' cannot run this model: ${error.message}. The compiled runtimes take ` +
        'kws-kit conv models (bcResNet, causal or not, and graphs of the same layers) and CRNNs ' +
        "(crnn()); use runtime 'auto' (falls back to tfjs) or 'tfjs' for any model",
    );
  }
}
