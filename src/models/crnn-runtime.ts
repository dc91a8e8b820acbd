/**
 * A compiled inference engine for kws-kit CRNN models in plain TypeScript: no tensors, no
 * backend, every buffer allocated at compile time (calls allocate only the small arrays they
 * return).
 *
 * tfjs-layers runs a GRU as hundreds of tiny kernels per forward pass (10–130 ms for the default
 * CRNN on the cpu backend, almost all of it dispatch overhead). {@link compileCrnn} reads the
 * weights of a model built by `crnn()` once, rearranges them for contiguous access and runs the
 * same arithmetic in typed-array loops:
 *
 * ```
 * conv    c[t, m', k] = b_k + Σ_{i<Kt, j<Km} x[t·St + i, m'·Sm + j] · K[i, j, k]   (valid, no activation)
 * flatten u_t = c[t, ·, ·] read mel-major: u_t[m'·C + k]
 * GRU     z = σ(u·Wz + h·Uz + bz),  r = σ(u·Wr + h·Ur + br)
 *         ĥ = tanh(u·Wh + (r ⊙ h)·Uh + bh),  h' = z ⊙ h + (1 − z) ⊙ ĥ      (tfjs / Keras "reset before")
 * pool    e_t = vᵀ·tanh(W·h_t + b) + c,  α = softmax_t(e),  y = Σ_t α_t h_t
 * logits  y·D + d
 * ```
 *
 * How it is fast: every GRU layer first projects all its time steps through its input kernel
 * (one matrix product, bias folded in), then runs only the recurrent products step by step.
 * Matrices are transposed at compile time into panels of four (eight for the recurrent ones)
 * output columns, so each input value is loaded once per four (eight) multiply-adds, and two
 * rows share each weight load wherever a whole sequence is known (the products of
 * `panel-matmul.ts`, shared with the conv runtime). The conv copies each step's frames
 * transposed, so that every mel position's taps are one contiguous run and the step is one
 * matrix product over the positions. Weights and
 * intermediate values are float64, JavaScript's own number type (reading float32 costs a
 * conversion per load). `σ` and `tanh` go through a range-reduced polynomial `exp` (error
 * < 1e-8; 1.4–2× faster than `Math.exp` / `Math.tanh`). Logits match tfjs' cpu backend
 * (float32 throughout) to about 1e-7; the default CRNN takes about 0.42 ms per clip on one core
 * (bench/crnn-inference.ts).
 *
 * Streaming ({@link CrnnRuntime.step}): the convolution runs on new frames only and the state
 * keeps what the next output needs; see {@link CrnnStreamMode} for what the outputs equal.
 *
 * Input checks: shapes, and one pass over the features for NaN/±Infinity (about 1 % of a
 * `predict`); nothing else in the hot path.
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkChoice, checkFinite, checkInt, checkOptions } from '../validate.js';
import { fastExp, sigmoid } from './activations.js';
import { INFERENCE_IDENTITY_LAYERS } from './inference-layers.js';
import { convTapPanels, matRows, matVec, type Panels, toPanels } from './panel-matmul.js';

// ───────────────────────────── public types ─────────────────────────────

/** Options of {@link compileCrnn}. */
export interface CompileCrnnOptions {
  /**
   * Accept inputs of any number of frames ≥ the conv kernel's time size in `predict` /
   * `predictBatch`, not only the model's own input length. The convolution, GRUs and attention
   * are defined for any length; the model was trained on its own length. Default `false`:
   * another frame count throws `SHAPE_MISMATCH`, as `model.predict` would.
   */
  variableFrames?: boolean;
}

/**
 * How a {@link CrnnState} treats the GRU across the stream.
 *
 * - `'window'`: every output re-runs the GRU stack from a zero state over the last `window` conv
 *   steps (cached: the convolution and the first GRU layer's input projection are computed once
 *   per step). The output is **exactly** (bit for bit) what {@link CrnnRuntime.predict} gives for
 *   the frames of that window. Windows start at multiples of `stride[0]` frames (80 ms for the
 *   default CRNN) from the first frame pushed; to use another phase, drop or pad frames before
 *   the first call. Costs about 65 % of one `predict` per output.
 * - `'carry'`: the GRU state is carried over the whole stream (one step per layer per conv step,
 *   nothing recomputed) and attention pools the last `window` GRU outputs. Since each GRU
 *   output depends on all earlier frames, this equals the offline model only on the first
 *   window of the stream; later outputs equal "the GRU stack run from frame 0 to now, attention
 *   over its last `window` outputs" (the state never forgets unless {@link CrnnState.reset}).
 *   Equality with the offline model for every window needs the GRU restarted from zero at each
 *   window start, which is what `'window'` does. About 12 % of one `predict` per conv step.
 *   Not available for bidirectional GRUs (a backward GRU needs the window's end first).
 */
export type CrnnStreamMode = 'window' | 'carry';

/** Options of {@link CrnnRuntime.createState}. */
export interface CrnnStateOptions {
  /** See {@link CrnnStreamMode}. Default `'window'`. */
  mode?: CrnnStreamMode;
  /**
   * Conv steps (GRU outputs) pooled by attention per output, integer in [1, 4096]. Default: the
   * model's own `steps` (11 for the default CRNN), which makes `'window'` outputs equal to
   * `predict` on the model's input length.
   */
  window?: number;
}

/**
 * Streaming state of one audio stream, from {@link CrnnRuntime.createState}. Opaque apart from
 * the read-only counters; use it only with the runtime that created it.
 */
export interface CrnnState {
  /** The mode chosen at creation. */
  readonly mode: CrnnStreamMode;
  /** Conv steps pooled per output. */
  readonly window: number;
  /** Frames consumed since creation or the last {@link CrnnState.reset}. */
  readonly framesSeen: number;
  /** Conv steps completed since creation or the last reset. */
  readonly stepsSeen: number;
  /** Forgets the stream: the next frame is frame 0 again, the GRU state is zero. */
  reset(): void;
}

