/**
 * The default trial runner of {@link tune}: build the configuration's model, train it with
 * kws-kit's `train()` on the given splits and return the best validation accuracy, with the
 * model's cost. A configuration with another front end gets features recomputed from each
 * clip's audio (kept per front end in a small cache). With a teacher and a configuration that
 * sets `temperature` or `alpha`, the loss is the mixed distillation loss (`mixedKdLoss`).
 *
 * The training and distillation areas are imported when the objective first runs, not when
 * this module loads: they import the models area themselves.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Split } from '../../data/index.js';
import { KwsError } from '../../errors.js';
import {
  type FrontEndConfig,
  type FrontEndOptions,
  logMelSpectrogram,
  resolveFrontEnd,
} from '../../features/index.js';
import type { AugmentOptions, LoggerMode, TrainHooks, TrainOptions } from '../../train/index.js';
import { checkInt, checkOptions } from '../../validate.js';
import type { ObjectiveResult, TrialBudget, TuneContext, TuneObjective } from '../tune.js';
import type { TrialConfig } from './search-space.js';
import { buildTrialModel, modelCost, type ResolvedTrial, resolveTrialConfig } from './trial-config.js';

/** A frozen teacher for distillation trials. */
export interface TuneTeacher {
  /** The trained teacher (logits out). */
  model: tfl.LayersModel;
  /**
   * The training clips as the teacher's input: the same examples in the same order as the
   * objective's `train`, with the teacher's own front end. Default: `train` itself.
   */
  features?: Split;
}

/** Options of {@link trainingObjective}. */
export interface TrainingObjectiveOptions {
  /** Training examples; `audio` is needed to search the front end or augment the waveform. */
  train: Split;
  /** Validation examples: the objective is their best accuracy over the epochs. */
  validation: Split;
  /** The front end the splits' features were computed with. Default: the kws-kit default. */
  frontEnd?: FrontEndOptions;
  /** Noise recordings for `noiseProbability` / `noiseMaxGain` (e.g. `data.backgroundNoise`). */
  backgroundNoise?: Float32Array[];
  /**
   * Teacher for configurations that set `temperature` or `alpha`. Its logits are computed once
   * per training clip (on the clean clip) and reused by every such trial, whatever their front
   * end: with waveform augmentation the student learns the teacher's view of the clean clip.
   */
  teacher?: TuneTeacher;
  /** `train()`'s `microBatchSize` (bounds memory). Default: the batch size. */
  microBatchSize?: number;
  /** `train()`'s progress output inside each trial. Default `'silent'` (the search reports). */
  trainLogger?: LoggerMode;
  /** Front ends whose recomputed features are kept in memory. Default 2. */
  featureCacheSize?: number;
}

/** Counters of a {@link TrainingObjective}. */
export interface TrainingObjectiveStats {
  /** Front ends whose features were recomputed from audio. */
  featureComputations: number;
  /** Trials whose features came from the splits or the cache. */
  featureReuses: number;
}

/** The default objective, with counters. */
export interface TrainingObjective extends TuneObjective {
  readonly stats: TrainingObjectiveStats;
}

interface FeatureSet {
  train: Split;
  validation: Split;
}

function frontEndKey(config: FrontEndConfig): string {
  const keys = Object.keys(config).sort();
  return JSON.stringify(keys.map((k) => [k, (config as unknown as Record<string, unknown>)[k] ?? null]));
}

/** `split` with its features recomputed from `split.audio` under `frontEnd`. */
function recompute(split: Split, frontEnd: FrontEndConfig, name: string): Split {
  const audio = split.audio;
  if (!Array.isArray(audio) || audio.length !== split.labels.length) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `searching the front end needs each clip's audio in ${name}.audio; load the data with keepAudio: true`,
    );
  }
  let features = new Float32Array(0);
  let frames = 0;
  let bins = 0;
  audio.forEach((clip, i) => {
    const spec = logMelSpectrogram(clip, frontEnd);
    if (i === 0) {
      frames = spec.frames;
      bins = spec.bins;
      features = new Float32Array(audio.length * frames * bins);
    } else if (spec.frames !== frames) {
      throw new KwsError('SHAPE_MISMATCH', `${name}.audio[${i}] has another length than ${name}.audio[0]`);
    }
    features.set(spec.data, i * frames * bins);
  });
  return { ...split, features, frames, bins };
}

