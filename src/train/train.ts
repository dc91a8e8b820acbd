/**
 * The training loop: mini-batch training of a keyword-spotting classifier on a {@link Split},
 * with a per-step learning-rate schedule, PyTorch-style optimizers and weight decay, seeded
 * augmentation, per-epoch validation, best-weight tracking and resumable checkpoints.
 *
 * Reproducibility: every random choice comes from `options.seed` — the shuffle of each epoch,
 * the augmentation stream, and the generators of the model's seeded layers (kws-kit's
 * `ChannelDropout` and `SeededDropout`), which are reseeded at the start of a run. On the cpu backend two runs with
 * the same model seed and training seed give bit-identical losses and weights, and a run
 * stopped after epoch k and resumed from its checkpoint ends exactly where an uninterrupted run
 * ends. The compiled engine (`engine`, used by default for BC-ResNet-style models) is plain
 * TypeScript and deterministic on every backend.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type Batch, batches, classWeights, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { registerBatchNormGradient } from '../models/index.js';
import { nodeBuiltin } from '../node-builtins.js';
import { createRng, type Rng, type RngState } from '../random.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { type AugmentOptions, type BatchAugmenter, createBatchAugmenter } from './augment-batch.js';
import {
  BEST_CHECKPOINT,
  type CheckpointState,
  LAST_CHECKPOINT,
  type RunFingerprint,
  readCheckpoint,
  readWeightSnapshot,
  restoreWeights,
  snapshotWeights,
  type WeightSnapshot,
  writeCheckpoint,
} from './checkpoint.js';
import {
  type ChosenEngine,
  chooseEngine,
  compiledGradients,
  gradientTensors,
  TRAINING_ENGINES,
  type TrainingEngine,
} from './compiled/engine.js';
import { evaluate } from './evaluate.js';
import { type LayerRng, layerRngs } from './layer-rng.js';
import { lossDenominator, softmaxCrossEntropy } from './loss.js';
import { checkModelIo, inputTensor, type ModelIo } from './model-input.js';
import {
  createOptimizer,
  type NamedTensor,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type TrainingOptimizer,
} from './optimizer.js';
import { DataParallel } from './parallel/data-parallel.js';
import { createProgressReporter, type LoggerMode, type ProgressReporter } from './progress.js';
import { learningRateSchedule, type ScheduleKind } from './schedule.js';
import { registerUnpackGradient } from './unpack-gradient.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

/** Statistics of one completed epoch. */
export interface EpochStats {
  /** Epoch number, 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's examples (class-weighted if `classWeights` is set). */
  loss: number;
  /** Fraction of the epoch's training examples predicted right (in training mode, augmented). */
  accuracy: number;
  /** Mean validation cross-entropy (unweighted), when a validation split is given. */
  validationLoss?: number;
  /** Validation accuracy, when a validation split is given. */
  validationAccuracy?: number;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  /** Training examples per second (training steps and data preparation, validation excluded). */
  examplesPerSecond: number;
  /** Wall time of the epoch, validation included (checkpoint writing not), in seconds. */
  seconds: number;
  /** Of `seconds`: time spent assembling and augmenting batches. */
  dataSeconds: number;
  /** Training time so far: the `seconds` of this and every earlier epoch (resumed sessions included). */
  elapsedSeconds: number;
}

/** Statistics of one optimisation step, for {@link TrainCallbacks.onBatchEnd}. */
export interface BatchStats {
  /** Epoch number, 1-based. */
  epoch: number;
  /** Batch index within the epoch, 0-based. */
  batch: number;
  /** Global step index, 0-based (the schedule's step). */
  step: number;
  /** Examples in the batch. */
  size: number;
  /** Loss of the batch. */
  loss: number;
  /** Accuracy of the batch. */
  accuracy: number;
  /** Learning rate used for the step. */
  learningRate: number;
}

/**
 * What a callback may return: `'stop'` (or a promise of it) ends training; anything else,
 * including nothing, lets it go on.
 */
export type CallbackResult = unknown;

/** Hooks into the loop. Both may be async; training waits for them. */
export interface TrainCallbacks {
  /**
   * After each epoch's validation and checkpoint. Returning `'stop'` ends the run; the
   * checkpoint of that epoch is already written, so `resume` continues from it.
   */
  onEpochEnd?(stats: EpochStats): CallbackResult;
  /**
   * After each optimisation step. Returning `'stop'` ends the run at once; the unfinished epoch
   * is not recorded (a resumed run redoes it from its start).
   */
  onBatchEnd?(stats: BatchStats): CallbackResult;
}

