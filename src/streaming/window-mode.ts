/**
 * Window-mode inference: every `hopFrames` frames, run the classifier on the last `windowFrames`
 * frames. What the non-streaming model computes on the same slice of the offline spectrogram,
 * whatever the chunking; costs one full forward pass per hop, run by a compiled plain-TypeScript
 * runtime when the model is one kws-kit can compile, else by tfjs `model.predict`.
 *
 * @packageDocumentation
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { Spectrogram } from '../features/index.js';
import { checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import type { InferenceMode, Posterior } from './inference-mode.js';
import { describeModel, type ModelGeometry } from './model-input.js';
import { FrameRingBuffer } from './ring-buffer.js';
import {
  createWindowPredictor,
  type ModelRuntime,
  RUNTIME_OPTIONS,
  type RuntimeOption,
  type WindowPredictor,
} from './window-predictor.js';

/** Default number of windows run through the model in one `predict` call. */
export const DEFAULT_MAX_BATCH = 16;

/** Options of {@link WindowMode}. */
export interface WindowModeOptions {
  /** Classifier: `[batch, frames, bins]` (or `[…, 1]`) log-mels → `[batch, classes]`. Required. */
  model: LayersModel;
  /** Frames of features per window (the audio the model sees). Required, ≥ 1. */
  windowFrames: number;
  /** Frames between two windows, ≥ 1. Required. */
  hopFrames: number;
  /**
   * Value of the frames put before the window when the model takes a fixed number of frames
   * larger than `windowFrames`. Default `ln(1e-6)`, the log-mel of digital silence with the
   * default front end.
   */
  padValue?: number;
  /**
   * What the model outputs: `'logits'` (softmax is applied, default) or `'probabilities'`
   * (used as they are).
   */
  modelOutput?: 'logits' | 'probabilities';
  /** Windows per `predict` call when one step completes several, in [1, 256]. Default 16. */
  maxBatch?: number;
  /**
   * Engine that runs the model (see {@link RuntimeOption}). Default `'auto'`: the compiled
   * plain-TypeScript runtime when the model is a kws-kit conv model (`bcResNet`, causal or not,
   * or a graph of the same layers: `compileConvNet`) or CRNN (`compileCrnn`), else tfjs
   * `model.predict`. `'compiled'` throws `INVALID_ARGUMENT` for a model they cannot compile;
   * `'tfjs'` always uses `model.predict`. A compiled runtime reads the weights once, here: later
   * changes to the model's weights are not seen.
   */
  runtime?: RuntimeOption;
}

/**
 * Sliding-window inference. The first window ends after frame `windowFrames − 1` (frames count
 * from the start of the stream), the next ones every `hopFrames` frames:
 *
 *     window k = frames [e_k − windowFrames, e_k),   e_k = windowFrames + k·hopFrames
 *
 * and its posterior is `softmax(model(window))` (reported with `endFrame = e_k`). A model with a
 * fixed input of `T > windowFrames` frames gets `T − windowFrames` frames of `padValue` before
 * the window. When one step completes several windows they go through the model in batches of
 * up to `maxBatch`.
 *
 * The model runs on a compiled plain-TypeScript runtime when it can (`runtime: 'auto'`, see
 * {@link WindowModeOptions.runtime}; {@link WindowMode.runtime} says which): the same logits as
 * `model.predict` to float32 rounding (about 1e-6; 1e-7 for CRNNs), several times faster than
 * tfjs on the wasm backend and tens of times faster than on cpu, with no tensors at all. Its
 * weights are those of the model when the mode was built.
 *
 * Memory: a ring of `windowFrames` frames and one batch buffer of up to `maxBatch · T · bins`
 * floats (grown to the largest batch a step needed), plus, for a compiled runtime, a copy of
 * the weights and its activation buffers. Batching does not change the numbers: the compiled
 * runtimes compute each window of a batch exactly as alone, and the cpu and wasm backends were
 * measured bit-identical for batches of 1, 3 and 16 (BC-ResNet posteriors), so results do not
 * depend on how the stream was chunked.
 */
export class WindowMode implements InferenceMode {
  /** Frames of features per window. */
  readonly windowFrames: number;
  /** Frames between windows. */
  readonly hopFrames: number;
  /** Frames per example fed to the model (≥ windowFrames). */
  readonly inputFrames: number;
  /** Input/output geometry of the model. */
  readonly geometry: ModelGeometry;
  /** The engine that runs the model (see {@link WindowModeOptions.runtime}). */
  readonly runtime: ModelRuntime;
  private readonly predictor: WindowPredictor;
  private readonly padValue: number;
  private readonly maxBatch: number;
  private readonly ring: FrameRingBuffer;
  /** Input of the model, `[count, inputFrames, bins]`: reused, grown to the largest count. */
  private batch = new Float32Array(0);
  /** Frames consumed since the stream started. */
  private seen = 0;
  /** Frame count at which the next window ends. */
  private nextEnd: number;
  /** Bumped by reset/dispose so that a step suspended in `await` knows its stream is gone. */
  private generation = 0;
  private disposed = false;

