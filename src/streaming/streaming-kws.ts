/**
 * `StreamingKWS`: keyword events from audio pushed in chunks of any size and sample rate.
 *
 * Pipeline per chunk: resample to the front end's rate ({@link Resampler}, stateful) → log-mel
 * frames ({@link StreamingFeatureExtractor}, `center: false`, bit-identical to the offline front
 * end) → an inference mode (`window`: the model on the last `windowMs` of features every
 * `hopMs`, compiled to plain TypeScript when kws-kit can compile it) → moving average of the
 * probabilities over `smoothingMs` → per-label thresholds and a refractory period →
 * {@link Detection} events.
 *
 * @packageDocumentation
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import {
  Resampler,
  resolveFrontEnd,
  type Spectrogram,
  StreamingFeatureExtractor,
  type StreamingFeatureOptions,
} from '../features/index.js';
import { loadPretrained, pretrainedCard } from '../models/index.js';
import { checkChoice, checkNumber, checkOptions, checkSampleRate, checkSignal } from '../validate.js';
import { ConvStatefulMode } from './conv-stateful-mode.js';
import { CrnnStatefulMode, compileStatefulCrnn } from './crnn-stateful-mode.js';
import {
  type Detection,
  type DetectorConfig,
  type DetectorOptions,
  KeywordDetector,
  type TimedScores,
} from './detector.js';
import type { InferenceMode } from './inference-mode.js';
import { describeModel } from './model-input.js';
import { PosteriorSmoother } from './smoothing.js';
import type { StreamingConvNet } from './streaming-conv-net.js';
import { toStreaming } from './to-streaming.js';
import { WindowMode } from './window-mode.js';
import {
  hasRecurrentLayer,
  type ModelRuntime,
  RUNTIME_OPTIONS,
  type RuntimeOption,
} from './window-predictor.js';

/**
 * How the model is run on the stream: `'window'` re-runs the model on the last window every hop
 * (any model); `'stateful'` carries state from hop to hop: a kws-kit CRNN's GRU state
 * ({@link CrnnStatefulMode}), or a causal conv model's per-conv ring buffers
 * ({@link ConvStatefulMode}, via `toStreaming`).
 */
export type StreamingMode = 'window' | 'stateful';

/** Receives each detection as it happens. */
export type DetectionListener = (detection: Detection) => void;

/** Default time between two model runs, in ms. */
export const DEFAULT_HOP_MS = 100;
/** Default span of the posterior moving average, in ms (3 hops of 100 ms). */
export const DEFAULT_SMOOTHING_MS = 300;
/**
 * Frames per window for models whose time axis is variable: 101, what a 1 s training clip gives
 * with the centred default front end (1030 ms of audio with `center: false` frames).
 */
export const DEFAULT_WINDOW_FRAMES = 101;