/** Learning-rate schedule of {@link TrainOptions}. */
export interface TrainScheduleOptions {
  /** `'cosine'` (default): linear warm-up then cosine decay to 0; `'constant'`: warm-up then flat. */
  kind?: ScheduleKind;
  /** Warm-up length in epochs (≥ 0, may be fractional; converted to whole steps). Default 5. */
  warmupEpochs?: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Training examples (features `[n, frames, bins]`; `audio` too when augmenting the waveform). */
  train: Split;
  /** Validation examples with the same labels, frames and bins; evaluated after every epoch. */
  validation?: Split;
  /** Number of epochs, an integer ≥ 1. */
  epochs: number;
  /** Examples per step, an integer ≥ 1. Default 100. The last batch of an epoch may be smaller. */
  batchSize?: number;
  /**
   * Run each batch's forward and backward passes on slices of at most this many examples and sum
   * their gradients before the one update (gradient accumulation), to bound memory: training
   * BC-ResNet-1 holds ≈ 50 MB per example on the tape, and the wasm heap stops at 4 GB, so a batch
   * of 100 aborts the process there while slices of 25 fit. The loss and its gradient are those
   * of the whole batch; only batch-norm statistics and the layers' per-call randomness are per
   * slice. An integer ≥ 1. Default: `batchSize` (no slicing).
   */
  microBatchSize?: number;
  /** Update rule. Default `'sgd'`. */
  optimizer?: OptimizerName;
  /** Peak learning rate (> 0). Default 0.1 for sgd, 3e-3 for adam/adamw (the gsc-dev recipes). */
  learningRate?: number;
  /** SGD momentum in [0, 1). Default 0.9. */
  momentum?: number;
  /**
   * Weight decay λ ≥ 0: L2 added to the gradient for sgd/adam, decoupled for adamw.
   * Default 1e-3 for sgd, 1e-4 for adam (the gsc-dev recipes), 1e-2 for adamw (PyTorch's default).
   */
  weightDecay?: number;
  /** Learning-rate schedule, per step. Default `{ kind: 'cosine', warmupEpochs: 5 }`. */
  schedule?: TrainScheduleOptions;
  /** Per-batch augmentation; none by default. */
  augment?: AugmentOptions;
  /**
   * Loss weight per class (one finite number ≥ 0 per label, not all 0) or `'inverse'`
   * (weights ∝ 1/count from the training split). Default: unweighted.
   */
  classWeights?: readonly number[] | 'inverse';
  /** Seed of the shuffles, the augmentation and the model's seeded layers. Default 0. */
  seed?: number;
  /** Progress callbacks. */
  callbacks?: TrainCallbacks;
  /** Folder for checkpoints (`last/` every epoch, `best/` on improvement). Default: none. */
  checkpointDir?: string;
  /**
   * Continue from `checkpointDir/last` if it exists (weights, optimizer, generators, history);
   * otherwise start afresh. Needs `checkpointDir`. With the other options unchanged the result
   * equals an uninterrupted run's; a larger `epochs` extends the run (the schedule is recomputed
   * for the new length). The optimizer, batch size, seed, labels and training-set size must
   * match the checkpoint's. Default false.
   */
  resume?: boolean;
  /**
   * With a validation split, load the best epoch's weights into the model at the end. Default true.
   */
  restoreBest?: boolean;
  /** Progress output; see {@link createProgressReporter}. Default `'auto'`. */
  logger?: LoggerMode;
  /** Aborts training between steps, like `onBatchEnd` returning `'stop'`. */
  signal?: AbortSignal;
  /**
   * Data-parallel training on this many Node worker threads (an integer in [1, 64]). Default 1:
   * everything runs on the calling thread. With `workers` ≥ 2 each batch is cut into `workers`
   * contiguous shards; each worker thread (its own tfjs on the caller's backend, which must be
   * `'cpu'` or `'wasm'`, and a copy of the model rebuilt from its JSON topology) computes its
   * shard's gradient (micro-batched by `microBatchSize`), the caller's thread sums them and
   * applies the update. tfjs' wasm backend is single-threaded in Node, so this is how training
   * uses more than one core; use as many workers as cores.
   *
   * Same loss and gradient as one thread, except that batch norms in training mode normalise
   * each shard with its own statistics (moving statistics become the shard-size-weighted mean)
   * and seeded dropout draws per worker. Reproducible for a given `workers` (checkpoints and
   * resume included: resume with the same value). Node.js only; the model may contain only
   * tfjs-layers and kws-kit layers, and the `hooks` argument may set only `aroundValidation`
   * (functions cannot cross threads).
   */
  workers?: number;
  /**
   * What computes each step's gradients (on the calling thread and in every worker):
   *
   * - `'compiled'`: kws-kit's plain-TypeScript training program for convolutional models
   *   (BC-ResNet: `SpectralConv`, `TemporalConv`, `Dense` on the channel axis, batch and
   *   sub-spectral norms, ReLU / SiLU, `Add`, frequency and global means, `ChannelDropout`).
   *   Several times faster than tfjs on every backend and independent of it. Same loss,
   *   gradients (to ~1e-5 relative: float64 sums), moving-statistics updates, dropout masks and
   *   generator states as tfjs, so checkpoints and resume work across engines. Throws when the
   *   model has another layer or a per-batch hook (`prepareBatch`, `forward`, `lossFn`,
   *   `extraVariables`) is given.
   * - `'tfjs'`: `tf.variableGrads` over `model.apply(x, { training: true })`: any model, hooks.
   * - `'auto'`: `'compiled'` when it can run the model and no per-batch hook is given, else
   *   `'tfjs'` (e.g. the CRNN's GRU, tfjs-layers `Conv2D`, tfjs `Dropout` with rate > 0).
   *
   * Default `'auto'`.
   */
  engine?: TrainingEngine;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** One entry per completed epoch (including epochs done before a resume). */
  history: EpochStats[];
  /** Epochs completed. */
  epochs: number;
  /** Optimisation steps completed. */
  steps: number;
  /** Epoch with the best validation accuracy (1-based), or null without validation. */
  bestEpoch: number | null;
  /** That accuracy, or null without validation. */
  bestValidationAccuracy: number | null;
  /** Whether the model now holds the best epoch's weights (else the last step's). */
  restoredBest: boolean;
  /** Whether a callback or the abort signal ended the run before `options.epochs`. */
  stopped: boolean;
  /** Wall time of this call, in seconds. */
  seconds: number;
}

