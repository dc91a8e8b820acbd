/**
 * `StreamingConvNet`: the streaming form of a causal conv keyword model (a causal BC-ResNet and
 * other models built from kws-kit's layers), as produced by `toStreaming`. It runs the
 * model one feature frame at a time, in plain TypeScript on preallocated buffers, keeping only
 * the state each causal convolution needs (in the spirit of google-research `kws_streaming`'s
 * ring-buffer "internal state" streaming).
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkFinite, checkInt } from '../validate.js';
import type { FrameOp } from './frame-ops.js';
import { meanRows } from './frame-ops.js';

/** The compiled program of a {@link StreamingConvNet}; built by `toStreaming`. @internal */
export interface StreamingConvProgram {
  /** Feature bins per input frame. */
  bins: number;
  /** Buffer the current input frame is copied into. */
  input: Float64Array;
  /** Per-frame ops, in execution order. */
  frameOps: FrameOp[];
  /** Name of the layer whose per-frame output is pooled over time. */
  frameLayer: string;
  /** That layer's current frame, `[frameRows, frameCols]`. */
  frame: Float64Array;
  frameRows: number;
  frameCols: number;
  /** Buffer the window mean of the pooled features is written to (the head's input). */
  headInput: Float64Array;
  /** Ops after the time pooling, run once per {@link StreamingConvNet.logits} call. */
  headOps: FrameOp[];
  /** The head's result (`[numClasses]`). */
  headOutput: Float64Array;
  /** Input frames before the current one that a frame output depends on. */
  receptiveField: number;
  /** Frames averaged by the time pooling per output. */
  windowFrames: number;
}

/**
 * A causal conv model run frame by frame. Feed frames with {@link StreamingConvNet.pushFrames};
 * read the model output for the latest window with {@link StreamingConvNet.logits}.
 *
 * What it computes, for a model `time pooling ∘ frame stack` followed by a head (BC-ResNet:
 * frame stack = everything up to `BC_RESNET_FRAME_LAYER`, head = the logits layer):
 *
 * - **Frame outputs** (`pushFrames`'s `frameOutputs`): frame t of the frame layer, from input
 *   frames 0 … t of the stream. Every causal convolution keeps a ring of its last
 *   `(kt − 1)·dt` input frames, zeros at the stream start, so this equals the layers model run
 *   on the whole stream so far (its zero padding before frame 0 is the ring's initial zeros):
 *   equal frame by frame to float32 rounding, whatever the grouping of the frames.
 * - **Logits** (`logits()`): `head(mean over the last W frames of the frame outputs, averaged
 *   over their rows)`, W = `windowFrames`. For the first W frames of a stream (state from zeros
 *   at the window start) this is exactly the layers model's output on those W frames. Later
 *   windows differ from the model run on the window alone: the streaming form's convolutions
 *   see the real frames before the window where the offline model sees zero padding (the first
 *   `receptiveField` frame outputs of a window are affected; 116 frames for BC-ResNet). That is
 *   the intended behaviour of streaming (the model saw mid-utterance context in training too).
 *
 * Cost: `macsPerFrame` per frame (about 1/T of a T-frame forward pass) plus `headMacs` and a
 * mean over `W · featureSize` values per `logits()` call. No tensors, no allocation per frame
 * (`logits()` allocates its small result unless given `out`). Runs on any tfjs backend since it
 * uses none. Single-threaded; not reentrant.
 */
export class StreamingConvNet {
  /** Feature bins per input frame. */
  readonly bins: number;
  /** Outputs of the head (classes). */
  readonly numClasses: number;
  /** Name of the frame layer (the time pooling's input). */
  readonly frameLayer: string;
  /** Rows (frequency) of one frame of the frame layer. */
  readonly frameRows: number;
  /** Channels of one frame of the frame layer. */
  readonly frameCols: number;
  /** Values pooled per frame (`frameCols`): the frame layer averaged over its rows. */
  readonly featureSize: number;
  /** Frames averaged per output (W). */
  readonly windowFrames: number;
  /** Input frames before the current one that a frame output depends on (BC-ResNet: 116). */
  readonly receptiveField: number;
  /** Multiply-accumulates per frame (conv taps and matrix products). */
  readonly macsPerFrame: number;
  /** Normalisation multiply-accumulates per frame (2 per element of each folded norm). */
  readonly normMacsPerFrame: number;
  /** Multiply-accumulates of the head per {@link StreamingConvNet.logits} call. */
  readonly headMacs: number;
  /** Values carried between frames: every conv's input history plus the W pooled features. */
  readonly stateValues: number;
  private readonly program: StreamingConvProgram;
  /** Ring of the last W pooled features, `[W, featureSize]`. */
  private readonly features: Float64Array;
  private featureHead = 0;
  private seen = 0;

