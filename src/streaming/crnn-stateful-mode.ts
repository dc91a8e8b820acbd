/**
 * Stateful inference for kws-kit CRNNs: the GRU hidden state is carried from hop to hop and the
 * convolution runs on the new frames only, so a hop costs a few GRU steps instead of a full
 * forward pass. Runs on the compiled plain-TypeScript CRNN runtime (`compileCrnn`): no tensors.
 *
 * @packageDocumentation
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { Spectrogram } from '../features/index.js';
import { type CrnnRuntime, type CrnnState, compileCrnn } from '../models/index.js';
import { checkInt, checkOptions } from '../validate.js';
import { checkFrames, type InferenceMode, type Posterior } from './inference-mode.js';
import { softmaxRows } from './softmax.js';

/** Options of {@link CrnnStatefulMode}. */
export interface CrnnStatefulModeOptions {
  /**
   * A kws-kit CRNN (`crnn()` or loaded from its files) with unidirectional GRUs. Give this or
   * `runtime`. It is compiled once; later weight changes are not seen.
   */
  model?: LayersModel;
  /** An already compiled CRNN (from {@link compileStatefulCrnn} or `compileCrnn`). */
  runtime?: CrnnRuntime;
  /**
   * Frames of attention context: attention pools the last
   * `W = ⌊(windowFrames − kernel[0]) / stride[0]⌋ + 1` GRU outputs (11 for 101 frames with the
   * default CRNN's 20-frame kernel and 8-frame stride). Integer ≥ the conv kernel's time size.
   * Default: the model's input frames.
   */
  windowFrames?: number;
  /**
   * Frames between two posteriors: a positive multiple of the conv time stride (8 frames =
   * 80 ms for the default CRNN). Default: the stride.
   */
  hopFrames?: number;
}

/** Largest attention window, in GRU outputs (the runtime's limit). */
const MAX_WINDOW_STEPS = 4096;

/**
 * Compiles a model for {@link CrnnStatefulMode}, translating "not a CRNN" into the error that
 * explains what stateful streaming supports.
 *
 * @throws KwsError `INVALID_ARGUMENT` when the model is not a unidirectional kws-kit CRNN (conv
 *   models such as a causal BC-ResNet stream through `toStreaming` instead) or not a LayersModel.
 */
export function compileStatefulCrnn(model: LayersModel): CrnnRuntime {
  let runtime: CrnnRuntime;
  try {
    runtime = compileCrnn(model);
  } catch (error) {
    if (error instanceof KwsError && error.code === 'MODEL_INVALID') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        "mode 'stateful' cannot carry this recurrent model's state: it supports unidirectional " +
          'kws-kit CRNNs (crnn()), whose GRU state is carried between hops (conv models such as a ' +
          "causal BC-ResNet stream through toStreaming() instead). Use mode 'window' for this model. " +
          `(${error.message})`,
      );
    }
    throw error;
  }
  if (runtime.bidirectional) throw bidirectionalError();
  return runtime;
}

/**
 * Stateful CRNN inference. With conv kernel `Kt` and stride `St` in time (20 and 8 frames by
 * default), conv step `n` (from 0) covers frames `[n·St, n·St + Kt)` of the stream; the GRU stack
 * runs once per conv step from a zero state at the start of the stream, never restarted; `g_n`
 * is the top GRU layer's output after step `n`. Posterior `k` (from 0) is
 *
 *     N_k = W + k · hopFrames / St          (conv steps seen)
 *     p_k = softmax(D · Σ_{n = N_k − W}^{N_k − 1} α_n g_n + d),   α = softmax_n(vᵀ tanh(A g_n + b) + c)
 *     endFrame_k = (N_k − 1) · St + Kt = (W − 1) · St + Kt + k · hopFrames
 *
 * i.e. attention pools the last `W` GRU outputs, whose recurrent state carries the whole stream
 * since its start (or the last {@link CrnnStatefulMode.reset}). Posterior 0 (endFrame 100 for the
 * default CRNN and W = 11) is exactly the offline model on the first window of the stream (to
 * float rounding: ~1e-7); later ones differ from the offline model on their window because the
 * GRU does not restart at the window's start (that is what `'window'` mode computes). The
 * numbers depend only on the frames, not on how they were chunked: the frames are fed to the
 * runtime in slices that end exactly at each posterior's `endFrame`.
 *
 * Cost per hop: `hopFrames / St` conv steps and GRU steps plus one attention pooling (about
 * 12 % of one offline forward pass per conv step). Memory is constant: `Kt` frames, one hidden
 * vector per GRU layer and the last `W` GRU outputs and scores. No tensors are created.
 */
export class CrnnStatefulMode implements InferenceMode {
  /** The compiled CRNN. */
  readonly runtime: CrnnRuntime;
  /** GRU outputs pooled by attention per posterior (`W`). */
  readonly windowSteps: number;
  /** Frames of audio the first posterior depends on: `(W − 1)·St + Kt`. */
  readonly windowFrames: number;
  /** Frames between posteriors (a multiple of the conv time stride). */
  readonly hopFrames: number;
  /** Conv steps between posteriors: `hopFrames / St`. */
  readonly hopSteps: number;
  /** Values held by the stream state, whatever its length: `Kt·mels + layers·H + W·(H + 1)`. */
  readonly stateValues: number;
  private readonly state: CrnnState;
  /** Frame count at which the next posterior is due. */
  private nextEnd: number;
  private disposed = false;