/**
 * One (micro-)batch as {@link TrainHooks.prepareBatch} sees it, before the gradient tape starts.
 */
export interface TrainBatchContext {
  /** The (possibly augmented) features, `size · frames · bins` values. */
  features: Float32Array;
  /** The same features as the model's input tensor (owned by the loop; do not dispose). */
  inputs: tf.Tensor;
  /** Which examples of the training split these are (`size` entries). */
  indices: Int32Array;
  /** Their class indices (`size` entries). */
  labels: Int32Array;
  /** Number of examples. */
  size: number;
}

/** What {@link TrainHooks.lossFn} gets, inside the gradient tape. */
export interface TrainLossContext<E> extends TrainBatchContext {
  /** The model's outputs in training mode (from {@link TrainHooks.forward} if given); `[0]` is the logits. */
  outputs: tf.Tensor[];
  /** `outputs[0]`: logits `[size, classes]`. */
  logits: tf.Tensor;
  /** What {@link TrainHooks.prepareBatch} returned for this batch (undefined without it). */
  extra: E | undefined;
  /** Per-class loss weights resolved from `options.classWeights`, if set. */
  classWeights: readonly number[] | undefined;
  /** Always true: the loss is computed for an optimisation step. */
  training: true;
}

/**
 * Advanced extension points of {@link train}, used by kws-kit's distillation (`distill`); most
 * callers never need them. Everything else (shuffling, augmentation, schedule, optimizer,
 * micro-batching, validation, checkpoints, resume, callbacks) stays the loop's.
 *
 * @typeParam E - what `prepareBatch` returns (e.g. a teacher's logits for the batch).
 */
export interface TrainHooks<E = unknown> {
  /**
   * Called for every (micro-)batch **outside** the gradient tape, e.g. to run a frozen teacher;
   * nothing computed here receives gradients. Tensors it returns are freed by `disposeBatch`.
   */
  prepareBatch?(batch: TrainBatchContext): E;
  /** Frees what `prepareBatch` returned, once the batch's loss and gradients are computed. */
  disposeBatch?(extra: E): void;
  /**
   * The model's forward pass in training mode, returning `[logits, ...more]` (e.g. a two-output
   * attention view sharing the model's weights). Default: `[model.apply(inputs, { training: true })]`.
   */
  forward?(inputs: tf.Tensor): tf.Tensor[];
  /**
   * The training loss of a (micro-)batch: the **mean over its `size` examples** (the loop scales
   * micro-batch losses by `size / batchSize` so they add up to the batch mean). Default: softmax
   * cross-entropy on the logits, class-weighted when `classWeights` is set.
   */
  lossFn?(ctx: TrainLossContext<E>): tf.Scalar;
  /**
   * More variables to optimise with the model's (e.g. hint projections). They get the same
   * update rule and their optimizer slots are checkpointed; their values are not (save them
   * yourself if a resumed run needs them).
   */
  extraVariables?: readonly tf.Variable[];
  /**
   * Wraps each epoch's validation: must call `validate` once and return its result. Used by
   * quantization-aware training (`prepareQat`) to validate, and pick the best epoch by, the
   * quantized weights while the model holds the float masters. Default: validation as is.
   */
  aroundValidation?<T>(validate: () => T): T;
}

const OPTION_KEYS = [
  'train',
  'validation',
  'epochs',
  'batchSize',
  'microBatchSize',
  'optimizer',
  'learningRate',
  'momentum',
  'weightDecay',
  'schedule',
  'augment',
  'classWeights',
  'seed',
  'callbacks',
  'checkpointDir',
  'resume',
  'restoreBest',
  'logger',
  'signal',
  'workers',
  'engine',
];

const DEFAULT_RATE: Record<OptimizerName, number> = { sgd: 0.1, adam: 3e-3, adamw: 3e-3 };
const DEFAULT_DECAY: Record<OptimizerName, number> = { sgd: 1e-3, adam: 1e-4, adamw: 1e-2 };

interface Resolved {
  train: Split;
  validation: Split | undefined;
  epochs: number;
  batchSize: number;
  microBatchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  scheduleKind: ScheduleKind;
  warmupEpochs: number;
  augment: BatchAugmenter | null;
  classWeights: number[] | undefined;
  seed: number;
  callbacks: TrainCallbacks;
  checkpointDir: string | undefined;
  resume: boolean;
  restoreBest: boolean;
  logger: LoggerMode;
  signal: AbortSignal | undefined;
  workers: number;
  engine: TrainingEngine;
  hooks: TrainHooks;
}

function checkSplit(name: string, split: unknown): Split {
  const s = split as Split;
  if (
    typeof split !== 'object' ||
    split === null ||
    !(s.labels instanceof Int32Array) ||
    !(s.features instanceof Float32Array) ||
    !Array.isArray(s.labelNames)
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a Split ({ features, frames, bins, labels, labelNames })`,
    );
  }
  if (s.labels.length === 0) throw new KwsError('EMPTY_INPUT', `${name} has no examples`);
  if (!(s.frames > 0 && s.bins > 0) || s.features.length !== s.labels.length * s.frames * s.bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${name}.features must hold ${s.labels.length} × frames × bins values with frames, bins >= 1 ` +
        `(got ${s.features.length} values, ${s.frames} frames, ${s.bins} bins); load it with features`,
    );
  }
  return s;
}

