/**
 * One per-channel convolution of the compiled trainer (`SpectralConv`, `TemporalConv`: 1 → C or
 * depthwise) with the kernels for its shape and the scratch they need, over a batch of examples
 * laid out `[batch, frames, bins, channels]`.
 *
 * The forward passes are the inference runtime's kernels (`conv-kernels.ts`), called per example
 * (or per block of frames) on views of the batch, with a zero bias:
 *
 * - a 5×5 undilated convolution (BC-ResNet's stem, on the 1-channel spectrogram, and its
 *   classifier's depthwise convolution): `conv5x5` on a zero-bordered float64 copy of each
 *   example, kept for the backward pass, which is {@link conv5x5Backward};
 * - a 3-tap frequency convolution (one zero row each side, any stride): `residualFreqConv`
 *   without residual, bias or mean; backward {@link freqConv3Backward} (stride 1 or 2, rows a
 *   multiple of five) or {@link conv3Backward};
 * - a convolution along time only (`kf = 1`, stride 1, as many output frames as input frames):
 *   `timeConv`; backward {@link timeConv3Backward} for three taps;
 * - anything else: the general loops of `conv-grad.ts`.
 *
 * @internal
 * @packageDocumentation
 */
import {
  type ConvGeometry,
  type ConvKernel,
  conv5x5,
  padFrames,
  type ResidualOperands,
  residualFreqConv,
  timeConv,
} from '../../models/conv-kernels.js';
import {
  type ChannelConvGeometry,
  channelConvBackward,
  channelConvForward,
  conv3Backward,
  conv5x5Backward,
  freqConv3Backward,
  isFreqConv3Chunked,
  timeConv3Backward,
} from './conv-grad.js';

/** Which kernels a {@link ChannelConv} runs. */
type ConvKind = 'five' | 'freq3' | 'time' | 'general';

/** Frames per block of a frequency convolution's forward call: a block's x and y stay in L1/L2. */
const FREQ_BLOCK_FRAMES = 101;

function kindOf(g: ChannelConvGeometry): ConvKind {
  const depthwise = g.inChannels === g.channels;
  const plane = g.inChannels === 1;
  if (
    g.kt === 5 &&
    g.kf === 5 &&
    g.dt === 1 &&
    g.df === 1 &&
    (plane || depthwise) &&
    g.padTime + g.frames <= g.outFrames + 4
  ) {
    return 'five';
  }
  if (!depthwise) return 'general';
  if (
    g.kt === 1 &&
    g.kf === 3 &&
    g.df === 1 &&
    g.padRows === 1 &&
    g.padTime === 0 &&
    g.outFrames === g.frames
  ) {
    return 'freq3';
  }
  if (g.kf === 1 && g.stride === 1 && g.padRows === 0 && g.outRows === g.rows && g.outFrames === g.frames) {
    return 'time';
  }
  return 'general';
}

/**
 * Views of consecutive `size`-value blocks of an array, rebuilt only when the array changes (the
 * trainer's buffers change only with the batch size).
 */
class BlockViews {
  private source: Float32Array | null = null;
  private views: Float32Array[] = [];

  of(a: Float32Array, size: number, count: number): readonly Float32Array[] {
    if (a !== this.source || this.views.length !== count) {
      this.views = Array.from({ length: count }, (_, n) => a.subarray(n * size, (n + 1) * size));
      this.source = a;
    }
    return this.views;
  }
}

/**
 * A per-channel convolution with weights `w` (`[kt, kf, channels]`, the trainer's float64 copy,
 * read at every call) over examples of geometry `g`. {@link ChannelConv.alloc} before the first
 * call of a batch size.
 */