/** Result of {@link CrnnRuntime.step}. */
export interface CrnnStepResult {
  /** Conv steps completed by this call (0 when the new frames did not complete a step). */
  steps: number;
  /**
   * Logits `[numClasses]` of the latest window, present when this call completed at least one
   * conv step and at least `window` steps have been seen. When one call completes several
   * steps, only the last window is evaluated: push at most `stride[0]` frames per call to get
   * an output for every step.
   */
  logits?: Float32Array;
  /** Attention weights `[window]` of that output, oldest step first (sum 1). */
  attention?: Float32Array;
  /**
   * First frame (stream index, from 0) of the window: `(stepsSeen − window) · stride[0]`. In
   * `'carry'` mode the GRU state also depends on every frame before it.
   */
  startFrame?: number;
  /**
   * One past the last frame the output depends on: `(stepsSeen − 1) · stride[0] + kernel[0]`.
   * For the default CRNN that is 100 frames after `startFrame`: the 101st frame of a
   * 101-frame window falls outside the conv's valid range and never matters.
   */
  endFrame?: number;
}

/**
 * A compiled CRNN (see {@link compileCrnn}). Single-threaded and reentrancy-free: buffers are
 * shared between calls, so do not call it from inside itself. Holds no tensors; nothing to
 * dispose.
 */
export interface CrnnRuntime {
  /** Model input frames (101 for the default CRNN). */
  readonly frames: number;
  /** Mel bins per frame (40). */
  readonly mels: number;
  /** Number of classes (logits per example). */
  readonly numClasses: number;
  /** Conv steps `T'` for the model's input length: `floor((frames − kernel[0]) / stride[0]) + 1`. */
  readonly steps: number;
  /** Conv kernel `[time, mel]`. */
  readonly kernelSize: readonly [number, number];
  /** Conv stride `[time, mel]`. */
  readonly stride: readonly [number, number];
  /** GRU layers. */
  readonly gruLayers: number;
  /** Units per GRU direction. */
  readonly hiddenSize: number;
  /** Whether the GRUs are bidirectional. */
  readonly bidirectional: boolean;

  /**
   * Logits of one example.
   *
   * @param features - log-mel features, frame-major `[frames, mels]` (`frames · mels` values)
   * @param frames - frames in `features`: the model's `frames`, or any count ≥ `kernelSize[0]`
   *   when compiled with `variableFrames`
   * @returns a new `Float32Array` `[numClasses]`
   * @throws KwsError `SHAPE_MISMATCH` for a wrong frame count or length, `NON_FINITE_INPUT` for
   *   NaN/±Infinity in `features` (one cheap pass), `INVALID_ARGUMENT` for a non-Float32Array
   */
  predict(features: Float32Array, frames: number): Float32Array;
  /**
   * Logits and attention weights of one example.
   *
   * @returns `logits` `[numClasses]` and `attention` `[T']` (non-negative, sum 1), both new arrays
   */
  predictWithAttention(
    features: Float32Array,
    frames: number,
  ): { logits: Float32Array; attention: Float32Array };
  /**
   * Logits of `batch` examples, each computed exactly as by {@link CrnnRuntime.predict}.
   *
   * @param x - `[batch, frames, mels]` row-major
   * @returns a new `Float32Array` `[batch, numClasses]`
   */
  predictBatch(x: Float32Array, batch: number, frames: number): Float32Array;
  /**
   * Attention weights of the last `predict` / `predictWithAttention` / `predictBatch` call, as a
   * new array `[batch, T']` (batch 1 for `predict`).
   *
   * @throws KwsError `INVALID_ARGUMENT` if nothing was predicted yet
   */
  attention(): Float32Array;

  /** A fresh streaming state (frame 0, zero GRU state). See {@link CrnnStreamMode}. */
  createState(options?: CrnnStateOptions): CrnnState;
  /**
   * Consumes the next `count` frames of a stream: the convolution runs on new frames only (the
   * state keeps the last `kernel[0] − 1` frames and the stride phase), and an output is produced
   * as described in {@link CrnnStepResult}.
   *
   * @param newFrames - `[count, mels]` frame-major, exactly `count · mels` values
   * @throws KwsError `INVALID_ARGUMENT` for a state of another runtime or a bad count,
   *   `SHAPE_MISMATCH` for a wrong length, `NON_FINITE_INPUT` for NaN/±Infinity
   */
  step(state: CrnnState, newFrames: Float32Array, count: number): CrnnStepResult;
}

// ───────────────────────────── compiled weights ─────────────────────────────

interface ConvWeights {
  readonly kt: number;
  readonly km: number;
  readonly st: number;
  readonly sm: number;
  readonly mels: number;
  readonly outMels: number;
  readonly channels: number;
  /** The kernel as a matrix over a window's taps, with the bias (`convTapPanels`). */
  readonly taps: Panels;
}

interface GruDirection {
  /** Input kernel and bias: `[in, 3H]`, gate order z, r, h. */
  readonly input: Panels;
  /** Recurrent kernel columns of z and r: `[H, 2H]`, panels of eight. */
  readonly zr: Panels;
  /** Recurrent kernel columns of h: `[H, H]`, panels of eight. */
  readonly cand: Panels;
  /** `recurrentActivation: 'hardSigmoid'` instead of `'sigmoid'`. */
  readonly hard: boolean;
}

interface GruLayer {
  readonly inSize: number;
  readonly dirs: GruDirection[];
}

interface AttentionWeights {
  /** `W` `[D, A]` with bias `b`. */
  readonly proj: Panels;
  /** `v` `[A]`. */
  readonly score: Float64Array;
  /** `c`, 0 without a score bias. */
  readonly scoreBias: number;
}

interface Compiled {
  readonly frames: number;
  readonly conv: ConvWeights;
  readonly hidden: number;
  readonly layers: GruLayer[];
  readonly attention: AttentionWeights;
  readonly dense: Panels;
}

// ───────────────────────────── kernels ─────────────────────────────

/**
 * Copies `frames` frames of `x[xOff…]` (`[frames, mels]`, float32) into `xt` as `[mels, frames]`
 * float64, so that the taps of a conv step form contiguous runs.
 */
function transpose(x: Float32Array, xOff: number, frames: number, mels: number, xt: Float64Array): void {
  for (let f = 0; f < frames; f++) {
    const row = xOff + f * mels;
    for (let m = 0; m < mels; m++) xt[m * frames + f] = x[row + m] as number;
  }
}