/** Logits `[n, classes]` of `model` in inference mode, computed in chunks. */
function predictLogits(model: tfl.LayersModel, split: Split): { logits: Float32Array; classes: number } {
  const n = split.labels.length;
  const size = split.frames * split.bins;
  const rank4 = (model.inputs[0]?.shape.length ?? 3) === 4;
  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1];
  if (typeof classes !== 'number')
    throw new KwsError('INVALID_ARGUMENT', 'teacher output must be [batch, classes]');
  const logits = new Float32Array(n * classes);
  const chunk = 100;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const values = tf.tidy(() => {
      const x = tf.tensor(
        split.features.subarray(start * size, end * size),
        rank4 ? [end - start, split.frames, split.bins, 1] : [end - start, split.frames, split.bins],
      );
      return (model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array;
    });
    logits.set(values, start * classes);
  }
  return { logits, classes };
}

function gatherRows(source: Float32Array, width: number, indices: Int32Array): tf.Tensor2D {
  const rows = new Float32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const at = (indices[i] as number) * width;
    rows.set(source.subarray(at, at + width), i * width);
  }
  return tf.tensor2d(rows, [indices.length, width]);
}

function augmentFor(trial: ResolvedTrial, noise: Float32Array[] | undefined): AugmentOptions | undefined {
  const r = trial.recipe;
  const augment: AugmentOptions = { frontEnd: trial.frontEnd };
  let any = false;
  if (r.timeShiftMs !== undefined && r.timeShiftMs > 0) {
    augment.timeShiftMs = r.timeShiftMs;
    any = true;
  }
  if (r.noiseProbability !== undefined || r.noiseMaxGain !== undefined) {
    if (noise === undefined || noise.length === 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'noiseProbability / noiseMaxGain need backgroundNoise clips in the objective options',
      );
    }
    augment.noise = {
      clips: noise,
      ...(r.noiseProbability === undefined ? {} : { probability: r.noiseProbability }),
      ...(r.noiseMaxGain === undefined ? {} : { maxGain: r.noiseMaxGain }),
    };
    any = true;
  }
  if (trial.specAugment !== null) {
    augment.specAugment = trial.specAugment;
    any = true;
  }
  return any ? augment : undefined;
}

/**
 * The default objective of {@link tune}. For each call: resolve the configuration, get its
 * features (the splits' own when the front end is theirs, else recomputed from audio, cached),
 * build the model with seed `ctx.seed`, and train it for `budget.epochs` with `train()`
 * (continuing from `ctx.checkpointDir` when a checkpoint is there: a promoted or interrupted
 * trial resumes). Returns `{ accuracy: best validation accuracy, params, macs, bytes,
 * bestEpoch, loss (last epoch's training loss), epochsTrained (in total), epochsRun (by this
 * call; fewer than epochsTrained after a resume), trainSeconds }`.
 *
 * Recipe defaults: `train()`'s (sgd, its learning rate and weight decay, batch 100) except the
 * warm-up, `warmupEpochs` or 10 % of the epochs; no augmentation unless the configuration sets
 * `timeShiftMs`, `noiseProbability` / `noiseMaxGain` or SpecAugment masks (mask value: the
 * spectrogram's mean, since log-mel features are not normalised).
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for splits without audio when the front end
 *   changes, a distillation option without a teacher, and whatever `train()` rejects.
 */