  /**
   * @throws KwsError `INVALID_ARGUMENT` for bad options (including `runtime: 'compiled'` with a
   *   model the compiled runtimes do not support, naming why), `MODEL_INVALID` for a model that
   *   does not map `[batch, frames, bins]` to `[batch, classes]`, `SHAPE_MISMATCH` when the model
   *   takes fewer frames than `windowFrames`.
   */
  constructor(options: WindowModeOptions) {
    const o = checkOptions('options', options);
    this.geometry = describeModel(o.model as LayersModel);
    this.windowFrames = checkInt('windowFrames', o.windowFrames, 1);
    this.hopFrames = checkInt('hopFrames', o.hopFrames, 1);
    this.padValue = checkNumber('padValue', o.padValue ?? Math.log(1e-6));
    const softmax =
      checkChoice('modelOutput', o.modelOutput ?? 'logits', ['logits', 'probabilities']) === 'logits';
    this.maxBatch = checkInt('maxBatch', o.maxBatch ?? DEFAULT_MAX_BATCH, 1, 256);
    const runtime = checkChoice('runtime', o.runtime ?? 'auto', RUNTIME_OPTIONS);
    const fixed = this.geometry.frames;
    if (fixed !== null && fixed < this.windowFrames) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `the model takes ${fixed} frames per example, fewer than the ${this.windowFrames}-frame window; ` +
          'shorten the window or use a model with a variable or longer time axis',
      );
    }
    this.inputFrames = fixed ?? this.windowFrames;
    this.predictor = createWindowPredictor({
      model: o.model as LayersModel,
      geometry: this.geometry,
      inputFrames: this.inputFrames,
      softmax,
      runtime,
      maxBatch: this.maxBatch,
    });
    this.runtime = this.predictor.runtime;
    this.ring = new FrameRingBuffer(this.windowFrames, this.geometry.bins);
    this.nextEnd = this.windowFrames;
  }

  /** Frames held in the ring buffer (at most `windowFrames`). */
  get bufferedFrames(): number {
    return this.ring.length;
  }

  /**
   * Consumes `frames` and resolves with the posteriors of the windows they complete.
   *
   * @throws KwsError `DISPOSED` after {@link WindowMode.dispose}, `SHAPE_MISMATCH` when the
   *   frames do not have the model's number of bins; with a compiled runtime,
   *   `NON_FINITE_INPUT` for a window holding NaN/±Infinity (tfjs would return NaN scores).
   */
  async step(frames: Spectrogram): Promise<Posterior[]> {
    this.checkAlive();
    const { bins, classes } = this.geometry;
    if (frames.bins !== bins || frames.data.length < frames.frames * bins) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `frames have ${frames.bins} bins; the model takes ${bins} per frame`,
      );
    }
    const generation = this.generation;
    const { windowFrames, hopFrames, inputFrames } = this;
    const frameSize = inputFrames * bins;
    const posteriors: Posterior[] = [];
    let pos = 0;
    for (;;) {
      const available = this.seen + (frames.frames - pos);
      const due = available < this.nextEnd ? 0 : 1 + Math.floor((available - this.nextEnd) / hopFrames);
      const count = Math.min(due, this.maxBatch);
      if (count === 0) break;
      const batch = this.batchOf(count);
      const ends: number[] = [];
      for (let j = 0; j < count; j++) {
        const needed = this.nextEnd - this.seen;
        this.ring.push(frames.data.subarray(pos * bins, (pos + needed) * bins), needed);
        pos += needed;
        this.seen += needed;
        this.ring.readLast(windowFrames, batch, j * frameSize + (inputFrames - windowFrames) * bins);
        ends.push(this.nextEnd);
        this.nextEnd += hopFrames;
      }
      const scores = await this.predictor.predict(batch, count);
      // reset() or dispose() ran while the model was busy: this stream no longer exists.
      if (generation !== this.generation) return [];
      for (const [j, endFrame] of ends.entries()) {
        posteriors.push({ endFrame, scores: scores.slice(j * classes, (j + 1) * classes) });
      }
    }
    const rest = frames.frames - pos;
    this.ring.push(frames.data.subarray(pos * bins, frames.frames * bins), rest);
    this.seen += rest;
    return posteriors;
  }

  /** Forgets the stream: the next frame is frame 0. */
  reset(): void {
    this.checkAlive();
    this.generation++;
    this.ring.clear();
    this.seen = 0;
    this.nextEnd = this.windowFrames;
  }

  /**
   * Ends the mode. The model belongs to the caller and is not disposed; the mode holds no
   * tensors between steps.
   */
  dispose(): void {
    if (this.disposed) return;
    this.generation++;
    this.disposed = true;
  }

  /**
   * The first `count` examples of the reused input buffer. Its padding frames (before each
   * window) are written once, when it is allocated: steps only overwrite the window frames.
   */
  private batchOf(count: number): Float32Array {
    const frameSize = this.inputFrames * this.geometry.bins;
    if (this.batch.length < count * frameSize) {
      this.batch = new Float32Array(count * frameSize);
      if (this.inputFrames > this.windowFrames) this.batch.fill(this.padValue);
    }
    return this.batch.subarray(0, count * frameSize);
  }

  private checkAlive(): void {
    if (this.disposed) throw new KwsError('DISPOSED', 'this window mode was disposed; create a new one');
  }
}
