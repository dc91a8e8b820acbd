/**
 * Per-frame kernels of the streaming conv runtime ({@link StreamingConvNet}): each op reads the
 * current frame of its inputs and writes the current frame of its output, in plain TypeScript on
 * preallocated `Float64Array`s (no allocation, no tensors per frame).
 *
 * A frame of a layer output `[batch, time, rows, cols]` (or `[batch, time, cols]`, read as one
 * row) is stored row-major, `value[r·cols + c]`. The only ops that look back in time are the
 * causal convolutions: they keep a ring of their last `(kt − 1)·dt + 1` input frames, initialised
 * to zeros, which is exactly the zero padding the offline layer puts before frame 0.
 *
 * Arithmetic is float64 (JavaScript's own number type; reading float32 would cost a conversion
 * per load), so results match tfjs' float32 kernels to float32 rounding (~1e-6).
 *
 * @internal
 * @packageDocumentation
 */
import { type ActivationName, applyActivation } from '../models/index.js';

/** One step of the per-frame program. */
export interface FrameOp {
  /** The op's output for the current frame (owned by the op, overwritten by every `run`). */
  readonly output: Float64Array;
  /** Multiply-accumulates of one `run` (convolution taps and matrix products). */
  readonly macs: number;
  /** Multiply-accumulates of normalisation (2 per element of a folded scale-and-shift). */
  readonly normMacs: number;
  /** Values the op keeps from frame to frame (its input history), 0 for stateless ops. */
  readonly stateValues: number;
  /** Computes `output` from the inputs' current frames. */
  run(): void;
  /** Forgets the history (zeros, as before the first frame). */
  reset(): void;
}

/** Geometry and weights of a {@link CausalConvOp}. */
export interface CausalConvSpec {
  /** Input frame buffer, `[inRows, inChannels]`. */
  input: Float64Array;
  inRows: number;
  /** 1 (one plane broadcast to every output channel: a full 1 → C conv) or `channels` (depthwise). */
  inChannels: number;
  /** Output channels C. */
  channels: number;
  /** Taps `[time, freq]`. */
  kernel: readonly [number, number];
  /** Tap spacing `[time, freq]`. */
  dilation: readonly [number, number];
  /** Stride along rows (frequency). */
  rowStride: number;
  /** Zero rows before the input (the rest of the padding is implied by `outRows`). */
  padRowsBefore: number;
  outRows: number;
  /** `[kt, kf, C]` row-major. */
  weights: Float64Array;
  /** `[C]` or null. */
  bias: Float64Array | null;
}

/**
 * Causal per-channel time-frequency convolution (`SpectralConv` / `TemporalConv` with causal time
 * padding), one output frame per input frame:
 *
 *     y_t[o, c] = b[c] + Σ_{i<kt} Σ_{j<kf} x_{t − (kt−1−i)·dt}[o·s + j·df − p, c'] · w[i, j, c]
 *
 * with `c' = c` (depthwise) or 0 (1-channel input), rows outside the input and frames before
 * the stream start read as zero.
 */