/**
 * One conv output step from `window`, the step's `kt` frames transposed (`[mels, kt]`, see
 * {@link transpose}): the `outMels · channels` values, mel-major, at `y[yOff…]`. Each mel
 * position's taps are one contiguous run of the window (`convTapPanels`), so this is one
 * matrix product over the positions.
 */
function convStep(c: ConvWeights, window: Float64Array, y: Float64Array, yOff: number): void {
  matRows(c.taps, window, 0, c.sm * c.kt, c.outMels, y, yOff, c.channels, false);
}

/**
 * `y = x · W` for a bias-free matrix stored in panels of eight columns: the recurrent products,
 * where only one row is ever multiplied, so eight accumulators per input load pay off.
 */
function matVec8(p: Panels, x: Float64Array, y: Float64Array): void {
  const n = p.inSize;
  const out = p.outSize;
  const w = p.data;
  let o = 0;
  for (let j = 0; j < out; j += 8) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i] as number;
      s0 += xi * (w[o] as number);
      s1 += xi * (w[o + 1] as number);
      s2 += xi * (w[o + 2] as number);
      s3 += xi * (w[o + 3] as number);
      s4 += xi * (w[o + 4] as number);
      s5 += xi * (w[o + 5] as number);
      s6 += xi * (w[o + 6] as number);
      s7 += xi * (w[o + 7] as number);
      o += 8;
    }
    if (j + 8 <= out) {
      y[j] = s0;
      y[j + 1] = s1;
      y[j + 2] = s2;
      y[j + 3] = s3;
      y[j + 4] = s4;
      y[j + 5] = s5;
      y[j + 6] = s6;
      y[j + 7] = s7;
    } else {
      const sums = [s0, s1, s2, s3, s4, s5, s6, s7];
      for (let q = 0; j + q < out; q++) y[j + q] = sums[q] as number;
    }
  }
}

/** `tanh(a) = 1 − 2 / (e^{2a} + 1)`, absolute error < 1e-8 (±1 beyond |a| = 20). */
function tanh(a: number): number {
  return 1 - 2 / (fastExp(a < -20 ? -40 : a > 20 ? 40 : 2 * a) + 1);
}

/** tfjs-layers' hard sigmoid: `clip(0.2·a + 0.5, 0, 1)`. */
function hardSigmoid(a: number): number {
  const y = 0.2 * a + 0.5;
  return y < 0 ? 0 : y > 1 ? 1 : y;
}

/** Per-step scratch of the GRU and attention: sized once at compile time. */
interface StepScratch {
  /** Recurrent products, `[2H]`. */
  readonly rec: Float64Array;
  /** Update gate `z`, `[H]`. */
  readonly z: Float64Array;
  /** `r ⊙ h`, `[H]`. */
  readonly rh: Float64Array;
  /** Attention hidden layer, `[A]`. */
  readonly att: Float64Array;
}

/**
 * One GRU step in place: `h ← GRU(h, g)` where `g[gOff…]` holds the input projection of this
 * step (z, r, h blocks of `H`, bias included). `zero` says that `h` is all zeros (the first step
 * from a fresh state), whose recurrent products are exactly +0 and need not be computed.
 */
function gruStep(
  d: GruDirection,
  g: Float64Array,
  gOff: number,
  h: Float64Array,
  s: StepScratch,
  zero: boolean,
): void {
  const units = d.cand.outSize;
  const { rec, z, rh } = s;
  if (zero) rec.fill(0);
  else matVec8(d.zr, h, rec);
  const hard = d.hard;
  for (let j = 0; j < units; j++) {
    const az = (g[gOff + j] as number) + (rec[j] as number);
    const ar = (g[gOff + units + j] as number) + (rec[units + j] as number);
    z[j] = hard ? hardSigmoid(az) : sigmoid(az);
    rh[j] = (hard ? hardSigmoid(ar) : sigmoid(ar)) * (h[j] as number);
  }
  if (!zero) matVec8(d.cand, rh, rec);
  const cOff = gOff + 2 * units;
  for (let j = 0; j < units; j++) {
    const cand = tanh((g[cOff + j] as number) + (rec[j] as number));
    const zj = z[j] as number;
    h[j] = zj * (h[j] as number) + (1 - zj) * cand;
  }
}

/**
 * Runs one GRU layer (both directions) from a zero state over `steps` projected rows of `g`
 * (row stride `3H · dirs`, row of step `t` at `(gStart + t) mod gCap`), writing `[steps, H · dirs]`
 * to `out`.
 */
function gruSequence(
  layer: GruLayer,
  g: Float64Array,
  gStart: number,
  gCap: number,
  steps: number,
  out: Float64Array,
  h: Float64Array,
  s: StepScratch,
): void {
  const dirs = layer.dirs.length;
  const units = h.length;
  const gStride = 3 * units * dirs;
  const outStride = units * dirs;
  for (let d = 0; d < dirs; d++) {
    const dir = layer.dirs[d] as GruDirection;
    h.fill(0);
    for (let k = 0; k < steps; k++) {
      // The backward direction reads the sequence from its end; its output stays aligned with t.
      const t = d === 0 ? k : steps - 1 - k;
      let row = gStart + t;
      if (row >= gCap) row -= gCap;
      gruStep(dir, g, row * gStride + 3 * units * d, h, s, k === 0);
      out.set(h, t * outStride + units * d);
    }
  }
}

/** Attention score `vᵀ·tanh(u) + c` of the projected row `u = W·y + b` at `u[off…]`. */
function scoreOf(a: AttentionWeights, u: Float64Array, off: number): number {
  const v = a.score;
  let e = a.scoreBias;
  for (let i = 0; i < v.length; i++) e += (v[i] as number) * tanh(u[off + i] as number);
  return e;
}

/** Attention score `vᵀ·tanh(W·y + b) + c` of the row `y[off…]`. */
function attentionScore(a: AttentionWeights, y: Float64Array, off: number, s: StepScratch): number {
  matVec(a.proj, y, off, s.att, 0, false);
  return scoreOf(a, s.att, 0);
}