export class ChannelConv {
  private readonly kind: ConvKind;
  private readonly k: ConvKernel;
  private readonly inSize: number;
  private readonly outSize: number;
  /** 'five': rows and values per example of the bordered copy; the copies; a gradient scratch. */
  private readonly paddedRows: number;
  private readonly paddedSize: number;
  private padded: Float64Array = new Float64Array(0);
  private paddedViews: Float64Array[] = [];
  private dPadded: Float64Array = new Float64Array(0);
  private readonly xViews = new BlockViews();
  private readonly yViews = new BlockViews();
  /** 'freq3': the forward operands of each block of frames, rebuilt with the buffers. */
  private operands: ResidualOperands[] = [];
  private operandsFor: [Float32Array | null, Float32Array | null] = [null, null];
  /** 'general': scratch of the general forward loops. */
  private readonly taps: Float64Array;
  private readonly wT: Float64Array;

  constructor(
    private readonly g: ChannelConvGeometry,
    private readonly w: Float64Array,
  ) {
    this.kind = kindOf(g);
    const geometry: ConvGeometry = { ...g, rowsPerGroup: g.outRows };
    this.k = { g: geometry, w, bias: new Float64Array(g.channels) };
    this.inSize = g.frames * g.rows * g.inChannels;
    this.outSize = g.outFrames * g.outRows * g.channels;
    this.paddedRows = Math.max(g.padRows + g.rows, (g.outRows - 1) * g.stride + 5);
    this.paddedSize = (g.outFrames + 4) * this.paddedRows * g.inChannels;
    const K = g.kt * g.kf;
    this.taps = new Float64Array(K);
    this.wT = new Float64Array(K * (g.channels + 3));
  }

  /** Sizes the scratch for `batch` examples. */
  alloc(batch: number): void {
    if (this.kind === 'five') {
      // Zero borders at allocation; the forward pass writes only the interiors.
      if (this.padded.length !== batch * this.paddedSize) {
        const size = this.paddedSize;
        this.padded = new Float64Array(batch * size);
        this.paddedViews = Array.from({ length: batch }, (_, n) =>
          this.padded.subarray(n * size, (n + 1) * size),
        );
      }
      if (this.dPadded.length !== this.paddedSize) this.dPadded = new Float64Array(this.paddedSize);
    }
  }

  /** Overwrites `y` (`[batch, outFrames, outBins, channels]`) with the convolution of `x`. */
  forward(batch: number, x: Float32Array, y: Float32Array): void {
    const { g, k } = this;
    switch (this.kind) {
      case 'five': {
        const ys = this.yViews.of(y, this.outSize, batch);
        const ci = g.inChannels;
        const frameStride = this.paddedRows * ci;
        for (let n = 0; n < batch; n++) {
          const xp = this.paddedViews[n] as Float64Array;
          padFrames(
            x,
            g.frames,
            g.rows,
            ci,
            g.padTime,
            g.padRows,
            this.paddedRows,
            this.padded,
            n * this.inSize,
            n * this.paddedSize,
          );
          conv5x5(xp, frameStride, ci, ci === 1 ? 0 : 1, k, ys[n] as Float32Array, false);
        }
        return;
      }
      case 'freq3': {
        for (const o of this.freqOperands(batch, x, y)) residualFreqConv(o);
        return;
      }
      case 'time': {
        const xs = this.xViews.of(x, this.inSize, batch);
        const ys = this.yViews.of(y, this.outSize, batch);
        for (let n = 0; n < batch; n++) timeConv(xs[n] as Float32Array, k, ys[n] as Float32Array, false);
        return;
      }
      default:
        channelConvForward(g, batch, x, this.w, y, this.taps, this.wT);
    }
  }