export class CausalConvOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs: number;
  readonly normMacs = 0;
  readonly stateValues: number;
  private readonly spec: CausalConvSpec;
  private readonly history: Float64Array;
  private readonly slots: number;
  private readonly frameSize: number;
  /** Per output row, the taps (j) whose input row is inside the frame, and that row. */
  private readonly rowTaps: Int32Array;
  private readonly rowTapStart: Int32Array;
  private head = 0;

  constructor(spec: CausalConvSpec) {
    this.spec = spec;
    const [kt, kf] = spec.kernel;
    this.slots = (kt - 1) * spec.dilation[0] + 1;
    this.frameSize = spec.inRows * spec.inChannels;
    this.history = new Float64Array(this.slots * this.frameSize);
    this.stateValues = (this.slots - 1) * this.frameSize;
    this.output = new Float64Array(spec.outRows * spec.channels);
    this.macs = spec.outRows * spec.channels * kt * kf;
    // Pairs (j, input row) per output row, so the hot loop has no bounds test.
    const pairs: number[] = [];
    this.rowTapStart = new Int32Array(spec.outRows + 1);
    for (let o = 0; o < spec.outRows; o++) {
      this.rowTapStart[o] = pairs.length / 2;
      for (let j = 0; j < kf; j++) {
        const row = o * spec.rowStride + j * spec.dilation[1] - spec.padRowsBefore;
        if (row >= 0 && row < spec.inRows) pairs.push(j, row);
      }
    }
    this.rowTapStart[spec.outRows] = pairs.length / 2;
    this.rowTaps = Int32Array.from(pairs);
  }

  run(): void {
    const { input, inChannels, channels, weights, bias, outRows, kernel, dilation } = this.spec;
    const { history, frameSize, slots, output, rowTaps, rowTapStart } = this;
    history.set(input, this.head * frameSize);
    if (bias === null) output.fill(0);
    else for (let o = 0; o < outRows; o++) output.set(bias, o * channels);
    const [kt, kf] = kernel;
    const depthwise = inChannels !== 1;
    for (let i = 0; i < kt; i++) {
      let slot = this.head - (kt - 1 - i) * dilation[0];
      if (slot < 0) slot += slots;
      const frameBase = slot * frameSize;
      for (let o = 0; o < outRows; o++) {
        const outBase = o * channels;
        const end = rowTapStart[o + 1] as number;
        for (let p = rowTapStart[o] as number; p < end; p++) {
          const j = rowTaps[2 * p] as number;
          const row = rowTaps[2 * p + 1] as number;
          const wBase = (i * kf + j) * channels;
          if (depthwise) {
            const xBase = frameBase + row * channels;
            for (let c = 0; c < channels; c++) {
              output[outBase + c] =
                (output[outBase + c] as number) +
                (history[xBase + c] as number) * (weights[wBase + c] as number);
            }
          } else {
            const x = history[frameBase + row] as number;
            for (let c = 0; c < channels; c++) {
              output[outBase + c] = (output[outBase + c] as number) + x * (weights[wBase + c] as number);
            }
          }
        }
      }
    }
    this.head = this.head + 1 === slots ? 0 : this.head + 1;
  }

  reset(): void {
    this.history.fill(0);
    this.head = 0;
  }
}

/**
 * `y = x · scale + offset` per element, with `scale` and `offset` given per element of the
 * frame: inference-mode BatchNormalization and SubSpectralNorm with their moving statistics
 * folded in (`scale = γ / √(σ² + ε)`, `offset = β − μ · scale`).
 */
export class AffineOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs = 0;
  readonly normMacs: number;
  readonly stateValues = 0;
  private readonly input: Float64Array;
  private readonly scale: Float64Array;
  private readonly offset: Float64Array;

  constructor(input: Float64Array, scale: Float64Array, offset: Float64Array) {
    this.input = input;
    this.scale = scale;
    this.offset = offset;
    this.output = new Float64Array(input.length);
    this.normMacs = 2 * input.length;
  }

  run(): void {
    const { input, scale, offset, output } = this;
    for (let k = 0; k < output.length; k++) {
      output[k] = (input[k] as number) * (scale[k] as number) + (offset[k] as number);
    }
  }

  reset(): void {}
}

/** Mean over the rows of `[rows, cols]`, giving `[1, cols]` (`FrequencyMean`, and time pooling's per-frame part). */
export class RowMeanOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs = 0;
  readonly normMacs = 0;
  readonly stateValues = 0;
  private readonly input: Float64Array;
  private readonly rows: number;

  constructor(input: Float64Array, rows: number, cols: number) {
    this.input = input;
    this.rows = rows;
    this.output = new Float64Array(cols);
  }

  run(): void {
    meanRows(this.input, this.rows, this.output);
  }

  reset(): void {}
}

/** `out[c] = mean_r x[r·cols + c]` for `cols = out.length`. */
export function meanRows(x: Float64Array, rows: number, out: Float64Array): void {
  const cols = out.length;
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c] = (out[c] as number) + (x[base + c] as number);
  }
  for (let c = 0; c < cols; c++) out[c] = (out[c] as number) / rows;
}