/**
 * Softmax over `steps` scores and the weighted mean of their rows. Row/score of step `t` live at
 * index `(start + t) mod cap` of `y` (row stride `dim`) and `e`; `alpha[t]` is written in step
 * order.
 */
function softmaxPool(
  y: Float64Array,
  e: Float64Array,
  start: number,
  cap: number,
  steps: number,
  dim: number,
  alpha: Float64Array,
  pooled: Float64Array,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < steps; t++) {
    const row = (start + t) % cap;
    const v = e[row] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let t = 0; t < steps; t++) {
    const p = Math.exp((e[(start + t) % cap] as number) - max);
    alpha[t] = p;
    sum += p;
  }
  const inv = 1 / sum;
  pooled.fill(0);
  for (let t = 0; t < steps; t++) {
    const a = (alpha[t] as number) * inv;
    alpha[t] = a;
    const off = ((start + t) % cap) * dim;
    for (let i = 0; i < dim; i++) pooled[i] = (pooled[i] as number) + a * (y[off + i] as number);
  }
}

// ───────────────────────────── model reading ─────────────────────────────

interface Link {
  layer: tfl.layers.Layer;
  /** Which output of `layer` the next layer of the chain consumes. */
  tensorIndex: number;
}

function invalid(message: string): KwsError {
  return new KwsError('MODEL_INVALID', `compileCrnn: ${message}`);
}

function nameOf(layer: tfl.layers.Layer): string {
  return `"${layer.name}" (${layer.getClassName()})`;
}