function checkClassWeights(value: unknown, train: Split): number[] | undefined {
  if (value === undefined) return undefined;
  if (value === 'inverse') return classWeights(train);
  const k = train.labelNames.length;
  if (
    !Array.isArray(value) ||
    value.length !== k ||
    !value.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) ||
    !value.some((w) => w > 0)
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `classWeights must be 'inverse' or ${k} finite numbers >= 0 (one per label), not all 0`,
    );
  }
  return [...value];
}

function resolveOptions(options: TrainOptions): Resolved {
  const o = checkOptions('options', options);
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `unknown train option ${JSON.stringify(key)}; allowed: ${OPTION_KEYS.join(', ')}`,
      );
    }
  }
  const trainSplit = checkSplit('train', o.train);
  let validation: Split | undefined;
  if (o.validation !== undefined) {
    validation = checkSplit('validation', o.validation);
    const a = trainSplit.labelNames;
    const b = validation.labelNames;
    if (a.length !== b.length || a.some((name, i) => name !== b[i])) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `validation labels [${b.join(', ')}] differ from train labels [${a.join(', ')}]; both splits must share one label list`,
      );
    }
    if (validation.frames !== trainSplit.frames || validation.bins !== trainSplit.bins) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `validation examples are ${validation.frames} × ${validation.bins}; train examples are ${trainSplit.frames} × ${trainSplit.bins}`,
      );
    }
  }
  const optimizer = checkChoice('optimizer', o.optimizer ?? 'sgd', OPTIMIZER_NAMES);
  const schedule = checkOptions('schedule', o.schedule);
  const callbacks = checkOptions('callbacks', o.callbacks) as TrainCallbacks;
  for (const key of ['onEpochEnd', 'onBatchEnd'] as const) {
    if (callbacks[key] !== undefined && typeof callbacks[key] !== 'function') {
      throw new KwsError('INVALID_ARGUMENT', `callbacks.${key} must be a function`);
    }
  }
  const checkpointDir = o.checkpointDir;
  if (checkpointDir !== undefined && (typeof checkpointDir !== 'string' || checkpointDir.length === 0)) {
    throw new KwsError('INVALID_ARGUMENT', 'checkpointDir must be a non-empty folder path');
  }
  const resume = checkBoolean('resume', o.resume ?? false);
  if (resume && checkpointDir === undefined) {
    throw new KwsError('INVALID_ARGUMENT', 'resume: true needs checkpointDir (where the checkpoint is)');
  }
  const signal = o.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || !('aborted' in signal))) {
    throw new KwsError('INVALID_ARGUMENT', 'signal must be an AbortSignal');
  }
  const momentum = checkNumber('momentum', o.momentum ?? 0.9, 0, 1);
  if (momentum === 1) throw new KwsError('INVALID_ARGUMENT', 'momentum must be < 1; got 1');
  const batchSize = checkInt('batchSize', o.batchSize ?? 100, 1);
  return {
    train: trainSplit,
    validation,
    epochs: checkInt('epochs', o.epochs, 1),
    batchSize,
    microBatchSize: checkInt('microBatchSize', o.microBatchSize ?? batchSize, 1),
    optimizer,
    learningRate: checkNumber(
      'learningRate',
      o.learningRate ?? DEFAULT_RATE[optimizer],
      0,
      Number.POSITIVE_INFINITY,
      true,
    ),
    momentum,
    weightDecay: checkNumber('weightDecay', o.weightDecay ?? DEFAULT_DECAY[optimizer], 0),
    scheduleKind: checkChoice<ScheduleKind>('schedule.kind', schedule.kind ?? 'cosine', [
      'cosine',
      'constant',
    ]),
    warmupEpochs: checkNumber('schedule.warmupEpochs', schedule.warmupEpochs ?? 5, 0),
    augment: o.augment === undefined ? null : createBatchAugmenter(trainSplit, o.augment),
    classWeights: checkClassWeights(o.classWeights, trainSplit),
    seed: checkNumber('seed', o.seed ?? 0),
    callbacks,
    checkpointDir,
    resume,
    restoreBest: checkBoolean('restoreBest', o.restoreBest ?? true),
    logger: checkChoice<LoggerMode>('logger', o.logger ?? 'auto', ['auto', 'json', 'silent']),
    signal,
    workers: checkInt('workers', o.workers ?? 1, 1, 64),
    engine: checkChoice<TrainingEngine>('engine', o.engine ?? 'auto', TRAINING_ENGINES),
    hooks: {},
  };
}