  /**
   * @throws KwsError `INVALID_ARGUMENT` for bad options (a hop that is not a multiple of the conv
   *   stride, a model that is not a unidirectional kws-kit CRNN), `SHAPE_MISMATCH` for a window
   *   shorter than the conv kernel.
   */
  constructor(options: CrnnStatefulModeOptions) {
    const o = checkOptions('options', options);
    if ((o.model === undefined) === (o.runtime === undefined)) {
      throw new KwsError('INVALID_ARGUMENT', 'give exactly one of model (a kws-kit CRNN) or runtime');
    }
    const runtime = o.runtime ?? compileStatefulCrnn(o.model as LayersModel);
    if (runtime === null || typeof runtime !== 'object' || typeof runtime.createState !== 'function') {
      throw new KwsError('INVALID_ARGUMENT', 'runtime must be a compiled CRNN from compileCrnn()');
    }
    if (runtime.bidirectional) throw bidirectionalError();
    this.runtime = runtime;
    const [kt, st] = [runtime.kernelSize[0], runtime.stride[0]];
    const windowFrames = checkInt('windowFrames', o.windowFrames ?? runtime.frames, 1);
    if (windowFrames < kt) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `windowFrames ${windowFrames} is shorter than the conv kernel (${kt} frames); give at least ${kt}`,
      );
    }
    this.windowSteps = Math.floor((windowFrames - kt) / st) + 1;
    if (this.windowSteps > MAX_WINDOW_STEPS) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `windowFrames ${windowFrames} pools ${this.windowSteps} GRU outputs; at most ${MAX_WINDOW_STEPS} are allowed`,
      );
    }
    this.windowFrames = (this.windowSteps - 1) * st + kt;
    this.hopFrames = checkInt('hopFrames', o.hopFrames ?? st, 1);
    if (this.hopFrames % st !== 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `hopFrames must be a multiple of the CRNN's conv time stride (${st} frames); got ${this.hopFrames}`,
      );
    }
    this.hopSteps = this.hopFrames / st;
    const h = runtime.hiddenSize;
    this.stateValues = kt * runtime.mels + runtime.gruLayers * h + this.windowSteps * (h + 1);
    this.state = runtime.createState({ mode: 'carry', window: this.windowSteps });
    this.nextEnd = this.windowFrames;
  }

  /** Frames held for the next conv step (fewer than the kernel's `Kt`). */
  get bufferedFrames(): number {
    const s = this.state;
    return Math.max(0, s.framesSeen - s.stepsSeen * this.runtime.stride[0]);
  }

  /** Frames consumed since the stream started. */
  get framesSeen(): number {
    return this.state.framesSeen;
  }

  /**
   * Consumes `frames` (the ones following those given before) and resolves with the posteriors
   * they complete, oldest first. Synchronous work; async only to fit {@link InferenceMode}.
   *
   * @throws KwsError `DISPOSED` after {@link CrnnStatefulMode.dispose}, `SHAPE_MISMATCH` when the
   *   frames do not have the model's number of bins, `NON_FINITE_INPUT` for NaN/±Infinity.
   */
  async step(frames: Spectrogram): Promise<Posterior[]> {
    this.checkAlive();
    const mels = this.runtime.mels;
    checkFrames(frames, mels);
    const posteriors: Posterior[] = [];
    let pos = 0;
    while (pos < frames.frames) {
      // Slices end at each posterior's frame so that the runtime's output is that posterior,
      // whatever the chunking (a call completing several conv steps reports only its last).
      const toEnd = this.nextEnd - this.state.framesSeen;
      const take = Math.min(toEnd, frames.frames - pos);
      const result = this.runtime.step(
        this.state,
        frames.data.subarray(pos * mels, (pos + take) * mels),
        take,
      );
      pos += take;
      if (take === toEnd) {
        if (result.logits === undefined) {
          throw new KwsError('MODEL_INVALID', 'the CRNN runtime gave no output at a posterior boundary');
        }
        posteriors.push({
          endFrame: this.nextEnd,
          scores: softmaxRows(result.logits, 1, result.logits.length, new Float32Array(result.logits.length)),
        });
        this.nextEnd += this.hopFrames;
      }
    }
    return posteriors;
  }

  /** Forgets the stream: the next frame is frame 0 and the GRU state is zero. */
  reset(): void {
    this.checkAlive();
    this.state.reset();
    this.nextEnd = this.windowFrames;
  }

  /** Ends the mode (there are no tensors to release); later calls throw `DISPOSED`. */
  dispose(): void {
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) {
      throw new KwsError('DISPOSED', 'this stateful CRNN mode was disposed; create a new one');
    }
  }
}

function bidirectionalError(): KwsError {
  return new KwsError(
    'INVALID_ARGUMENT',
    "mode 'stateful' needs a CRNN with unidirectional GRUs: a backward GRU needs the end of " +
      "the window first; use mode 'window' for bidirectional CRNNs",
  );
}