/** The model's layers from input to output, checking that they form a single chain. */
function layerChain(model: tfl.LayersModel): Link[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw invalid(
      `a CRNN has one input and one output; model "${model.name}" has ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const out = model.outputs[0] as tfl.SymbolicTensor;
  const chain: Link[] = [];
  let layer = out.sourceLayer;
  let nodeIndex = out.nodeIndex;
  let tensorIndex = out.tensorIndex;
  for (;;) {
    chain.push({ layer, tensorIndex });
    const node = layer.inboundNodes[nodeIndex];
    if (node === undefined) throw invalid(`layer ${nameOf(layer)} has no inbound node ${nodeIndex}`);
    if (node.inboundLayers.length === 0) break;
    if (node.inboundLayers.length !== 1) {
      throw invalid(
        `layer ${nameOf(layer)} has ${node.inboundLayers.length} inputs; a CRNN is a single chain`,
      );
    }
    layer = node.inboundLayers[0] as tfl.layers.Layer;
    nodeIndex = node.nodeIndices[0] as number;
    tensorIndex = node.tensorIndices[0] as number;
  }
  chain.reverse();
  // Layers off the chain would be dead branches or extra inputs: not a model crnn() builds.
  const onChain = new Set(chain.map((l) => l.layer));
  if (
    chain[0]?.layer !== (model.inputs[0] as tfl.SymbolicTensor).sourceLayer ||
    model.layers.some((l) => !onChain.has(l))
  ) {
    throw invalid(`model "${model.name}" is not a single chain of layers from its input to its output`);
  }
  return chain;
}

function weightArrays(layer: tfl.layers.Layer): { shape: number[]; data: Float32Array }[] {
  return layer.getWeights().map((w: tf.Tensor) => {
    if (w.dtype !== 'float32')
      throw invalid(`layer ${nameOf(layer)} has a ${w.dtype} weight; float32 expected`);
    return { shape: w.shape.slice(), data: w.dataSync() as Float32Array };
  });
}

function expectShape(layer: tfl.layers.Layer, what: string, got: number[] | undefined, want: number[]): void {
  if (got === undefined || got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw invalid(`${what} of layer ${nameOf(layer)} is [${got ?? ''}]; expected [${want}]`);
  }
}

function outputShape(layer: tfl.layers.Layer): (number | null)[] {
  const s = layer.outputShape;
  return (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
}

function readConv(layer: tfl.layers.Layer, frames: number, mels: number): ConvWeights {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const pair = (v: unknown): [number, number] =>
    (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]) as [number, number];
  const [kt, km] = pair(cfg.kernelSize);
  const [st, sm] = pair(cfg.strides ?? 1);
  const [dt, dm] = pair(cfg.dilationRate ?? 1);
  if (cfg.padding !== 'valid')
    throw invalid(`conv ${nameOf(layer)} uses padding "${cfg.padding}"; only "valid" is supported`);
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') {
    throw invalid(
      `conv ${nameOf(layer)} uses dataFormat "${cfg.dataFormat}"; only "channelsLast" is supported`,
    );
  }
  if (dt !== 1 || dm !== 1)
    throw invalid(`conv ${nameOf(layer)} is dilated [${dt}, ${dm}]; only dilation 1 is supported`);
  if ((cfg.activation ?? 'linear') !== 'linear') {
    throw invalid(`conv ${nameOf(layer)} has activation "${cfg.activation}"; only "linear" is supported`);
  }
  const ws = weightArrays(layer);
  const kernel = ws[0];
  const channels = kernel?.shape[3] ?? 0;
  expectShape(layer, 'kernel', kernel?.shape, [kt, km, 1, channels]);
  const bias = cfg.useBias === false ? null : (ws[1] ?? null);
  if (bias !== null) expectShape(layer, 'bias', bias.shape, [channels]);
  if (kt > frames || km > mels)
    throw invalid(`conv ${nameOf(layer)} kernel [${kt}, ${km}] exceeds the input [${frames}, ${mels}]`);
  const outMels = Math.floor((mels - km) / sm) + 1;
  return {
    kt,
    km,
    st,
    sm,
    mels,
    outMels,
    channels,
    taps: convTapPanels(
      (kernel as { data: Float32Array }).data,
      kt,
      km,
      channels,
      bias?.data ?? null,
    )[0] as Panels,
  };
}

function readGruDirection(
  owner: tfl.layers.Layer,
  cfg: Record<string, unknown>,
  ws: { shape: number[]; data: Float32Array }[],
  inSize: number,
): { dir: GruDirection; units: number } {
  const units = cfg.units as number;
  const what = nameOf(owner);
  if (cfg.activation !== 'tanh')
    throw invalid(`GRU ${what} has activation "${cfg.activation}"; only "tanh" is supported`);
  if (cfg.recurrentActivation !== 'sigmoid' && cfg.recurrentActivation !== 'hardSigmoid') {
    throw invalid(
      `GRU ${what} has recurrentActivation "${cfg.recurrentActivation}"; only "sigmoid" and "hardSigmoid" are supported`,
    );
  }
  if (cfg.returnSequences !== true)
    throw invalid(`GRU ${what} must return sequences (returnSequences: true)`);
  if (cfg.returnState === true) throw invalid(`GRU ${what} returns its state; not supported`);
  if (cfg.goBackwards === true) throw invalid(`GRU ${what} runs backwards (goBackwards); not supported`);
  if (cfg.stateful === true) throw invalid(`GRU ${what} is stateful; not supported`);
  if (cfg.resetAfter === true)
    throw invalid(`GRU ${what} uses resetAfter: true; only the tfjs formulation (false) is supported`);
  const [kernel, recurrent, bias] = ws;
  expectShape(owner, 'GRU kernel', kernel?.shape, [inSize, 3 * units]);
  expectShape(owner, 'GRU recurrent kernel', recurrent?.shape, [units, 3 * units]);
  const useBias = cfg.useBias !== false;
  if (useBias) expectShape(owner, 'GRU bias', bias?.shape, [3 * units]);
  if (ws.length !== (useBias ? 3 : 2))
    throw invalid(`GRU ${what} has ${ws.length} weights; expected ${useBias ? 3 : 2}`);
  const k = (kernel as { data: Float32Array }).data;
  const r = (recurrent as { data: Float32Array }).data;
  return {
    units,
    dir: {
      input: toPanels(k, inSize, 3 * units, { bias: useBias ? (bias as { data: Float32Array }).data : null }),
      zr: toPanels(r, units, 2 * units, { rowLength: 3 * units, width: 8 }),
      cand: toPanels(r, units, units, { rowLength: 3 * units, colStart: 2 * units, width: 8 }),
      hard: cfg.recurrentActivation === 'hardSigmoid',
    },
  };
}

function readGru(layer: tfl.layers.Layer, inSize: number): { layer: GruLayer; units: number } {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  const ws = weightArrays(layer);
  if (cls === 'GRU') {
    const { dir, units } = readGruDirection(layer, cfg, ws, inSize);
    return { layer: { inSize, dirs: [dir] }, units };
  }
  const inner = cfg.layer as { className?: string; config?: Record<string, unknown> } | undefined;
  if (inner?.className !== 'GRU' || inner.config === undefined) {
    throw invalid(
      `Bidirectional layer ${nameOf(layer)} wraps a ${inner?.className ?? 'unknown'} layer; only GRU is supported`,
    );
  }
  if (cfg.mergeMode !== 'concat') {
    throw invalid(
      `Bidirectional layer ${nameOf(layer)} has mergeMode "${cfg.mergeMode}"; only "concat" is supported`,
    );
  }
  const half = ws.length / 2;
  const fwd = readGruDirection(layer, inner.config, ws.slice(0, half), inSize);
  const bwd = readGruDirection(layer, inner.config, ws.slice(half), inSize);
  return { layer: { inSize, dirs: [fwd.dir, bwd.dir] }, units: fwd.units };
}

function readAttention(layer: tfl.layers.Layer, dim: number): AttentionWeights {
  const ws = weightArrays(layer);
  const [kernel, bias, score, scoreBias] = ws;
  const units = kernel?.shape[1] ?? 0;
  expectShape(layer, 'attention kernel', kernel?.shape, [dim, units]);
  expectShape(layer, 'attention bias', bias?.shape, [units]);
  expectShape(layer, 'attention score kernel', score?.shape, [units, 1]);
  if (scoreBias !== undefined) expectShape(layer, 'attention score bias', scoreBias.shape, [1]);
  return {
    proj: toPanels((kernel as { data: Float32Array }).data, dim, units, {
      bias: (bias as { data: Float32Array }).data,
    }),
    score: Float64Array.from((score as { data: Float32Array }).data),
    scoreBias: scoreBias === undefined ? 0 : (scoreBias.data[0] as number),
  };
}

function readDense(layer: tfl.layers.Layer, dim: number): Panels {
  const cfg = layer.getConfig() as Record<string, unknown>;
  if ((cfg.activation ?? 'linear') !== 'linear') {
    throw invalid(
      `output layer ${nameOf(layer)} has activation "${cfg.activation}"; a CRNN outputs logits ("linear")`,
    );
  }
  const ws = weightArrays(layer);
  const kernel = ws[0];
  const classes = kernel?.shape[1] ?? 0;
  expectShape(layer, 'kernel', kernel?.shape, [dim, classes]);
  const bias = cfg.useBias === false ? null : (ws[1] ?? null);
  if (bias !== null) expectShape(layer, 'bias', bias.shape, [classes]);
  return toPanels((kernel as { data: Float32Array }).data, dim, classes, { bias: bias?.data ?? null });
}

/** Reads and checks the layer chain of a kws-kit CRNN. */
function readModel(model: tfl.LayersModel): Compiled {
  const chain = layerChain(model).filter((l) => !INFERENCE_IDENTITY_LAYERS.has(l.layer.getClassName()));
  let i = 0;
  const next = (): Link | undefined => chain[i++];
  const expectNext = (what: string): Link => {
    const link = next();
    const prev = chain[i - 2];
    if (link === undefined)
      throw invalid(
        `expected ${what} after ${prev ? nameOf(prev.layer) : 'the input'}; the model ends there`,
      );
    return link;
  };
  const wrong = (link: Link, what: string): KwsError =>
    invalid(
      `expected ${what}, found layer ${nameOf(link.layer)}; compileCrnn supports models built by crnn()`,
    );

  const inputShape = (model.inputs[0] as tfl.SymbolicTensor).shape;
  const frames = inputShape[1];
  const mels = inputShape[2];
  const rank4 = inputShape.length === 4;
  if (
    (inputShape.length !== 3 && !(rank4 && inputShape[3] === 1)) ||
    typeof frames !== 'number' ||
    typeof mels !== 'number'
  ) {
    throw invalid(
      `input must be [batch, frames, mels] or [batch, frames, mels, 1] with known sizes; got [${inputShape}]`,
    );
  }
  next(); // the InputLayer
  let link = expectNext('a Reshape to [frames, mels, 1] or a Conv2D');
  if (!rank4) {
    const s = outputShape(link.layer);
    if (
      link.layer.getClassName() !== 'Reshape' ||
      s[1] !== frames ||
      s[2] !== mels ||
      s[3] !== 1 ||
      s.length !== 4
    ) {
      throw wrong(link, `a Reshape to [${frames}, ${mels}, 1]`);
    }
    link = expectNext('a Conv2D');
  }
  if (link.layer.getClassName() !== 'Conv2D') throw wrong(link, 'a Conv2D');
  const conv = readConv(link.layer, frames, mels);
  const convLayer = link.layer;
  const steps = Math.floor((frames - conv.kt) / conv.st) + 1;
  const flatWidth = conv.outMels * conv.channels;
  link = expectNext(`a Reshape to [${steps}, ${flatWidth}]`);
  {
    const s = outputShape(link.layer);
    if (link.layer.getClassName() !== 'Reshape' || s.length !== 3 || s[1] !== steps || s[2] !== flatWidth) {
      throw wrong(link, `a Reshape of ${nameOf(convLayer)}'s output to [${steps}, ${flatWidth}]`);
    }
  }
  const layers: GruLayer[] = [];
  let width = flatWidth;
  let hidden = 0;
  link = expectNext('a GRU');
  while (link.layer.getClassName() === 'GRU' || link.layer.getClassName() === 'Bidirectional') {
    const read = readGru(link.layer, width);
    if (
      layers.length > 0 &&
      (read.units !== hidden || read.layer.dirs.length !== (layers[0] as GruLayer).dirs.length)
    ) {
      throw invalid(
        `GRU ${nameOf(link.layer)} differs in units or direction from the first GRU; all GRU layers must match`,
      );
    }
    hidden = read.units;
    layers.push(read.layer);
    width = hidden * read.layer.dirs.length;
    link = expectNext('an AttentionPooling layer');
  }
  if (layers.length === 0) throw wrong(link, 'a GRU (or Bidirectional GRU) layer');
  if (link.layer.getClassName() !== 'AttentionPooling') throw wrong(link, 'an AttentionPooling layer');
  const attention = readAttention(link.layer, width);
  const attentionLink = link;
  link = expectNext('a Dense output layer');
  if (link.layer.getClassName() !== 'Dense') throw wrong(link, 'a Dense output layer');
  if (attentionLink.tensorIndex !== 0) {
    throw invalid(
      `Dense ${nameOf(link.layer)} reads output ${attentionLink.tensorIndex} of the attention layer; expected output 0`,
    );
  }
  const dense = readDense(link.layer, width);
  const rest = next();
  if (rest !== undefined) throw wrong(rest, 'the end of the model after the Dense layer');
  return { frames, conv, hidden, layers, attention, dense };
}