/** Seed of epoch e's shuffle: a function of (seed, e) only, so a resumed run reshuffles the same. */
function shuffleSeed(seed: number, epoch: number): number {
  return (createRng(seed).nextUint32() ^ Math.imul(epoch, 0x9e3779b1)) >>> 0;
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

async function joinPath(...parts: string[]): Promise<string> {
  const path = await nodeBuiltin('path', {
    caller: 'train with checkpointDir',
    alternative: 'train without checkpointDir',
  });
  return path.join(...parts);
}

/** Mutable state of a run: what a checkpoint saves. */
interface RunState {
  epoch: number;
  step: number;
  augmentRng: Rng;
  history: EpochStats[];
  bestAccuracy: number | null;
  bestEpoch: number | null;
  best: WeightSnapshot | null;
}

function fingerprintOf(r: Resolved): RunFingerprint {
  return {
    optimizer: r.optimizer,
    batchSize: r.batchSize,
    trainExamples: r.train.labels.length,
    labels: [...r.train.labelNames],
    seed: r.seed,
  };
}

function checkFingerprint(saved: RunFingerprint, now: RunFingerprint, dir: string): void {
  for (const key of ['optimizer', 'batchSize', 'trainExamples', 'seed'] as const) {
    if (saved[key] !== now[key]) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `the checkpoint in ${dir} was made with ${key} ${String(saved[key])}; this run has ${String(now[key])}. ` +
          'Resume with the same settings, or use another checkpointDir',
      );
    }
  }
  if (saved.labels.join('\u0000') !== now.labels.join('\u0000')) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the checkpoint in ${dir} was made with labels [${saved.labels.join(', ')}]`,
    );
  }
}

function checkOptimizerState(
  weights: NamedTensor[],
  optimizer: TrainingOptimizer,
  variables: readonly tf.Variable[],
  dir: string,
): void {
  const slots = weights.length - 1;
  // Before the first step an optimizer has no slots; afterwards one (or two) per variable.
  const ok =
    slots === 0 ||
    (slots === optimizer.slotsPerVariable * variables.length &&
      weights.slice(1).every((w, i) => {
        const v = variables[i % variables.length] as tf.Variable;
        return tf.util.arraysEqual(w.tensor.shape, v.shape);
      }));
  if (!ok) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the optimizer state in ${dir} does not fit this model's ${variables.length} trainable variables`,
    );
  }
}

function restoreLayerRngs(layers: LayerRng[], states: Record<string, RngState>, dir: string): void {
  for (const layer of layers) {
    const s = states[layer.name];
    if (s === undefined) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `the checkpoint in ${dir} has no generator state for layer ${layer.name}`,
      );
    }
    layer.setState(s);
  }
}

async function saveLast(
  dir: string,
  model: tfl.LayersModel,
  optimizer: TrainingOptimizer,
  run: RunState,
  layers: LayerRng[],
  fingerprint: RunFingerprint,
): Promise<void> {
  const optimizerWeights = await optimizer.getWeights();
  const state: CheckpointState<EpochStats> = {
    version: 1,
    epoch: run.epoch,
    step: run.step,
    rng: {
      augment: run.augmentRng.getState(),
      layers: Object.fromEntries(layers.map((l) => [l.name, l.getState()])),
    },
    bestAccuracy: run.bestAccuracy,
    bestEpoch: run.bestEpoch,
    history: run.history,
    fingerprint,
  };
  try {
    await writeCheckpoint(await joinPath(dir, LAST_CHECKPOINT), model, optimizerWeights, state);
  } finally {
    tf.dispose(optimizerWeights.map((w) => w.tensor));
  }
}

/**
 * Trains `model` (a classifier returning **logits**) on `options.train`.
 *
 * Each step: a shuffled mini-batch (seeded per epoch), optional augmentation (time shift and
 * noise on the waveform, features recomputed with the kws-kit front end; SpecAugment on the
 * features), softmax cross-entropy on the logits (optionally class-weighted), gradients of every
 * trainable weight, and an update with the step's learning rate (linear warm-up then cosine, per
 * step). Batch norms update their moving statistics; seeded dropout layers draw fresh masks.
 * After each epoch: validation, the epoch's statistics, the best weights kept in memory (and in
 * `checkpointDir/best`), a checkpoint in `checkpointDir/last`, then `onEpochEnd`.
 *
 * The model takes `[batch, frames, bins]` or `[batch, frames, bins, 1]` (see
 * `model.inputs[0].shape`). On the wasm backend, the gradient kernels tfjs lacks there are
 * registered first ({@link registerWasmTrainingKernels}); the backend itself is never changed.
 *
 * Tensors: everything but the model's own variables is freed by the end (the optimizer too).
 *
 * @example
 * ```ts
 * const data = await loadSpeechCommands(dir, { keepAudio: true });
 * const model = bcResNet({ width: 1 });
 * const result = await train(model, {
 *   train: data.splits.train!, validation: data.splits.validation!, epochs: 60,
 *   optimizer: 'sgd', learningRate: 0.1, weightDecay: 1e-3, schedule: { warmupEpochs: 5 },
 *   augment: { timeShiftMs: 100, noise: { clips: data.backgroundNoise } },
 * });
 * ```
 * @param hooks - advanced: a custom loss, extra per-batch tensors computed outside the tape,
 *   another forward pass or extra variables (see {@link TrainHooks}); `distill` uses them.
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad options (epochs < 1, unknown optimizer,
 *   validation labels that differ, waveform augmentation without `split.audio`, …),
 *   `SHAPE_MISMATCH` when the model does not fit the data, `EMPTY_INPUT` for an empty split,
 *   `MODEL_FILE_CORRUPT` for an unreadable checkpoint; with `engine: 'compiled'`
 *   `MODEL_INVALID` for a layer the compiled trainer cannot run and `INVALID_ARGUMENT` for
 *   per-batch hooks; with `workers` > 1 also
 *   `INVALID_ARGUMENT` for per-batch hooks or a backend other than cpu/wasm, `MODEL_INVALID`
 *   when a worker cannot rebuild the model, `UNSUPPORTED_ENVIRONMENT` outside Node.js.
 */