export function trainingObjective(options: TrainingObjectiveOptions): TrainingObjective {
  const o = checkOptions('data', options);
  if (o.train === undefined || o.validation === undefined) {
    throw new KwsError('INVALID_ARGUMENT', 'data needs train and validation splits');
  }
  const data = { train: o.train, validation: o.validation };
  const baseFrontEnd = resolveFrontEnd(o.frontEnd);
  const baseKey = frontEndKey(baseFrontEnd);
  const cacheSize = checkInt('featureCacheSize', o.featureCacheSize ?? 2, 0);
  const cache = new Map<string, FeatureSet>();
  const stats: TrainingObjectiveStats = { featureComputations: 0, featureReuses: 0 };
  let teacherLogits: { logits: Float32Array; classes: number } | null = null;

  const featuresFor = (frontEnd: FrontEndConfig): FeatureSet => {
    const key = frontEndKey(frontEnd);
    if (key === baseKey) {
      stats.featureReuses += 1;
      return data;
    }
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key); // most recently used goes last
      cache.set(key, hit);
      stats.featureReuses += 1;
      return hit;
    }
    const set = {
      train: recompute(data.train, frontEnd, 'train'),
      validation: recompute(data.validation, frontEnd, 'validation'),
    };
    stats.featureComputations += 1;
    if (cacheSize > 0) {
      cache.set(key, set);
      while (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    }
    return set;
  };

  const objective = async (
    config: TrialConfig,
    budget: TrialBudget,
    ctx: TuneContext,
  ): Promise<ObjectiveResult> => {
    const [{ train }, { mixedKdLoss }] = await Promise.all([
      import('../../train/index.js'),
      import('../../distill/index.js'),
    ]);
    const resolved = resolveTrialConfig(config);
    const trial: ResolvedTrial = {
      ...resolved,
      frontEnd: resolveFrontEnd({ ...baseFrontEnd, ...resolved.frontEndOverrides }),
    };
    const r = trial.recipe;
    const distilling = r.temperature !== undefined || r.alpha !== undefined;
    if (distilling && o.teacher === undefined) {
      throw new KwsError('INVALID_ARGUMENT', 'temperature / alpha need a teacher in the objective options');
    }
    const augment = augmentFor(trial, o.backgroundNoise);
    const set = featuresFor(trial.frontEnd);
    const model = buildTrialModel(
      trial,
      [set.train.frames, set.train.bins],
      set.train.labelNames.length,
      ctx.seed,
    );
    try {
      const cost = modelCost(model);
      let hooks: TrainHooks<tf.Tensor2D> | undefined;
      if (distilling) {
        const teacher = o.teacher as TuneTeacher;
        if (teacherLogits === null)
          teacherLogits = predictLogits(teacher.model, teacher.features ?? data.train);
        const t = teacherLogits;
        if (t.logits.length !== set.train.labels.length * t.classes) {
          throw new KwsError(
            'SHAPE_MISMATCH',
            'teacher.features must hold the same clips as train, in order',
          );
        }
        const loss = { temperature: r.temperature ?? 4, alpha: r.alpha ?? 0.5 };
        hooks = {
          prepareBatch: (batch) => gatherRows(t.logits, t.classes, batch.indices),
          disposeBatch: (logits) => logits.dispose(),
          lossFn: (c) => mixedKdLoss(c.logits, c.extra as tf.Tensor2D, c.labels, loss),
        };
      }
      const epochs = budget.epochs;
      let epochsRun = 0;
      const trainOptions: TrainOptions = {
        train: set.train,
        validation: set.validation,
        epochs,
        ...(r.optimizer === undefined ? {} : { optimizer: r.optimizer }),
        ...(r.learningRate === undefined ? {} : { learningRate: r.learningRate }),
        ...(r.weightDecay === undefined ? {} : { weightDecay: r.weightDecay }),
        ...(r.batchSize === undefined ? {} : { batchSize: r.batchSize }),
        ...(o.microBatchSize === undefined ? {} : { microBatchSize: o.microBatchSize }),
        schedule: { warmupEpochs: r.warmupEpochs ?? 0.1 * epochs },
        ...(augment === undefined ? {} : { augment }),
        seed: ctx.seed,
        ...(ctx.checkpointDir === undefined ? {} : { checkpointDir: ctx.checkpointDir, resume: true }),
        logger: o.trainLogger ?? 'silent',
        callbacks: {
          onEpochEnd: () => {
            epochsRun += 1;
          },
        },
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      };
      const result = await train(model, trainOptions, hooks);
      const last = result.history[result.history.length - 1];
      return {
        accuracy: result.bestValidationAccuracy ?? 0,
        ...cost,
        bestEpoch: result.bestEpoch,
        loss: last?.loss ?? null,
        epochsTrained: result.epochs,
        epochsRun,
        trainSeconds: result.seconds,
      };
    } finally {
      model.dispose();
    }
  };
  return Object.assign(objective, { stats });
}