/** Options of {@link StreamingKWS.create}. */
export interface StreamingKwsOptions extends Omit<DetectorOptions, 'labels'> {
  /**
   * The classifier: log-mel windows `[batch, frames, mels]` (or `[batch, frames, mels, 1]`) →
   * `[batch, classes]` logits, e.g. from `bcResNet` or `crnn` in `kws-kit/models`. It stays
   * the caller's: {@link StreamingKWS.dispose} does not dispose it. Give this or `pretrained`.
   */
  model?: LayersModel;
  /**
   * Name of a pretrained model shipped in the package (see `listPretrained()` in
   * `kws-kit/models`), loaded offline with `loadPretrained`; its model card supplies `labels`
   * and `frontEnd` unless given. The StreamingKWS owns that model and disposes it in
   * {@link StreamingKWS.dispose}. Give this or `model`.
   */
  pretrained?: string;
  /** With `pretrained`: load the model.json from this URL instead of the embedded weights. */
  pretrainedUrl?: string;
  /** Class names in the model's output order. Required with `model`. */
  labels?: readonly string[];
  /**
   * `'window'` (default): the model on the last `windowMs` every `hopMs`, equal to the offline
   * model on each window. `'stateful'` (compiled to plain TypeScript, no tensors):
   * - kws-kit CRNNs (models with GRU layers): the GRU state is carried over the whole stream, the
   *   conv runs on new frames only, and attention pools the GRU outputs of the last `windowMs`
   *   (see {@link CrnnStatefulMode} for exactly what each posterior is);
   * - causal conv models (`bcResNet({ causal: true })`, see `toStreaming`): each frame runs once
   *   through the model with ring-buffer state in every temporal conv; each hop averages the
   *   frame features of the last `windowMs` and runs the classifier (see {@link ConvStatefulMode}).
   * Models it cannot stream (non-causal BC-ResNet, unknown layers) throw `INVALID_ARGUMENT`.
   */
  mode?: StreamingMode;
  /**
   * Time between two model runs in ms: a positive multiple of the front end's hop (10 ms by
   * default); in mode `'stateful'` with a CRNN a multiple of its conv time stride (8 frames =
   * 80 ms for the default CRNN). Default 100 (`'window'` and `'stateful'` conv models), one conv
   * stride (`'stateful'` CRNNs). A stateful conv model computes every frame whatever the hop; the
   * hop only sets how often the classifier runs.
   */
  hopMs?: number;
  /**
   * Audio the model sees per run, in ms. The window holds the `1 + ⌊(windowMs·sr/1000 − nFft) / hop⌋`
   * complete frames inside it (98 for 1000 ms, 101 for 1030 ms with the default front end). A
   * model with a fixed number of input frames T needs windowFrames ≤ T; when shorter, frames of
   * digital silence (`ln(eps)`) are put before the window. Default: the model's T frames
   * (`(T − 1)·10 + 30` ms, 1030 ms for T = 101), or 1030 ms (101 frames) for a model that takes
   * any number of frames. 101 complete frames carry the same 101 frame positions as the centred
   * 1 s training clips, without invented padding.
   */
  windowMs?: number;
  /**
   * Span of the moving average of the class probabilities, in ms ≥ 0; it averages
   * `max(1, round(smoothingMs / hopMs))` consecutive runs (fewer at the start of a stream).
   * Default 300.
   */
  smoothingMs?: number;
  /** `'logits'` (default: softmax is applied) or `'probabilities'` (model ends in a softmax). */
  modelOutput?: 'logits' | 'probabilities';
  /** Windows per `predict` call when one push completes several, in [1, 256]. Default 16. */
  maxBatch?: number;
  /**
   * Engine that runs the model in mode `'window'`. Default `'auto'`: a compiled plain-TypeScript
   * runtime when the model is one kws-kit can compile (a conv model of kws-kit's layers such as
   * `bcResNet`, causal or not, via `compileConvNet`; a CRNN via `compileCrnn`), else tfjs
   * `model.predict`. The compiled runtimes give the model's logits to float32 rounding (about
   * 1e-6) without tensors, several times faster than tfjs on wasm (BC-ResNet-1: ~1.4 ms per
   * window against ~3.2 ms) and far faster than on the cpu backend. `'compiled'` throws
   * `INVALID_ARGUMENT` for a model they cannot compile, naming why; `'tfjs'` always uses
   * `model.predict` on the active backend. `config.runtime` says which engine is in use.
   *
   * A compiled runtime reads the weights once, in `create`: later changes to the model's weights
   * (training, `setWeights`) are not seen; create a new `StreamingKWS` (stateful mode behaves
   * the same way). Mode `'stateful'` always runs compiled: `'tfjs'` is rejected there.
   */
  runtime?: RuntimeOption;
  /**
   * Front end the model was trained with (frames are always `center: false`). Default
   * `DEFAULT_FRONT_END`: 16 kHz, 40 mels, 30 ms windows every 10 ms, ln(x + 1e-6).
   */
  frontEnd?: Omit<StreamingFeatureOptions, 'output'>;
  /** Called with every detection, before the listeners added with {@link StreamingKWS.on}. */
  onDetection?: DetectionListener;
  /**
   * Called after every model run with the smoothed probabilities (one per label, in label
   * order) and the time in ms at which that run's last frame ends: what a live probability plot
   * draws. The scores array is fresh for every call. An exception thrown here rejects the
   * `push`/`flush` that ran the model.
   */
  onScores?: (scores: TimedScores) => void;
}