  /** @internal Use `toStreaming`. */
  constructor(program: StreamingConvProgram) {
    this.program = program;
    this.bins = program.bins;
    this.numClasses = program.headOutput.length;
    this.frameLayer = program.frameLayer;
    this.frameRows = program.frameRows;
    this.frameCols = program.frameCols;
    this.featureSize = program.frameCols;
    this.windowFrames = program.windowFrames;
    this.receptiveField = program.receptiveField;
    const sum = (ops: FrameOp[], key: 'macs' | 'normMacs' | 'stateValues'): number =>
      ops.reduce((s, op) => s + op[key], 0);
    this.macsPerFrame = sum(program.frameOps, 'macs');
    this.normMacsPerFrame = sum(program.frameOps, 'normMacs');
    this.headMacs = sum(program.headOps, 'macs');
    this.features = new Float64Array(program.windowFrames * this.featureSize);
    this.stateValues = sum(program.frameOps, 'stateValues') + this.features.length;
  }

  /** Frames consumed since creation or the last {@link StreamingConvNet.reset}. */
  get framesSeen(): number {
    return this.seen;
  }

  /**
   * Consumes the next `count` frames of the stream.
   *
   * @param frames frame-major `[count, bins]` (only the first `count · bins` values are read).
   * @param count frames to consume; default `frames.length / bins`.
   * @param frameOutputs optional destination `[count, frameRows · frameCols]` for each frame's
   *   frame-layer output (row-major: `[row][channel]`).
   * @throws KwsError `INVALID_ARGUMENT` for a non-Float32Array or bad count, `SHAPE_MISMATCH`
   *   when `frames` or `frameOutputs` is too short, `NON_FINITE_INPUT` for NaN/±Infinity
   *   (checked before anything is consumed: the state is unchanged).
   */
  pushFrames(frames: Float32Array, count?: number, frameOutputs?: Float32Array): void {
    const { bins } = this;
    if (!(frames instanceof Float32Array)) {
      throw new KwsError('INVALID_ARGUMENT', 'frames must be a Float32Array of [count, bins] features');
    }
    if (count === undefined && frames.length % bins !== 0) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `frames has ${frames.length} values, not a multiple of ${bins} bins`,
      );
    }
    const n = count === undefined ? frames.length / bins : checkInt('count', count, 0);
    if (frames.length < n * bins) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `frames has ${frames.length} values; ${n} frames need ${n * bins}`,
      );
    }
    const frameSize = this.frameRows * this.frameCols;
    if (frameOutputs !== undefined) {
      if (!(frameOutputs instanceof Float32Array) || frameOutputs.length < n * frameSize) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `frameOutputs must be a Float32Array of at least ${n * frameSize} values (${n} frames × ${frameSize})`,
        );
      }
    }
    const used = frames.subarray(0, n * bins);
    checkFinite('frames', used);
    const { input, frameOps, frame, frameRows } = this.program;
    const { features, featureSize } = this;
    for (let t = 0; t < n; t++) {
      for (let b = 0; b < bins; b++) input[b] = used[t * bins + b] as number;
      for (const op of frameOps) op.run();
      if (frameOutputs !== undefined) {
        for (let k = 0; k < frameSize; k++) frameOutputs[t * frameSize + k] = frame[k] as number;
      }
      meanRows(
        frame,
        frameRows,
        features.subarray(this.featureHead * featureSize, (this.featureHead + 1) * featureSize),
      );
      this.featureHead = this.featureHead + 1 === this.windowFrames ? 0 : this.featureHead + 1;
      this.seen++;
    }
  }

  /**
   * The model output for the latest window: the head applied to the mean of the pooled
   * features of the last `min(W, framesSeen)` frames (see the class documentation for how it
   * relates to the offline model).
   *
   * @param out optional destination of `numClasses` values.
   * @returns `out`, or a new `Float32Array` `[numClasses]`.
   * @throws KwsError `INVALID_ARGUMENT` before the first frame, or for a too-short `out`.
   */
  logits(out?: Float32Array): Float32Array {
    if (this.seen === 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'no frame has been pushed yet: push frames before asking for logits',
      );
    }
    const target = out ?? new Float32Array(this.numClasses);
    if (!(target instanceof Float32Array) || target.length < this.numClasses) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `out must be a Float32Array of at least ${this.numClasses} values`,
      );
    }
    const { headInput, headOps, headOutput } = this.program;
    const { features, featureSize } = this;
    // Recomputed from the ring (not a running sum) so that rounding cannot drift over hours.
    const held = Math.min(this.seen, this.windowFrames);
    headInput.fill(0);
    for (let w = 0; w < held; w++) {
      let slot = this.featureHead - 1 - w;
      if (slot < 0) slot += this.windowFrames;
      const base = slot * featureSize;
      for (let c = 0; c < featureSize; c++)
        headInput[c] = (headInput[c] as number) + (features[base + c] as number);
    }
    for (let c = 0; c < featureSize; c++) headInput[c] = (headInput[c] as number) / held;
    for (const op of headOps) op.run();
    for (let k = 0; k < this.numClasses; k++) target[k] = headOutput[k] as number;
    return target;
  }

  /** Forgets the stream: every history is zero again (as before frame 0). */
  reset(): void {
    for (const op of this.program.frameOps) op.reset();
    this.features.fill(0);
    this.featureHead = 0;
    this.seen = 0;
  }
}