  /**
   * Adds the kernel gradient into `dw` and, unless `dx` is null, writes (`assign`) or adds the
   * input gradient into `dx`, for output gradient `dy`; `x` is the forward pass's input.
   */
  backward(
    batch: number,
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    assign: boolean,
    dw: Float64Array,
  ): void {
    const { g, w } = this;
    const C = g.channels;
    switch (this.kind) {
      case 'five': {
        const ci = g.inChannels;
        const frameStride = this.paddedRows * ci;
        const chanStride = ci === 1 ? 0 : 1;
        const dxp = dx === null ? null : this.dPadded;
        for (let n = 0; n < batch; n++) {
          const xp = this.paddedViews[n] as Float64Array;
          dxp?.fill(0);
          conv5x5Backward(
            xp,
            frameStride,
            ci,
            chanStride,
            g.outFrames,
            g.outRows,
            C,
            g.stride,
            w,
            dy,
            n * this.outSize,
            dw,
            dxp,
          );
          if (dx !== null && dxp !== null) this.unpad(dxp, dx, n * this.inSize, assign);
        }
        return;
      }
      case 'freq3': {
        if (!isFreqConv3Chunked(g.rows, g.outRows, g.stride)) {
          if (dx !== null && assign) dx.fill(0, 0, batch * this.inSize);
          conv3Backward(batch * g.frames, g.rows, g.outRows, C, g.stride, 1, 1, x, w, dy, dx, dw);
          return;
        }
        // Blocks of frames, so that each block's x, dy and dx stay in cache across channels.
        const lines = batch * g.frames;
        for (let t0 = 0; t0 < lines; t0 += FREQ_BLOCK_FRAMES) {
          const frames = Math.min(FREQ_BLOCK_FRAMES, lines - t0);
          freqConv3Backward(
            frames,
            g.rows,
            g.outRows,
            C,
            g.stride,
            x,
            t0 * g.rows * C,
            w,
            dy,
            t0 * g.outRows * C,
            dx,
            assign,
            dw,
          );
        }
        return;
      }
      case 'time': {
        if (g.kt === 3) {
          for (let n = 0; n < batch; n++) {
            timeConv3Backward(
              g.frames,
              g.rows,
              C,
              g.dt,
              g.padTime,
              x,
              w,
              dy,
              n * this.inSize,
              dx,
              assign,
              dw,
            );
          }
          return;
        }
        if (dx !== null && assign) dx.fill(0, 0, batch * this.inSize);
        channelConvBackward(g, batch, x, w, dy, dx, dw);
        return;
      }
      default:
        if (dx !== null && assign) dx.fill(0, 0, batch * this.inSize);
        channelConvBackward(g, batch, x, w, dy, dx, dw);
    }
  }

  /** `dx[xOff + …]` (+)= the interior of the bordered gradient `dxp` (layout of the copies). */
  private unpad(dxp: Float64Array, dx: Float32Array, xOff: number, assign: boolean): void {
    const { frames, rows: bins, inChannels: ci, padTime, padRows: padFreq } = this.g;
    const run = bins * ci;
    for (let t = 0; t < frames; t++) {
      const src = ((t + padTime) * this.paddedRows + padFreq) * ci;
      const dst = xOff + t * run;
      if (assign) for (let k = 0; k < run; k++) dx[dst + k] = dxp[src + k] as number;
      else for (let k = 0; k < run; k++) dx[dst + k] = (dx[dst + k] as number) + (dxp[src + k] as number);
    }
  }

  /** The forward operands of `residualFreqConv` for each block of frames of `x` → `y`. */
  private freqOperands(batch: number, x: Float32Array, y: Float32Array): readonly ResidualOperands[] {
    const { g, k } = this;
    const lines = batch * g.frames;
    const blocks = Math.ceil(lines / FREQ_BLOCK_FRAMES);
    if (this.operandsFor[0] === x && this.operandsFor[1] === y && this.operands.length === blocks) {
      return this.operands;
    }
    const none = new Float64Array(0);
    this.operands = Array.from({ length: blocks }, (_, b) => {
      const t0 = b * FREQ_BLOCK_FRAMES;
      const frames = Math.min(FREQ_BLOCK_FRAMES, lines - t0);
      const inFrame = g.rows * g.channels;
      const outFrame = g.outRows * g.channels;
      return {
        x: x.subarray(t0 * inFrame, (t0 + frames) * inFrame),
        k: frames === k.g.outFrames ? k : { ...k, g: { ...k.g, frames, outFrames: frames } },
        e: null,
        y: y.subarray(t0 * outFrame, (t0 + frames) * outFrame),
        relu: false,
        mean: null,
        meanW: none,
        meanB: none,
      };
    });
    this.operandsFor = [x, y];
    return this.operands;
  }
}