/** The resolved settings of a {@link StreamingKWS}. */
export interface StreamingKwsConfig extends DetectorConfig {
  mode: StreamingMode;
  /**
   * Engine that runs the model: `'compiled-conv'` (plain TypeScript: `compileConvNet` in window
   * mode, `toStreaming` in stateful mode), `'compiled-crnn'` (`compileCrnn`) or `'tfjs'`
   * (`model.predict`, window mode only). See {@link StreamingKwsOptions.runtime}.
   */
  runtime: ModelRuntime;
  /** Rate the model's features are computed at, in Hz (input at other rates is resampled). */
  sampleRate: number;
  hopMs: number;
  /** Feature frames between two model runs. */
  hopFrames: number;
  windowMs: number;
  /** Feature frames of audio per model run. */
  windowFrames: number;
  /** Frames per example given to the model (windowFrames plus silence padding, if any). */
  inputFrames: number;
  smoothingMs: number;
  /** Model runs averaged by the smoother. */
  smoothingHops: number;
}

const EMPTY = new Float32Array(0);

/** Options of {@link StreamingKWS.flush}. */
export interface FlushOptions {
  /**
   * Silence appended to the stream before it ends, in ms (0 … 60000). Default 0. Use it for
   * recordings that may end right after a word; see {@link StreamingKWS.flush}.
   */
  padMs?: number;
}

/** Longest `padMs` {@link StreamingKWS.flush} accepts: one minute. */
const MAX_FLUSH_PAD_MS = 60_000;

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** {@link toStreaming}, with "cannot stream this model" reported as a bad `mode` choice. */
function convertForStateful(model: LayersModel, windowFrames: number): StreamingConvNet {
  try {
    return toStreaming(model, { windowFrames });
  } catch (error) {
    if (error instanceof KwsError && error.code === 'MODEL_INVALID') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `mode 'stateful' cannot stream this model: ${error.message}. Stateful streaming supports ` +
          "kws-kit CRNNs and causal conv models (bcResNet({ causal: true })); use mode 'window' for any model",
      );
    }
    throw error;
  }
}

function isFunction(value: unknown): value is DetectionListener {
  return typeof value === 'function';
}

/**
 * Streaming keyword spotter. Push audio as it arrives; get the keywords each chunk completes.
 *
 * Semantics (window mode, default options):
 * - The model runs on the last `windowMs` of features (1030 ms = 101 frames for a 101-frame
 *   model) every `hopMs` (100 ms), on a compiled plain-TypeScript runtime when kws-kit can compile
 *   the model (`runtime: 'auto'`; to float32 rounding of `model.predict`), else with tfjs
 *   `model.predict`. The first run is when the first full window has arrived; the
 *   run whose window ends at time t (ms from the start of the stream) gives
 *   `softmax(model(x))`, x being the frames of `logMelSpectrogram(audio, { center: false })`
 *   that end by t, whatever the chunking.
 * - Its probabilities are averaged with those of the previous runs over `smoothingMs` (300 ms
 *   = 3 runs); a reported label fires when its average reaches its threshold (0.8) and its
 *   refractory period (1000 ms) has passed. The detection's `timeMs` is the end t of the window
 *   that fired and its `score` the average that crossed.
 * - Every result depends only on the audio, not on how it was cut into chunks.
 * - Mode `'stateful'` (kws-kit CRNNs) differs only in the posteriors: one every conv stride
 *   (80 ms) by default, the first when the first window's conv steps are complete (1020 ms for
 *   the default CRNN; it equals the offline model on that window), the later ones from the GRU
 *   state carried since the start of the stream (see {@link CrnnStatefulMode}).
 * - Mode `'stateful'` with a causal conv model (`bcResNet({ causal: true })`) keeps the window
 *   mode's hop grid (first posterior after the first window, then every `hopMs`); posterior k
 *   is the classifier on the mean frame features of its window, computed once per frame with
 *   conv state carried since the start of the stream. The first equals the window mode's; later
 *   ones see the real frames before their window where the window mode sees zero padding (see
 *   {@link ConvStatefulMode}).
 * - Memory is bounded: `windowMs` of features, fewer than `nFft` samples of pending audio and the
 *   resampler's filter history, whatever is pushed.
 *
 * Runs on whatever tfjs backend is active (it never calls `setBackend`); the compiled runtimes
 * use no backend at all.
 *
 * @example
 * ```ts
 * const kws = await StreamingKWS.create({ model, labels: ['_silence_', '_unknown_', 'yes', 'no'] });
 * kws.on('detection', (d) => console.log(`${d.label} at ${d.timeMs} ms (${d.score.toFixed(2)})`));
 * for await (const chunk of microphone) await kws.push(chunk, 48000);
 * await kws.flush();
 * kws.dispose();
 * ```
 */