// ───────────────────────────── runtime ─────────────────────────────

/** Largest streaming window in conv steps (about 5.5 min of audio for the default CRNN). */
const MAX_WINDOW = 4096;

class StreamState implements CrnnState {
  framesSeen = 0;
  stepsSeen = 0;
  /** Frames waiting for the next conv step, `[kt, mels]`. */
  readonly frameBuf: Float32Array;
  pending = 0;
  /** Frames to drop before the next conv window starts (stride > kernel). */
  skip = 0;
  /** Ring slot written next (also the oldest slot once the ring is full). */
  next = 0;
  /** `'window'`: the first GRU layer's input projections of the last `window` steps. */
  readonly projRing: Float64Array;
  /** `'carry'`: GRU state per layer. */
  readonly hidden: Float64Array[];
  /** `'carry'`: the last `window` top-layer GRU outputs and their attention scores. */
  readonly outRing: Float64Array;
  readonly scoreRing: Float64Array;

  constructor(
    readonly owner: CompiledCrnn,
    readonly mode: CrnnStreamMode,
    readonly window: number,
    frameValues: number,
    projWidth: number,
    layers: number,
    hidden: number,
  ) {
    this.frameBuf = new Float32Array(frameValues);
    const carry = mode === 'carry';
    this.projRing = new Float64Array(carry ? 0 : window * projWidth);
    this.hidden = carry ? Array.from({ length: layers }, () => new Float64Array(hidden)) : [];
    this.outRing = new Float64Array(carry ? window * hidden : 0);
    this.scoreRing = new Float64Array(carry ? window : 0);
  }

  reset(): void {
    this.framesSeen = 0;
    this.stepsSeen = 0;
    this.pending = 0;
    this.skip = 0;
    this.next = 0;
    for (const h of this.hidden) h.fill(0);
  }
}

class CompiledCrnn implements CrnnRuntime {
  readonly frames: number;
  readonly mels: number;
  readonly numClasses: number;
  readonly steps: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly gruLayers: number;
  readonly hiddenSize: number;
  readonly bidirectional: boolean;

  private readonly m: Compiled;
  private readonly variableFrames: boolean;
  private readonly convWidth: number;
  private readonly projWidth: number;
  private readonly outWidth: number;
  private readonly s: StepScratch;
  private readonly h: Float64Array;
  private readonly pooled: Float64Array;
  private readonly logits: Float64Array;
  /** The frames of one conv step, transposed: `[mels, kt]`. */
  private readonly window: Float64Array;
  /** Buffers sized for `capacity` conv steps; grown (never shrunk) for longer inputs or windows. */
  private capacity = 0;
  private conv = new Float64Array(0);
  private proj = new Float64Array(0);
  private seqA = new Float64Array(0);
  private seqB = new Float64Array(0);
  private scores = new Float64Array(0);
  private alpha = new Float64Array(0);
  private attHidden = new Float64Array(0);
  private lastAttention: Float32Array | null = null;