export async function train<E = unknown>(
  model: tfl.LayersModel,
  options: TrainOptions,
  hooks?: TrainHooks<E>,
): Promise<TrainResult> {
  const started = performance.now();
  const r = resolveOptions(options);
  r.hooks = checkHooks(hooks as TrainHooks | undefined);
  if (r.workers > 1) checkParallelHooks(r.hooks);
  const { train: data, batchSize } = r;
  const io: ModelIo = checkModelIo(model, data.frames, data.bins, data.labelNames.length);
  const engine = chooseEngine(model, r.engine, {
    frames: data.frames,
    batchHooks: BATCH_HOOKS.filter((key) => r.hooks[key] !== undefined),
  });
  // tfjs' own gradient fails on a one-step sequence (a GRU after a convolution that leaves a
  // single frame); the replacement is the same function for every other length.
  registerUnpackGradient();
  if (tf.getBackend() === 'wasm') {
    registerWasmTrainingKernels();
    // The stock FusedBatchNorm gradient tiles the scale to full size: ~30% of a wasm step.
    registerBatchNormGradient();
  }

  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) throw new KwsError('INVALID_ARGUMENT', 'model has no trainable weights');
  variables.push(...(r.hooks.extraVariables ?? []));
  const layers = layerRngs(model);
  const n = data.labels.length;
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = r.epochs * stepsPerEpoch;
  const schedule = learningRateSchedule({
    peak: r.learningRate,
    totalSteps,
    warmupSteps: Math.round(r.warmupEpochs * stepsPerEpoch),
    kind: r.scheduleKind,
  });
  const fingerprint = fingerprintOf(r);
  const optimizer = createOptimizer({
    optimizer: r.optimizer,
    learningRate: r.learningRate,
    momentum: r.momentum,
    weightDecay: r.weightDecay,
  });
  const reporter: ProgressReporter = createProgressReporter(r.logger);
  let parallel: DataParallel | null = null;
  try {
    const master = createRng(r.seed);
    const run: RunState = {
      epoch: 0,
      step: 0,
      augmentRng: master.fork(),
      history: [],
      bestAccuracy: null,
      bestEpoch: null,
      best: null,
    };
    for (const layer of layers) layer.setState(master.fork().getState());
    if (r.workers > 1) {
      parallel = await DataParallel.start(model, layers, {
        workers: r.workers,
        seed: r.seed,
        frames: data.frames,
        bins: data.bins,
        io,
        classWeights: r.classWeights,
        microBatchSize: r.microBatchSize,
        engine: engine.kind,
      });
    }
    const computeStep = stepFunction(model, r, variables, io, engine, parallel);
    // The generators a checkpoint holds: the model's, and with workers those of workers 1, 2, ...
    const generators = parallel === null ? layers : [...layers, ...parallel.workerLayerRngs];
    if (r.resume) await resumeRun(model, r, run, optimizer, variables, generators, fingerprint);

    let stopped = false;
    while (run.epoch < r.epochs && !stopped) {
      stopped = await runEpoch(
        model,
        r,
        run,
        optimizer,
        variables,
        computeStep,
        schedule,
        reporter,
        stepsPerEpoch,
        parallel !== null,
      );
      if (stopped) break;
      const stats = run.history[run.history.length - 1] as EpochStats;
      if (r.checkpointDir !== undefined) {
        await saveLast(r.checkpointDir, model, optimizer, run, generators, fingerprint);
      }
      reporter.epoch({ ...stats, epochs: r.epochs });
      if ((await r.callbacks.onEpochEnd?.(stats)) === 'stop') stopped = run.epoch < r.epochs;
    }

    let restoredBest = false;
    if (r.restoreBest && run.best !== null) {
      restoreWeights(model, run.best);
      restoredBest = true;
    }
    return {
      history: run.history,
      epochs: run.epoch,
      steps: run.step,
      bestEpoch: run.bestEpoch,
      bestValidationAccuracy: run.bestAccuracy,
      restoredBest,
      stopped,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    reporter.close();
    optimizer.dispose();
    await parallel?.close();
  }
}

const HOOK_FUNCTIONS = ['prepareBatch', 'disposeBatch', 'forward', 'lossFn', 'aroundValidation'] as const;

/** The hooks that run per batch inside the step, which worker threads cannot call. */
const BATCH_HOOKS = ['prepareBatch', 'disposeBatch', 'forward', 'lossFn', 'extraVariables'] as const;

function checkParallelHooks(hooks: TrainHooks): void {
  const used = BATCH_HOOKS.filter((key) => hooks[key] !== undefined);
  if (used.length > 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `workers > 1 cannot run hooks.${used.join(', hooks.')} (functions cannot cross threads); ` +
        'use workers: 1 with these hooks',
    );
  }
}

function checkHooks(hooks: TrainHooks | undefined): TrainHooks {
  const h = checkOptions('hooks', hooks) as TrainHooks;
  for (const key of HOOK_FUNCTIONS) {
    if (h[key] !== undefined && typeof h[key] !== 'function') {
      throw new KwsError('INVALID_ARGUMENT', `hooks.${key} must be a function`);
    }
  }
  const extra = h.extraVariables;
  if (extra !== undefined && (!Array.isArray(extra) || !extra.every((v) => v instanceof tf.Variable))) {
    throw new KwsError('INVALID_ARGUMENT', 'hooks.extraVariables must be an array of tf.Variable');
  }
  return h;
}