export class StreamingKWS {
  /** The resolved settings. */
  readonly config: Readonly<StreamingKwsConfig>;
  private readonly extractor: StreamingFeatureExtractor;
  private readonly mode: InferenceMode;
  private readonly smoother: PosteriorSmoother;
  private readonly detector: KeywordDetector;
  private readonly nFft: number;
  private readonly hopLength: number;
  private readonly listeners: DetectionListener[] = [];
  private readonly onDetection: DetectionListener | undefined;
  /** A model this instance loaded itself (`pretrained`), disposed with it. */
  private readonly ownedModel: LayersModel | null;
  private readonly onScores: ((scores: TimedScores) => void) | undefined;
  /** Rate of the current stream's input, fixed by its first push (null: no stream yet). */
  private streamRate: number | null = null;
  private resampler: Resampler | null = null;
  /** Inference steps run one at a time, in push order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Bumped by reset/dispose: queued work of an older stream is dropped. */
  private generation = 0;
  private isDisposed = false;

  private constructor(
    config: StreamingKwsConfig,
    extractor: StreamingFeatureExtractor,
    mode: InferenceMode,
    detector: KeywordDetector,
    onDetection: DetectionListener | undefined,
    ownedModel: LayersModel | null,
    onScores: ((scores: TimedScores) => void) | undefined,
  ) {
    this.ownedModel = ownedModel;
    this.onScores = onScores;
    this.config = Object.freeze(config);
    this.extractor = extractor;
    this.mode = mode;
    this.detector = detector;
    this.smoother = new PosteriorSmoother(config.labels.length, config.smoothingHops);
    this.nFft = extractor.frameLength;
    this.hopLength = extractor.hopLength;
    this.onDetection = onDetection;
  }

