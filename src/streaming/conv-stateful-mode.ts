/**
 * Stateful inference for causal conv models (BC-ResNet with `causal: true` and other models
 * built from kws-kit's layers): every frame runs once through the model's streaming form
 * ({@link toStreaming}), whose causal convolutions keep ring buffers of their past inputs; each
 * hop only averages the last W frame features and runs the classifier. No tensors.
 *
 * @packageDocumentation
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { Spectrogram } from '../features/index.js';
import { checkChoice, checkFinite, checkInt, checkOptions } from '../validate.js';
import { checkFrames, type InferenceMode, type Posterior } from './inference-mode.js';
import { softmaxRows } from './softmax.js';
import { StreamingConvNet } from './streaming-conv-net.js';
import { toStreaming } from './to-streaming.js';

/** Options of {@link ConvStatefulMode}. */
export interface ConvStatefulModeOptions {
  /** A causal conv model (`bcResNet({ causal: true })`). Give this or `net`. Converted once. */
  model?: LayersModel;
  /** An already converted model (from {@link toStreaming}); its state is reset and then owned by the mode. */
  net?: StreamingConvNet;
  /**
   * Frames W averaged per posterior (integer ≥ 1). Default: the `net`'s own W, or for `model` its
   * input frames (101 for a variable time axis).
   */
  windowFrames?: number;
  /** Frames between two posteriors (integer ≥ 1). Default 10 (100 ms with the default front end). */
  hopFrames?: number;
  /** `'logits'` (default: softmax is applied) or `'probabilities'` (the model ends in a softmax). */
  modelOutput?: 'logits' | 'probabilities';
}

/** Default frames between posteriors: 100 ms with the default 10 ms front-end hop. */
const DEFAULT_HOP_FRAMES = 10;

/**
 * Stateful conv inference. The streaming form runs from a zero state at the start of the stream
 * (or the last reset) and is never restarted; posterior k (from 0) is
 *
 *     e_k = W + k · hopFrames                       (endFrame: frames seen)
 *     p_k = softmax(head(mean_{t ∈ [e_k − W, e_k)} pool(frame_t)))
 *
 * where `frame_t` is the model's frame layer (BC-ResNet: `classifier_relu`) at frame t computed
 * from all frames ≤ t, `pool` its mean over frequency and `head` the layers after the time
 * pooling (the logits layer). Posterior 0 equals the offline model on the first window
 * (`model.predict` of frames `[0, W)`, the window mode's first posterior when W is the model's
 * input length) to float32 rounding; later ones differ from the offline model on their window
 * only through the context before the window, which the streaming form sees as real frames and
 * the offline model as zero padding (see {@link StreamingConvNet}).
 *
 * Chunking never changes the numbers: every frame goes through the same per-frame program.
 * Cost per hop: `hopFrames · macsPerFrame` + the head (BC-ResNet-1: about 1/101 of a full
 * forward pass per frame). Memory is constant: each conv's input history and the last W frame
 * features.
 */
export class ConvStatefulMode implements InferenceMode {
  /** The streaming model. */
  readonly net: StreamingConvNet;
  /** Frames averaged per posterior (W). */
  readonly windowFrames: number;
  /** Frames between posteriors. */
  readonly hopFrames: number;
  private readonly softmax: boolean;
  private readonly logits: Float32Array;
  /** Frame count at which the next posterior is due. */
  private nextEnd: number;
  private disposed = false;

  /**
   * @throws KwsError `INVALID_ARGUMENT` for bad options, `MODEL_INVALID` when `model` cannot be
   *   streamed (not causal, unknown layers; see {@link toStreaming}), `SHAPE_MISMATCH` when a
   *   given `windowFrames` differs from the `net`'s.
   */
  constructor(options: ConvStatefulModeOptions) {
    const o = checkOptions('options', options);
    if ((o.model === undefined) === (o.net === undefined)) {
      throw new KwsError('INVALID_ARGUMENT', 'give exactly one of model (a causal conv model) or net');
    }
    let net: StreamingConvNet;
    if (o.net !== undefined) {
      if (!(o.net instanceof StreamingConvNet)) {
        throw new KwsError('INVALID_ARGUMENT', 'net must be a StreamingConvNet from toStreaming()');
      }
      net = o.net;
      if (o.windowFrames !== undefined && o.windowFrames !== net.windowFrames) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `windowFrames ${String(o.windowFrames)} differs from the net's ${net.windowFrames}; ` +
            'convert the model with toStreaming(model, { windowFrames })',
        );
      }
      net.reset();
    } else {
      net = toStreaming(o.model as LayersModel, { windowFrames: o.windowFrames });
    }
    this.net = net;
    this.windowFrames = net.windowFrames;
    this.hopFrames = checkInt('hopFrames', o.hopFrames ?? DEFAULT_HOP_FRAMES, 1);
    this.softmax =
      checkChoice('modelOutput', o.modelOutput ?? 'logits', ['logits', 'probabilities']) === 'logits';
    this.logits = new Float32Array(net.numClasses);
    this.nextEnd = this.windowFrames;
  }

  /**
   * Input frames the state holds: the stem's history (the longest look-back of a conv fed by
   * the input), at most `receptiveField`; 0 at the start of a stream.
   */
  get bufferedFrames(): number {
    return Math.min(this.net.framesSeen, this.net.receptiveField, this.windowFrames);
  }

  /** Frames consumed since the stream started. */
  get framesSeen(): number {
    return this.net.framesSeen;
  }

  /**
   * Consumes `frames` (those following the frames given before) and resolves with the
   * posteriors they complete, oldest first. Synchronous work; async only to fit
   * {@link InferenceMode}. Rejected input leaves the state unchanged.
   *
   * @throws KwsError `DISPOSED` after dispose, `INVALID_ARGUMENT` for a malformed spectrogram,
   *   `SHAPE_MISMATCH` for the wrong number of bins, `NON_FINITE_INPUT` for NaN/±Infinity.
   */
  async step(frames: Spectrogram): Promise<Posterior[]> {
    this.checkAlive();
    const bins = this.net.bins;
    checkFrames(frames, bins);
    // Checked for the whole step first, so a rejected step consumes nothing.
    checkFinite('frames', frames.data.subarray(0, frames.frames * bins));
    const posteriors: Posterior[] = [];
    let pos = 0;
    while (pos < frames.frames) {
      const take = Math.min(this.nextEnd - this.net.framesSeen, frames.frames - pos);
      this.net.pushFrames(frames.data.subarray(pos * bins, (pos + take) * bins), take);
      pos += take;
      if (this.net.framesSeen === this.nextEnd) {
        this.net.logits(this.logits);
        const scores = new Float32Array(this.logits.length);
        if (this.softmax) softmaxRows(this.logits, 1, this.logits.length, scores);
        else scores.set(this.logits);
        posteriors.push({ endFrame: this.nextEnd, scores });
        this.nextEnd += this.hopFrames;
      }
    }
    return posteriors;
  }

  /** Forgets the stream: the next frame is frame 0 and every conv history is zero. */
  reset(): void {
    this.checkAlive();
    this.net.reset();
    this.nextEnd = this.windowFrames;
  }

  /** Ends the mode (there are no tensors to release); later calls throw `DISPOSED`. */
  dispose(): void {
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) {
      throw new KwsError('DISPOSED', 'this stateful conv mode was disposed; create a new one');
    }
  }
}