/** An elementwise activation (tfjs-layers `Activation` and `ReLU` layers). */
export class ActivationOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs = 0;
  readonly normMacs = 0;
  readonly stateValues = 0;
  private readonly input: Float64Array;
  private readonly cols: number;
  private readonly kind: ActivationName;
  private readonly maxValue: number | null;

  constructor(input: Float64Array, cols: number, kind: ActivationName, maxValue: number | null = null) {
    this.input = input;
    this.cols = cols;
    this.kind = kind;
    this.maxValue = maxValue;
    this.output = new Float64Array(input.length);
  }

  run(): void {
    this.output.set(this.input);
    applyActivation(this.output, this.cols, this.kind, this.maxValue);
  }

  reset(): void {}
}

/**
 * A dense layer on the last axis of `[rows, inUnits]`: `y[r, u] = act(b[u] + Σ_k x[r, k] · W[k, u])`
 * (tfjs-layers `Dense`, which BC-ResNet uses as its 1×1 convolutions).
 */
export class DenseOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs: number;
  readonly normMacs = 0;
  readonly stateValues = 0;
  private readonly input: Float64Array;
  private readonly rows: number;
  private readonly inUnits: number;
  private readonly units: number;
  /** `[inUnits, units]` row-major. */
  private readonly kernel: Float64Array;
  private readonly bias: Float64Array | null;
  private readonly activation: ActivationName;

  constructor(
    input: Float64Array,
    rows: number,
    kernel: Float64Array,
    units: number,
    bias: Float64Array | null,
    activation: ActivationName,
  ) {
    this.input = input;
    this.rows = rows;
    this.inUnits = kernel.length / units;
    this.units = units;
    this.kernel = kernel;
    this.bias = bias;
    this.activation = activation;
    this.output = new Float64Array(rows * units);
    this.macs = rows * this.inUnits * units;
  }

  run(): void {
    const { input, rows, inUnits, units, kernel, bias, output } = this;
    for (let r = 0; r < rows; r++) {
      const outBase = r * units;
      if (bias === null) output.fill(0, outBase, outBase + units);
      else output.set(bias, outBase);
      const inBase = r * inUnits;
      for (let k = 0; k < inUnits; k++) {
        const x = input[inBase + k] as number;
        if (x === 0) continue; // post-ReLU inputs are often exactly zero
        const wBase = k * units;
        for (let u = 0; u < units; u++) {
          output[outBase + u] = (output[outBase + u] as number) + x * (kernel[wBase + u] as number);
        }
      }
    }
    applyActivation(output, units, this.activation, null);
  }

  reset(): void {}
}

/**
 * Elementwise sum of frames `[rows_i, cols]` where each `rows_i` is `rows` or 1 (broadcast over
 * rows: BC-ResNet's "broadcasted residual" adds `[1, C]` temporal features to `[F, C]` ones).
 */
export class AddOp implements FrameOp {
  readonly output: Float64Array;
  readonly macs = 0;
  readonly normMacs = 0;
  readonly stateValues = 0;
  private readonly inputs: readonly Float64Array[];
  private readonly rows: number;
  private readonly cols: number;

  constructor(inputs: readonly Float64Array[], rows: number, cols: number) {
    this.inputs = inputs;
    this.rows = rows;
    this.cols = cols;
    this.output = new Float64Array(rows * cols);
  }

  run(): void {
    const { inputs, rows, cols, output } = this;
    output.fill(0);
    for (const x of inputs) {
      if (x.length === output.length) {
        for (let k = 0; k < output.length; k++) output[k] = (output[k] as number) + (x[k] as number);
      } else {
        for (let r = 0; r < rows; r++) {
          const base = r * cols;
          for (let c = 0; c < cols; c++) output[base + c] = (output[base + c] as number) + (x[c] as number);
        }
      }
    }
  }

  reset(): void {}
}