  /**
   * Builds a streaming spotter around a model (see {@link StreamingKwsOptions} for every option
   * and its default). Async because a `pretrained` model is loaded first.
   *
   * @throws KwsError `INVALID_ARGUMENT` for a bad or missing option (including `mode: 'stateful'`
   *   with a model it cannot stream: a bidirectional CRNN, a non-causal conv model, unknown
   *   layers; `runtime: 'compiled'` with a model the compiled runtimes do not support, and
   *   `runtime: 'tfjs'` with `mode: 'stateful'`; and `hopMs` that is not a multiple
   *   of the front end's hop, or in `'stateful'` mode of the CRNN's conv stride), `NOT_FOUND`
   *   for an unknown `pretrained` name or a keyword / threshold key that is not a label,
   *   `MODEL_INVALID` for a model that does not map `[batch, frames, mels]` to `[batch, classes]`,
   *   `SHAPE_MISMATCH` when the labels, mel bands or window do not fit the model.
   */
  static async create(options: StreamingKwsOptions): Promise<StreamingKWS> {
    const o = checkOptions('options', options);
    checkChoice('mode', o.mode ?? 'window', ['window', 'stateful'] as StreamingMode[]);
    checkChoice('runtime', o.runtime ?? 'auto', RUNTIME_OPTIONS);
    if (o.model !== undefined && o.pretrained !== undefined) {
      throw new KwsError('INVALID_ARGUMENT', 'give either model or pretrained, not both');
    }
    if (o.pretrained === undefined) {
      if (o.model === undefined) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          'model is required (a tfjs-layers LayersModel) unless pretrained is given',
        );
      }
      return StreamingKWS.build(o, o.model, null);
    }
    if (typeof o.pretrained !== 'string') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'pretrained must be the name of a pretrained model (see listPretrained())',
      );
    }
    const card = pretrainedCard(o.pretrained);
    const model = await loadPretrained(
      o.pretrained,
      o.pretrainedUrl === undefined ? undefined : { url: o.pretrainedUrl },
    );
    try {
      // The card knows the labels and front end the model was trained with; explicit options win.
      return StreamingKWS.build(
        { ...o, labels: o.labels ?? card.labels, frontEnd: o.frontEnd ?? card.frontEnd },
        model,
        model,
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  private static build(
    o: StreamingKwsOptions,
    model: LayersModel,
    ownedModel: LayersModel | null,
  ): StreamingKWS {
    const mode = checkChoice('mode', o.mode ?? 'window', ['window', 'stateful'] as StreamingMode[]);
    const runtimeOption = checkChoice('runtime', o.runtime ?? 'auto', RUNTIME_OPTIONS);
    if (mode === 'stateful' && runtimeOption === 'tfjs') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        "runtime 'tfjs' applies to mode 'window' only: mode 'stateful' always runs compiled plain TypeScript",
      );
    }
    const geometry = describeModel(model);
    if (o.labels === undefined) {
      throw new KwsError('INVALID_ARGUMENT', 'labels is required: the class names in the model output order');
    }
    const detector = new KeywordDetector({
      labels: o.labels,
      keywords: o.keywords,
      threshold: o.threshold,
      refractoryMs: o.refractoryMs,
      reportFiller: o.reportFiller,
    });
    if (detector.config.labels.length !== geometry.classes) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `labels has ${detector.config.labels.length} names but the model outputs ${geometry.classes} classes`,
      );
    }
    const frontEndOptions = checkOptions('frontEnd', o.frontEnd);
    const frontEnd = resolveFrontEnd({ ...frontEndOptions, center: false });
    const extractor = new StreamingFeatureExtractor({ ...frontEndOptions, output: 'log-mel' });
    if (extractor.bins !== geometry.bins) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `the front end makes ${extractor.bins} mel bands per frame; the model takes ${geometry.bins}`,
      );
    }
    const sampleRate = frontEnd.sampleRate;
    const { frameLength: nFft, hopLength } = extractor;
    const frontHopMs = (1000 * hopLength) / sampleRate;
    const recurrent = mode === 'stateful' && hasRecurrentLayer(model);
    const runtime = recurrent ? compileStatefulCrnn(model) : null;
    if (runtime !== null && o.modelOutput === 'probabilities') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        "o.modelOutput 'probabilities' does not apply to mode 'stateful': a kws-kit CRNN outputs logits",
      );
    }

    const defaultHopMs = runtime === null ? DEFAULT_HOP_MS : runtime.stride[0] * frontHopMs;
    const hopMs = checkNumber('hopMs', o.hopMs ?? defaultHopMs, 0, Number.POSITIVE_INFINITY, true);
    const hopRatio = hopMs / frontHopMs;
    const hopFrames = Math.round(hopRatio);
    if (hopFrames < 1 || Math.abs(hopRatio - hopFrames) > 1e-9 * Math.max(1, hopRatio)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `hopMs must be a positive multiple of the front end's hop (${frontHopMs} ms); got ${hopMs}`,
      );
    }

    const msOfFrames = (frames: number): number => (1000 * ((frames - 1) * hopLength + nFft)) / sampleRate;
    const frameMs = (1000 * nFft) / sampleRate;
    const windowMs =
      o.windowMs === undefined
        ? msOfFrames(geometry.frames ?? DEFAULT_WINDOW_FRAMES)
        : checkNumber('windowMs', o.windowMs, frameMs);
    // The tolerance absorbs the rounding of ms ↔ samples (1030 ms must give 101 frames exactly).
    const windowFrames = 1 + Math.floor(((windowMs * sampleRate) / 1000 - nFft) / hopLength + 1e-9);

    const smoothingMs = checkNumber('smoothingMs', o.smoothingMs ?? DEFAULT_SMOOTHING_MS, 0);
    const smoothingHops = Math.max(1, Math.round(smoothingMs / hopMs));
    if (o.onDetection !== undefined && !isFunction(o.onDetection)) {
      throw new KwsError('INVALID_ARGUMENT', 'onDetection must be a function (detection) => void');
    }
    if (o.onScores !== undefined && !isFunction(o.onScores)) {
      throw new KwsError('INVALID_ARGUMENT', 'onScores must be a function ({ timeMs, scores }) => void');
    }

    let inference: WindowMode | CrnnStatefulMode | ConvStatefulMode;
    if (mode === 'stateful' && runtime === null) {
      inference = new ConvStatefulMode({
        net: convertForStateful(model, windowFrames),
        hopFrames,
        modelOutput: o.modelOutput,
      });
    } else if (runtime === null) {
      inference = new WindowMode({
        model,
        windowFrames,
        hopFrames,
        padValue: Math.log(frontEnd.eps),
        modelOutput: o.modelOutput,
        maxBatch: o.maxBatch,
        runtime: runtimeOption,
      });
    } else {
      if (hopFrames % runtime.stride[0] !== 0) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `in mode 'stateful', hopMs must be a multiple of the CRNN's conv time stride ` +
            `(${runtime.stride[0]} frames = ${runtime.stride[0] * frontHopMs} ms); got ${hopMs}`,
        );
      }
      inference = new CrnnStatefulMode({ runtime, windowFrames, hopFrames });
    }
    const config: StreamingKwsConfig = {
      ...detector.config,
      mode,
      runtime:
        inference instanceof WindowMode
          ? inference.runtime
          : inference instanceof CrnnStatefulMode
            ? 'compiled-crnn'
            : 'compiled-conv',
      sampleRate,
      hopMs,
      hopFrames,
      windowMs,
      windowFrames,
      inputFrames: inference instanceof WindowMode ? inference.inputFrames : inference.windowFrames,
      smoothingMs,
      smoothingHops,
    };
    return new StreamingKWS(config, extractor, inference, detector, o.onDetection, ownedModel, o.onScores);
  }

  /** Whether {@link StreamingKWS.dispose} has been called. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Feature frames held for the next model runs (at most `config.windowFrames`). */
  get bufferedFrames(): number {
    return this.isDisposed ? 0 : this.mode.bufferedFrames;
  }

  /**
   * Adds a listener called with every detection, in order, after the `onDetection` option.
   * If a listener throws, the other listeners still run and the `push`/`flush` that produced
   * the detection rejects with the first error.
   *
   * @throws KwsError `INVALID_ARGUMENT` for an event other than `'detection'` or a listener that is
   *   not a function, `DISPOSED` after {@link StreamingKWS.dispose}.
   */
  on(event: 'detection', listener: DetectionListener): this {
    this.checkAlive();
    checkChoice('event', event, ['detection']);
    if (!isFunction(listener)) throw new KwsError('INVALID_ARGUMENT', 'listener must be a function');
    this.listeners.push(listener);
    return this;
  }

  /** Removes a listener added with {@link StreamingKWS.on} (its last registration); no-op if absent. */
  off(event: 'detection', listener: DetectionListener): this {
    checkChoice('event', event, ['detection']);
    const i = this.listeners.lastIndexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
    return this;
  }

  /**
   * Feeds one chunk of mono audio and resolves with the detections it completed (also sent to
   * the listeners). The audio is consumed when `push` is called (the caller may reuse `chunk`
   * at once); model runs are queued and happen in push order, so pushes need not be awaited one
   * by one (but unawaited pushes queue their features, which then take memory).
   *
   * @param chunk samples (any length, including 0), finite.
   * @param sampleRate rate of `chunk` in Hz, a positive integer. Default: the rate of the current
   *   stream (set by its first push), or the front end's 16 kHz for the first push. Audio at
   *   another rate than the front end's is resampled (band-limited, stateful across chunks).
   * @throws KwsError `DISPOSED` after dispose; `NON_FINITE_INPUT` for NaN/±Infinity samples and
   *   `INVALID_ARGUMENT` for a non-Float32Array (nothing of the chunk is consumed);
   *   `INVALID_SAMPLE_RATE` for a bad rate or one that differs from the stream's (call
   *   {@link StreamingKWS.reset} or {@link StreamingKWS.flush} to start a stream at another rate).
   */
  async push(chunk: Float32Array, sampleRate?: number): Promise<Detection[]> {
    this.checkAlive();
    checkSignal('chunk', chunk, true);
    const rate = this.checkRate(sampleRate);
    if (this.streamRate === null) {
      this.resampler = rate === this.config.sampleRate ? null : new Resampler(rate, this.config.sampleRate);
      this.streamRate = rate;
    }
    const audio = this.resampler === null ? chunk : this.resampler.process(chunk);
    return this.enqueue(this.extractor.push(audio), false);
  }

  /**
   * Ends the stream: runs the audio the resampler still holds (its last outputs, as if silence
   * followed), resolves with the detections that completes, then starts a new stream (the next
   * push is at t = 0 and may use another sample rate). Audio that does not fill a whole hop
   * after the last full window is not run.
   *
   * A recording that ends right after a word (a 1 s Speech Commands clip gives 98 streaming
   * frames, fewer than the model's 101-frame window, so no window runs at all) needs
   * `padMs`: that much silence is appended first, so the windows slide past the end of the
   * audio. Detection times are unchanged (the silence comes after the audio).
   *
   * @param options.padMs silence appended before the stream ends, in ms (finite, ≥ 0, at most
   *   60000). Default 0.
   * @throws KwsError `DISPOSED` after dispose; `INVALID_ARGUMENT` for a bad `padMs` (the stream
   *   is then left as it was).
   */
  async flush(options?: FlushOptions): Promise<Detection[]> {
    this.checkAlive();
    const o = checkOptions('flush options', options);
    const padMs = checkNumber('padMs', o.padMs ?? 0, 0, MAX_FLUSH_PAD_MS);
    const pad = new Float32Array(Math.round((padMs / 1000) * this.config.sampleRate));
    // Silence goes in after the resampler's tail, at the front end's own rate.
    const held = this.resampler === null ? EMPTY : this.resampler.flush();
    const tail = pad.length === 0 ? held : concat(held, pad);
    const frames = this.extractor.push(tail);
    // Audio pushed after this call belongs to the next stream: its front end starts afresh now,
    // the model state once the queued runs of this stream are done.
    this.extractor.reset();
    this.resampler = null;
    this.streamRate = null;
    return this.enqueue(frames, true);
  }

  /**
   * Forgets the current stream at once (queued runs of it are dropped and their pushes resolve
   * with no detections): the next push is the start of a new stream at t = 0.
   *
   * @throws KwsError `DISPOSED` after dispose.
   */
  reset(): void {
    this.checkAlive();
    this.generation++;
    this.extractor.reset();
    this.resampler = null;
    this.streamRate = null;
    this.resetModelState();
  }

  /**
   * Releases the spotter: pending runs are dropped, listeners removed; a later push, flush, reset
   * or on throws `DISPOSED`. Idempotent. The model passed to {@link StreamingKWS.create} is not disposed.
   */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.generation++;
    this.mode.dispose();
    this.ownedModel?.dispose();
    this.listeners.length = 0;
    this.resampler = null;
  }

  private checkAlive(): void {
    if (this.isDisposed) {
      throw new KwsError('DISPOSED', 'this StreamingKWS was disposed; create a new one');
    }
  }

  private checkRate(sampleRate: number | undefined): number {
    if (sampleRate === undefined) return this.streamRate ?? this.config.sampleRate;
    const rate = checkSampleRate('sampleRate', sampleRate);
    if (!Number.isSafeInteger(rate)) {
      throw new KwsError('INVALID_SAMPLE_RATE', `sampleRate must be a whole number of Hz; got ${rate}`);
    }
    if (this.streamRate !== null && rate !== this.streamRate) {
      throw new KwsError(
        'INVALID_SAMPLE_RATE',
        `sampleRate ${rate} differs from this stream's ${this.streamRate} Hz; ` +
          'call reset() or flush() before pushing audio at another rate',
      );
    }
    return rate;
  }

  private resetModelState(): void {
    this.mode.reset();
    this.smoother.reset();
    this.detector.reset();
  }

  /** Queues the model runs for `frames`; resolves with their detections. */
  private enqueue(frames: Spectrogram, endOfStream: boolean): Promise<Detection[]> {
    const generation = this.generation;
    const run = async (): Promise<Detection[]> => {
      if (generation !== this.generation) return [];
      const detections: Detection[] = [];
      try {
        const posteriors = await this.mode.step(frames);
        if (generation !== this.generation) return [];
        for (const { endFrame, scores } of posteriors) {
          const smoothed = this.smoother.push(scores);
          const timeMs = this.timeOfFrameEnd(endFrame);
          this.onScores?.({ timeMs, scores: smoothed });
          detections.push(...this.detector.step(timeMs, smoothed));
        }
      } finally {
        // The stream ends even if its last run failed; a reset() meanwhile already cleared it.
        if (endOfStream && generation === this.generation) this.resetModelState();
      }
      this.emit(detections);
      return detections;
    };
    const result = this.tail.then(run);
    // A failed run must not stop the runs queued after it.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Time in ms from the stream start at which frame `endFrame − 1` ends. */
  private timeOfFrameEnd(endFrame: number): number {
    return (1000 * ((endFrame - 1) * this.hopLength + this.nFft)) / this.config.sampleRate;
  }

  private emit(detections: Detection[]): void {
    let failure: { error: unknown } | undefined;
    const listeners =
      this.onDetection === undefined ? [...this.listeners] : [this.onDetection, ...this.listeners];
    for (const detection of detections) {
      for (const listener of listeners) {
        try {
          listener(detection);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}