/** The loss of one slice inside the tape: the default cross-entropy or `hooks.lossFn`, scaled. */
function sliceLoss(
  r: Resolved,
  outputs: tf.Tensor[],
  batch: TrainBatchContext,
  extra: unknown,
  denominator: number,
  batchSize: number,
): tf.Scalar {
  const logits = outputs[0] as tf.Tensor;
  const lossFn = r.hooks.lossFn;
  if (lossFn === undefined) return softmaxCrossEntropy(logits, batch.labels, r.classWeights, denominator);
  const loss = lossFn({
    ...batch,
    outputs,
    logits,
    extra,
    classWeights: r.classWeights,
    training: true,
  });
  if (!(loss instanceof tf.Tensor) || loss.size !== 1 || loss.dtype !== 'float32') {
    throw new KwsError('INVALID_ARGUMENT', 'hooks.lossFn must return a float32 scalar tensor');
  }
  const scalar = tf.reshape(loss, []) as tf.Scalar;
  // A whole batch in one slice keeps the hook's value untouched (bit-exact); slices add up.
  return batch.size === batchSize ? scalar : tf.mul(scalar, batch.size / batchSize);
}

async function resumeRun(
  model: tfl.LayersModel,
  r: Resolved,
  run: RunState,
  optimizer: TrainingOptimizer,
  variables: readonly tf.Variable[],
  layers: LayerRng[],
  fingerprint: RunFingerprint,
): Promise<void> {
  const dir = await joinPath(r.checkpointDir as string, LAST_CHECKPOINT);
  const loaded = await readCheckpoint<EpochStats>(dir, model);
  if (loaded === null) return;
  const { state } = loaded;
  try {
    checkFingerprint(state.fingerprint, fingerprint, loaded.dir);
    if (loaded.optimizer === null) {
      throw new KwsError('MODEL_FILE_CORRUPT', `${loaded.dir} has no optimizer state (optimizer.json)`);
    }
    checkOptimizerState(loaded.optimizer, optimizer, variables, loaded.dir);
    await optimizer.setWeights(loaded.optimizer);
  } finally {
    if (loaded.optimizer !== null) tf.dispose(loaded.optimizer.map((w) => w.tensor));
  }
  run.augmentRng.setState(state.rng.augment);
  restoreLayerRngs(layers, state.rng.layers, loaded.dir);
  run.epoch = state.epoch;
  run.step = state.step;
  run.history = state.history;
  run.bestAccuracy = state.bestAccuracy;
  run.bestEpoch = state.bestEpoch;
  if (state.bestEpoch !== null) {
    run.best = await readWeightSnapshot(await joinPath(r.checkpointDir as string, BEST_CHECKPOINT));
  }
}

/** One optimisation step's loss, correct predictions and gradients (by variable name). */
interface StepResult {
  loss: number;
  correct: number;
  /** The caller disposes them. */
  grads: tf.NamedTensorMap;
}

/** Computes one step's {@link StepResult} for a batch; chosen once per run by {@link stepFunction}. */
type StepFunction = (
  xs: Float32Array,
  ys: Int32Array,
  indices: Int32Array,
) => StepResult | Promise<StepResult>;

/**
 * The run's step: the worker threads when there are any (each running `engine`), else the
 * compiled program or the tfjs tape (with the hooks) on this thread.
 */
function stepFunction(
  model: tfl.LayersModel,
  r: Resolved,
  variables: readonly tf.Variable[],
  io: ModelIo,
  engine: ChosenEngine,
  parallel: DataParallel | null,
): StepFunction {
  if (parallel !== null) return (xs, ys) => parallel.step(xs, ys);
  if (engine.kind === 'tfjs') {
    return (xs, ys, indices) => trainStep(model, r, variables, io, xs, ys, indices);
  }
  const gradients = compiledGradients(engine.graph, {
    frames: r.train.frames,
    bins: r.train.bins,
    io,
    classWeights: r.classWeights,
    microBatchSize: r.microBatchSize,
  });
  return (xs, ys) => {
    const result = gradients(xs, ys, lossDenominator(ys, r.classWeights));
    return {
      loss: result.loss,
      correct: result.correct,
      grads: gradientTensors(model.trainableWeights, result.grads),
    };
  };
}

/**
 * Loss, correct predictions and summed gradients of one batch, computed over slices of at most
 * `microBatchSize` examples. The caller disposes the gradients.
 */
function trainStep(
  model: tfl.LayersModel,
  r: Resolved,
  variables: readonly tf.Variable[],
  io: ModelIo,
  xs: Float32Array,
  ys: Int32Array,
  indices: Int32Array,
): { loss: number; correct: number; grads: tf.NamedTensorMap } {
  const { frames, bins } = r.train;
  const size = frames * bins;
  const b = ys.length;
  const denominator = lossDenominator(ys, r.classWeights);
  let grads: tf.NamedTensorMap | null = null;
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < b; start += r.microBatchSize) {
    const end = Math.min(b, start + r.microBatchSize);
    const y = ys.subarray(start, end);
    const features = xs.subarray(start * size, end * size);
    const x = inputTensor(features, end - start, frames, bins, io);
    const slice: TrainBatchContext = {
      features,
      inputs: x,
      indices: indices.subarray(start, end),
      labels: y,
      size: end - start,
    };
    const { hooks } = r;
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    // Outside the tape: nothing prepareBatch computes can receive gradients.
    const extra = hooks.prepareBatch?.(slice);
    try {
      // The outer tidy frees the loss value when variableGrads throws after computing it.
      result = tf.tidy(() =>
        tf.variableGrads(() => {
          const outputs =
            hooks.forward === undefined
              ? [model.apply(x, { training: true }) as tf.Tensor]
              : hooks.forward(x);
          const logits = outputs[0] as tf.Tensor;
          const predicted = tf.argMax(logits, 1).dataSync();
          for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
          return sliceLoss(r, outputs, slice, extra, denominator, b);
        }, variables as tf.Variable[]),
      );
    } catch (e) {
      // tfjs' own message for a loss that no trainable weight influences.
      if (
        !(e instanceof KwsError) &&
        e instanceof Error &&
        /connection between any variable/.test(e.message)
      ) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          'the training loss does not depend on any trainable weight of the model (check hooks.lossFn)',
        );
      }
      throw e;
    } finally {
      x.dispose();
      if (extra !== undefined) hooks.disposeBatch?.(extra);
    }
    loss += result.value.dataSync()[0] as number;
    result.value.dispose();
    if (grads === null) {
      grads = result.grads;
      continue;
    }
    for (const [name, g] of Object.entries(result.grads)) {
      const sum = grads[name];
      grads[name] = sum === undefined ? g : tf.add(sum, g);
      if (sum !== undefined) tf.dispose([sum, g]);
    }
  }
  return { loss, correct, grads: grads ?? {} };
}