  constructor(m: Compiled, variableFrames: boolean) {
    this.m = m;
    this.variableFrames = variableFrames;
    const c = m.conv;
    this.frames = m.frames;
    this.mels = c.mels;
    this.numClasses = m.dense.outSize;
    this.steps = Math.floor((m.frames - c.kt) / c.st) + 1;
    this.kernelSize = [c.kt, c.km];
    this.stride = [c.st, c.sm];
    this.gruLayers = m.layers.length;
    this.hiddenSize = m.hidden;
    const dirs = (m.layers[0] as GruLayer).dirs.length;
    this.bidirectional = dirs === 2;
    this.convWidth = c.outMels * c.channels;
    this.projWidth = 3 * m.hidden * dirs;
    this.outWidth = m.hidden * dirs;
    this.s = {
      rec: new Float64Array(2 * m.hidden),
      z: new Float64Array(m.hidden),
      rh: new Float64Array(m.hidden),
      att: new Float64Array(m.attention.proj.outSize),
    };
    this.h = new Float64Array(m.hidden);
    this.pooled = new Float64Array(this.outWidth);
    this.logits = new Float64Array(this.numClasses);
    this.window = new Float64Array(c.mels * c.kt);
    this.ensureCapacity(this.steps);
  }

  private ensureCapacity(steps: number): void {
    if (steps <= this.capacity) return;
    this.capacity = steps;
    this.conv = new Float64Array(steps * this.convWidth);
    this.proj = new Float64Array(steps * this.projWidth);
    this.seqA = new Float64Array(steps * this.outWidth);
    this.seqB = new Float64Array(steps * this.outWidth);
    this.scores = new Float64Array(steps);
    this.alpha = new Float64Array(steps);
    this.attHidden = new Float64Array(steps * this.m.attention.proj.outSize);
  }

  private checkFrames(frames: unknown): number {
    const kt = this.m.conv.kt;
    if (this.variableFrames) return checkInt('frames', frames, kt);
    if (frames !== this.frames) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `frames must be the model's input length ${this.frames}; got ${String(frames)} ` +
          '(compile with { variableFrames: true } to accept other lengths)',
      );
    }
    return frames;
  }

  private checkInput(name: string, x: unknown, values: number, shape: string): Float32Array {
    if (!(x instanceof Float32Array)) {
      throw new KwsError('INVALID_ARGUMENT', `${name} must be a Float32Array ${shape}; got ${typeof x}`);
    }
    if (x.length !== values) {
      throw new KwsError('SHAPE_MISMATCH', `${name} must hold ${shape} = ${values} values; got ${x.length}`);
    }
    checkFinite(name, x);
    return x;
  }

  /** GRU layers `from…` over `steps` rows, the first one's projections already in `g` (ring). */
  private runStack(from: number, g: Float64Array, gStart: number, gCap: number, steps: number): Float64Array {
    const { layers } = this.m;
    let out = this.seqA;
    let spare = this.seqB;
    gruSequence(layers[from] as GruLayer, g, gStart, gCap, steps, out, this.h, this.s);
    for (let l = from + 1; l < layers.length; l++) {
      const layer = layers[l] as GruLayer;
      this.project(layer, out, steps);
      gruSequence(layer, this.proj, 0, steps, steps, spare, this.h, this.s);
      [out, spare] = [spare, out];
    }
    return out;
  }

  /** Input projections of `steps` rows of `x` (width `layer.inSize`) into `this.proj`. */
  private project(layer: GruLayer, x: Float64Array, steps: number): void {
    const pw = this.projWidth;
    const third = pw / layer.dirs.length;
    for (let d = 0; d < layer.dirs.length; d++) {
      matRows(
        (layer.dirs[d] as GruDirection).input,
        x,
        0,
        layer.inSize,
        steps,
        this.proj,
        d * third,
        pw,
        false,
      );
    }
  }

  /** Attention pooling of `steps` sequence rows and the output layer: fills `alpha` and `logits`. */
  private head(seq: Float64Array, steps: number): void {
    const a = this.m.attention;
    const w = this.outWidth;
    const units = a.proj.outSize;
    matRows(a.proj, seq, 0, w, steps, this.attHidden, 0, units, false);
    for (let t = 0; t < steps; t++) this.scores[t] = scoreOf(a, this.attHidden, t * units);
    softmaxPool(seq, this.scores, 0, steps, steps, w, this.alpha, this.pooled);
    matVec(this.m.dense, this.pooled, 0, this.logits, 0, false);
  }

  /** Full forward pass of the example at `x[xOff…]` with `steps` conv steps. */
  private forward(x: Float32Array, xOff: number, steps: number): void {
    const c = this.m.conv;
    for (let t = 0; t < steps; t++) {
      transpose(x, xOff + t * c.st * c.mels, c.kt, c.mels, this.window);
      convStep(c, this.window, this.conv, t * this.convWidth);
    }
    this.project(this.m.layers[0] as GruLayer, this.conv, steps);
    const seq = this.runStack(0, this.proj, 0, steps, steps);
    this.head(seq, steps);
  }

  private stepsFor(frames: number): number {
    const steps = Math.floor((frames - this.m.conv.kt) / this.m.conv.st) + 1;
    this.ensureCapacity(steps);
    return steps;
  }

  predict(features: Float32Array, frames: number): Float32Array {
    const f = this.checkFrames(frames);
    this.checkInput('features', features, f * this.mels, `[${f}, ${this.mels}]`);
    const steps = this.stepsFor(f);
    this.forward(features, 0, steps);
    this.lastAttention = Float32Array.from(this.alpha.subarray(0, steps));
    return Float32Array.from(this.logits);
  }

  predictWithAttention(
    features: Float32Array,
    frames: number,
  ): { logits: Float32Array; attention: Float32Array } {
    const logits = this.predict(features, frames);
    return { logits, attention: this.attention() };
  }

  predictBatch(x: Float32Array, batch: number, frames: number): Float32Array {
    const n = checkInt('batch', batch, 1);
    const f = this.checkFrames(frames);
    const per = f * this.mels;
    this.checkInput('x', x, n * per, `[${n}, ${f}, ${this.mels}]`);
    const steps = this.stepsFor(f);
    const k = this.numClasses;
    const logits = new Float32Array(n * k);
    const attention = new Float32Array(n * steps);
    for (let b = 0; b < n; b++) {
      this.forward(x, b * per, steps);
      logits.set(this.logits, b * k);
      attention.set(this.alpha.subarray(0, steps), b * steps);
    }
    this.lastAttention = attention;
    return logits;
  }

  attention(): Float32Array {
    if (this.lastAttention === null) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'attention() reports the last predict call; nothing was predicted yet',
      );
    }
    return this.lastAttention.slice();
  }

  createState(options?: CrnnStateOptions): CrnnState {
    const o = checkOptions('options', options);
    const mode = checkChoice('mode', o.mode ?? 'window', ['window', 'carry'] as const);
    const window = checkInt('window', o.window ?? this.steps, 1, MAX_WINDOW);
    if (mode === 'carry' && this.bidirectional) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        "mode 'carry' needs a unidirectional GRU: a backward GRU cannot run on a stream; use mode 'window'",
      );
    }
    this.ensureCapacity(window);
    const c = this.m.conv;
    return new StreamState(
      this,
      mode,
      window,
      c.kt * c.mels,
      this.projWidth,
      this.gruLayers,
      this.hiddenSize,
    );
  }

  step(state: CrnnState, newFrames: Float32Array, count: number): CrnnStepResult {
    if (!(state instanceof StreamState) || state.owner !== this) {
      throw new KwsError('INVALID_ARGUMENT', 'state must come from createState() of this runtime');
    }
    const n = checkInt('count', count, 0);
    const { mels, kt, st } = this.m.conv;
    this.checkInput('newFrames', newFrames, n * mels, `[${n}, ${mels}]`);
    const s = state;
    let done = 0;
    let pos = 0;
    while (pos < n) {
      if (s.skip > 0) {
        const d = Math.min(s.skip, n - pos);
        s.skip -= d;
        pos += d;
        s.framesSeen += d;
        continue;
      }
      const take = Math.min(kt - s.pending, n - pos);
      s.frameBuf.set(newFrames.subarray(pos * mels, (pos + take) * mels), s.pending * mels);
      s.pending += take;
      pos += take;
      s.framesSeen += take;
      if (s.pending === kt) {
        this.advance(s);
        done++;
        s.stepsSeen++;
        if (st < kt) {
          s.frameBuf.copyWithin(0, st * mels, kt * mels);
          s.pending = kt - st;
        } else {
          s.pending = 0;
          s.skip = st - kt;
        }
      }
    }
    if (done === 0 || s.stepsSeen < s.window) return { steps: done };
    const w = s.window;
    if (s.mode === 'window') {
      this.head(this.runStack(0, s.projRing, s.next, w, w), w);
    } else {
      softmaxPool(s.outRing, s.scoreRing, s.next, w, w, this.hiddenSize, this.alpha, this.pooled);
      matVec(this.m.dense, this.pooled, 0, this.logits, 0, false);
    }
    return {
      steps: done,
      logits: Float32Array.from(this.logits),
      attention: Float32Array.from(this.alpha.subarray(0, w)),
      startFrame: (s.stepsSeen - w) * st,
      endFrame: (s.stepsSeen - 1) * st + kt,
    };
  }

  /** One conv step from the frame buffer, pushed into the state's ring. */
  private advance(s: StreamState): void {
    const row = this.conv;
    const c = this.m.conv;
    transpose(s.frameBuf, 0, c.kt, c.mels, this.window);
    convStep(c, this.window, row, 0);
    const slot = s.next;
    s.next = slot + 1 === s.window ? 0 : slot + 1;
    const { layers } = this.m;
    if (s.mode === 'window') {
      const first = layers[0] as GruLayer;
      const third = this.projWidth / first.dirs.length;
      for (let d = 0; d < first.dirs.length; d++) {
        matVec(
          (first.dirs[d] as GruDirection).input,
          row,
          0,
          s.projRing,
          slot * this.projWidth + d * third,
          false,
        );
      }
      return;
    }
    let input: Float64Array = row;
    for (let l = 0; l < layers.length; l++) {
      const dir = (layers[l] as GruLayer).dirs[0] as GruDirection;
      const h = s.hidden[l] as Float64Array;
      matVec(dir.input, input, 0, this.proj, 0, false);
      gruStep(dir, this.proj, 0, h, this.s, false);
      input = h;
    }
    s.outRing.set(input, slot * this.hiddenSize);
    s.scoreRing[slot] = attentionScore(this.m.attention, input, 0, this.s);
  }
}