/** One epoch. Returns true when a callback or the signal stopped training mid-epoch. */
async function runEpoch(
  model: tfl.LayersModel,
  r: Resolved,
  run: RunState,
  optimizer: TrainingOptimizer,
  variables: readonly tf.Variable[],
  computeStep: StepFunction,
  schedule: (step: number) => number,
  reporter: ProgressReporter,
  stepsPerEpoch: number,
  overlapData: boolean,
): Promise<boolean> {
  const data = r.train;
  const epoch = run.epoch + 1;
  const epochStart = performance.now();
  let dataSeconds = 0;
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let learningRate = schedule(run.step);
  const order = batches(data, { batchSize: r.batchSize, shuffle: true, seed: shuffleSeed(r.seed, epoch) });
  /** The epoch's next batch with its (augmented) features, or null at the end of the epoch. */
  const prepare = (): { batch: Batch; xs: Float32Array } | null => {
    const t0 = performance.now();
    const next = order.next();
    if (next.done) return null;
    const batch = next.value;
    const xs = r.augment === null ? batch.x : r.augment.apply(batch.indices, run.augmentRng);
    dataSeconds += (performance.now() - t0) / 1000;
    return { batch, xs };
  };
  let batchIndex = 0;
  let current = prepare();
  while (current !== null) {
    const { batch, xs } = current;
    const b = batch.y.length;
    learningRate = schedule(run.step);
    optimizer.learningRate = learningRate;
    const pending = computeStep(xs, batch.y, batch.indices);
    // Worker threads have their copies of the batch once the step is posted: prepare the next
    // batch while they compute. The draws are the same, in the same order, as without overlap
    // (nothing between two preparations draws from the augmentation generator), and a batch
    // prepared after a stop request is dropped unused (a mid-epoch stop writes no checkpoint).
    const upcoming = overlapData ? prepare() : undefined;
    const step = await pending;
    try {
      optimizer.applyGradients(variables, step.grads);
    } finally {
      tf.dispose(step.grads);
    }
    const { loss, correct: batchCorrect } = step;

    lossSum += loss * b;
    correct += batchCorrect;
    seen += b;
    run.step += 1;
    const trainSeconds = (performance.now() - epochStart) / 1000;
    reporter.batch({
      epoch,
      epochs: r.epochs,
      batch: batchIndex + 1,
      batches: stepsPerEpoch,
      loss: lossSum / seen,
      accuracy: correct / seen,
      examplesPerSecond: seen / trainSeconds,
    });
    const verdict = await r.callbacks.onBatchEnd?.({
      epoch,
      batch: batchIndex,
      step: run.step - 1,
      size: b,
      loss,
      accuracy: batchCorrect / b,
      learningRate,
    });
    batchIndex += 1;
    if (verdict === 'stop' || r.signal?.aborted === true) return true;
    await nextTick();
    current = upcoming === undefined ? prepare() : upcoming;
  }
  const trainSeconds = (performance.now() - epochStart) / 1000;

  const stats: EpochStats = {
    epoch,
    loss: lossSum / seen,
    accuracy: correct / seen,
    learningRate,
    examplesPerSecond: seen / trainSeconds,
    seconds: 0,
    dataSeconds,
    elapsedSeconds: 0,
  };
  if (r.validation !== undefined) {
    const split = r.validation;
    const validate = () => evaluate(model, split, { batchSize: r.batchSize });
    const v = r.hooks.aroundValidation === undefined ? validate() : r.hooks.aroundValidation(validate);
    stats.validationLoss = v.loss;
    stats.validationAccuracy = v.accuracy;
    if (run.bestAccuracy === null || v.accuracy > run.bestAccuracy) {
      run.bestAccuracy = v.accuracy;
      run.bestEpoch = epoch;
      run.best = snapshotWeights(model);
      if (r.checkpointDir !== undefined) {
        await writeCheckpoint(await joinPath(r.checkpointDir, BEST_CHECKPOINT), model, null, {
          epoch,
          validationAccuracy: v.accuracy,
        });
      }
    }
  }
  const seconds = (performance.now() - epochStart) / 1000;
  const previous = run.history[run.history.length - 1];
  stats.seconds = seconds;
  stats.elapsedSeconds = (previous?.elapsedSeconds ?? 0) + seconds;
  run.history.push(stats);
  run.epoch = epoch;
  return false;
}