/**
 * Compiles a CRNN from `crnn()` (or loaded from its saved files) into a plain-TypeScript
 * inference engine. The weights are read once (`dataSync`) and copied: later changes to the
 * model (training) are not seen; compile again. No tensor is kept or created by the runtime.
 *
 * Supported structure (dropout-like layers anywhere are skipped, being identities at
 * inference): input `[batch, frames, mels]` → Reshape `[frames, mels, 1]` (or a 4-D input) →
 * Conv2D (valid, channels-last, no dilation, linear) → Reshape `[T', M'·C]` → one or more GRU
 * layers (tanh, sigmoid or hard-sigmoid gates, `resetAfter: false`, returning sequences), all of
 * the same width, optionally each wrapped in `Bidirectional` with `mergeMode: 'concat'` →
 * `AttentionPooling` → Dense (linear).
 *
 * Input validation costs one pass over the features for NaN/±Infinity (about 1 % of a
 * `predict`); there is no other check in the hot path.
 *
 * @param model - a kws-kit CRNN
 * @param options - see {@link CompileCrnnOptions}
 * @throws KwsError `MODEL_INVALID` naming the first layer that does not fit that structure,
 *   `INVALID_ARGUMENT` if `model` is not a `tfl.LayersModel`
 */
export function compileCrnn(model: tfl.LayersModel, options?: CompileCrnnOptions): CrnnRuntime {
  if (!(model instanceof tfl.LayersModel)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'compileCrnn needs a tfl.LayersModel (from crnn() or loadModel())',
    );
  }
  const o = checkOptions('options', options);
  const variableFrames = o.variableFrames ?? false;
  if (typeof variableFrames !== 'boolean') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `variableFrames must be true or false; got ${String(variableFrames)}`,
    );
  }
  return new CompiledCrnn(readModel(model), variableFrames);
}
