/**
 * `kws-kit train`: a model trained on a Speech Commands folder and saved with its labels and
 * front end. Also the pieces `scripts/train-gsc.ts` shares: {@link buildModel} and the gsc-dev
 * augmentation recipe {@link speechCommandsAugment}.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { type LabelSet, loadSpeechCommands, type SpeechCommandsData, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { bcResNet, type CrnnInit, crnn, kwsMetadata, profile, saveModel } from '../models/index.js';
import {
  type AugmentOptions,
  type EvaluationResult,
  evaluate,
  type OptimizerName,
  type TrainCallbacks,
  type TrainingEngine,
  type TrainResult,
  train,
} from '../train/index.js';
import { type RecipeFeatures, recipeFeatures } from './training-options.js';

/** Model families the commands build. */
export type ModelFamily = 'bc-resnet' | 'crnn';

/** What {@link buildModel} builds. */
export interface ModelSpec {
  family: ModelFamily;
  numClasses: number;
  /** `[frames, mels]` of one example. */
  inputShape: [number, number];
  /** Seed of the initial weights. */
  seed: number;
  /** BC-ResNet width τ. Default 1. */
  width?: number;
  /** BC-ResNet with causal time padding (streamable). Default false. */
  causal?: boolean;
  /** CRNN GRU size. Default the factory's. */
  hiddenSize?: number;
  /** Dropout rate. Default the factory's. */
  dropout?: number;
  /** BC-ResNet SubSpectralNorm sub-bands. Default the factory's (5). */
  subBands?: number;
  /** CRNN convolution channels. Default the factory's. */
  convChannels?: number;
  /** CRNN GRU layers. Default the factory's. */
  gruLayers?: number;
  /** CRNN bidirectional GRUs. Default false. */
  bidirectional?: boolean;
  /** CRNN initial-weight scheme (`crnn`'s `init`). Default the factory's. */
  init?: CrnnInit;
}

/**
 * A fresh `bcResNet` or `crnn` model.
 *
 * @throws KwsError `INVALID_ARGUMENT` for an option the family does not have (`width` or
 *   `causal` for the CRNN, `hiddenSize` for BC-ResNet) or a bad value.
 */
export function buildModel(spec: ModelSpec): tfl.LayersModel {
  const { family, numClasses, inputShape, seed } = spec;
  const dropout = spec.dropout === undefined ? {} : { dropout: spec.dropout };
  if (family === 'crnn') {
    if (spec.width !== undefined || spec.causal === true || spec.subBands !== undefined) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'width, causal and subBands apply to bc-resnet models, not crnn',
      );
    }
    return crnn({
      numClasses,
      inputShape,
      seed,
      ...dropout,
      ...(spec.hiddenSize === undefined ? {} : { hiddenSize: spec.hiddenSize }),
      ...(spec.convChannels === undefined ? {} : { convChannels: spec.convChannels }),
      ...(spec.gruLayers === undefined ? {} : { gruLayers: spec.gruLayers }),
      ...(spec.bidirectional === undefined ? {} : { bidirectional: spec.bidirectional }),
      ...(spec.init === undefined ? {} : { init: spec.init }),
    });
  }
  if (family !== 'bc-resnet') {
    throw new KwsError('INVALID_ARGUMENT', `model must be bc-resnet or crnn; got ${String(family)}`);
  }
  if (
    spec.hiddenSize !== undefined ||
    spec.convChannels !== undefined ||
    spec.gruLayers !== undefined ||
    spec.bidirectional === true ||
    spec.init !== undefined
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'hiddenSize, convChannels, gruLayers, bidirectional and init apply to crnn models, not bc-resnet',
    );
  }
  return bcResNet({
    width: spec.width ?? 1,
    numClasses,
    inputShape,
    seed,
    causal: spec.causal === true,
    ...dropout,
    ...(spec.subBands === undefined ? {} : { subBands: spec.subBands }),
  });
}

/** Waveform augmentation of the gsc-dev recipe (BC-ResNet paper). */
export interface SpeechCommandsAugment {
  /** Largest time shift, ms. Default 100. */
  timeShiftMs?: number;
  /** Probability of mixing background noise into a clip. Default 0.8. */
  noiseProbability?: number;
  /** Largest noise gain (drawn uniformly in [0, maxGain]). Default 0.1. */
  noiseMaxGain?: number;
}

/**
 * The training augmentation of the gsc-dev recipe: ±`timeShiftMs` time shift and, with
 * probability `noiseProbability`, a background-noise excerpt at gain U(0, `noiseMaxGain`).
 * Without noise recordings only the shift is applied.
 */
export function speechCommandsAugment(
  backgroundNoise: Float32Array[],
  options: SpeechCommandsAugment = {},
): AugmentOptions {
  const timeShiftMs = options.timeShiftMs ?? 100;
  if (backgroundNoise.length === 0) return { timeShiftMs };
  return {
    timeShiftMs,
    noise: {
      probability: options.noiseProbability ?? 0.8,
      maxGain: options.noiseMaxGain ?? 0.1,
      clips: backgroundNoise,
    },
  };
}

/** Options of a training run that `train` and `distill` share (their defaults differ; see each). */
export interface TrainingRunOptions {
  epochs?: number;
  batchSize?: number;
  /** Gradient-accumulation slice (bounds memory). Default: the batch size. */
  microBatch?: number;
  optimizer?: OptimizerName;
  /** Peak learning rate. Default train()'s for the optimizer. */
  lr?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  /** Default 0. */
  seed?: number;
  /** Waveform augmentation (time shift, background noise). */
  augment?: boolean;
  checkpointDir?: string;
  resume?: boolean;
  /** Feature cache folder for the data loader. */
  cacheDir?: string;
  /** Clips decoded so far, for a progress display. */
  onLoadProgress?: (done: number, total: number) => void;
  /** Called once the data is loaded, before training: to set up progress output. */
  onStart?: (run: { epochs: number; examples: number; batchSize: number }) => TrainCallbacks | undefined;
}

/**
 * The recipe options beyond the training loop's, named as the tuner's recipe keys: the front end
 * (recorded in the saved model's metadata, so `eval` and `detect` compute the same features),
 * SpecAugment masks and model sizes.
 */
export interface RecipeCommandOptions {
  /** Front end (see `FrontEndOptions`); defaults `DEFAULT_FRONT_END`'s. */
  nMels?: number;
  nFft?: number;
  winLength?: number;
  hopLength?: number;
  fMin?: number;
  fMax?: number;
  eps?: number;
  /** SpecAugment masks on training batches (none by default). */
  freqMasks?: number;
  freqMaskWidth?: number;
  timeMasks?: number;
  timeMaskWidth?: number;
  /** BC-ResNet sub-bands; CRNN convolution channels, GRU layers, bidirectional GRUs. */
  subBands?: number;
  convChannels?: number;
  gruLayers?: number;
  bidirectional?: boolean;
}

/** Options of {@link runTrain}; the names are those of the command's flags and recipe files.
 * Run settings; defaults: 30 epochs, batch 100, `'sgd'` for BC-ResNet and `'adam'` for the CRNN, 5 warm-up epochs (at most the epoch count), augmentation on.
 */
export interface TrainCommandOptions extends SpeechCommandsAugment, RecipeCommandOptions, TrainingRunOptions {
  /** Speech Commands folder. */
  data: string;
  /** Folder to save the trained model to. */
  out: string;
  /** Default `'bc-resnet'`. */
  model?: ModelFamily;
  width?: number;
  causal?: boolean;
  hiddenSize?: number;
  dropout?: number;
  /** Gradient worker threads (train()'s `workers`). Default 1. */
  workers?: number;
  /** Gradient engine (train()'s `engine`). Default `'auto'`. */
  engine?: TrainingEngine;
  /** Label set: `'v2-12'` (default), `'v2-35'` or a list. */
  labels?: LabelSet;
}

/** What {@link runTrain} returns (and `kws-kit train --json` prints). */
export interface TrainCommandResult {
  /** Absolute folder of the saved model. */
  out: string;
  labels: string[];
  examples: { train: number; validation: number };
  params: number;
  macs: number;
  bestEpoch: number | null;
  bestValidationAccuracy: number | null;
  /** Validation accuracy of the saved weights (null without validation clips). */
  validationAccuracy: number | null;
  epochs: number;
  seconds: number;
  /** Options after defaults, as stored in the model's metadata. */
  recipe: Record<string, unknown>;
  warnings: string[];
}

/**
 * Loads the training and validation splits of `options.data`, trains a new model and saves it.
 *
 * @throws KwsError `NOT_FOUND` / `DATASET_INVALID` for a missing folder or one in the wrong layout
 *   (no training clips), `INVALID_ARGUMENT` for bad options.
 */
export async function runTrain(options: TrainCommandOptions): Promise<TrainCommandResult> {
  const family = options.model ?? 'bc-resnet';
  const augmentOn = options.augment ?? true;
  const features = recipeFeatures(options as unknown as Record<string, unknown>);
  const { frontEnd } = features;
  const data = await loadSpeechCommands(options.data, {
    labels: options.labels ?? 'v2-12',
    features: frontEnd,
    sampleRate: frontEnd.sampleRate,
    splits: ['train', 'validation'],
    keepAudio: augmentOn,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.onLoadProgress === undefined ? {} : { onProgress: options.onLoadProgress }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  const trainSplit = requireTrainSplit(data, options.data);
  const validation = nonEmpty(data.splits.validation);
  const epochs = options.epochs ?? 30;
  const batchSize = options.batchSize ?? 100;
  const seed = options.seed ?? 0;
  const optimizer = options.optimizer ?? (family === 'crnn' ? 'adam' : 'sgd');
  const model = buildModel({
    family,
    numClasses: data.labels.length,
    inputShape: [trainSplit.frames, trainSplit.bins],
    seed,
    ...(options.width === undefined ? {} : { width: options.width }),
    ...(options.causal === undefined ? {} : { causal: options.causal }),
    ...(options.hiddenSize === undefined ? {} : { hiddenSize: options.hiddenSize }),
    ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
    ...modelSizes(options),
  });
  try {
    const augment = trainingAugment(data.backgroundNoise, options, augmentOn, features);
    const callbacks = options.onStart?.({ epochs, examples: trainSplit.labels.length, batchSize });
    const result: TrainResult = await train(model, {
      train: trainSplit,
      ...(validation === undefined ? {} : { validation }),
      epochs,
      batchSize,
      ...(options.microBatch === undefined ? {} : { microBatchSize: options.microBatch }),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.engine === undefined ? {} : { engine: options.engine }),
      optimizer,
      ...(options.lr === undefined ? {} : { learningRate: options.lr }),
      ...(options.weightDecay === undefined ? {} : { weightDecay: options.weightDecay }),
      schedule: { warmupEpochs: Math.min(options.warmupEpochs ?? 5, epochs) },
      ...(augment === undefined ? {} : { augment }),
      seed,
      ...(options.checkpointDir === undefined ? {} : { checkpointDir: options.checkpointDir }),
      resume: options.resume === true,
      ...(callbacks === undefined ? {} : { callbacks }),
      logger: 'silent',
    });
    const final: EvaluationResult | null =
      validation === undefined ? null : evaluate(model, validation, { batchSize });
    const cost = profile(model).total;
    const recipe: Record<string, unknown> = {
      model: family,
      ...(family === 'bc-resnet' ? { width: options.width ?? 1, causal: options.causal === true } : {}),
      ...(options.hiddenSize === undefined ? {} : { hiddenSize: options.hiddenSize }),
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
      ...modelSizes(options),
      ...(features.customFrontEnd ? { frontEnd } : {}),
      ...(features.specAugment === undefined ? {} : { specAugment: features.specAugment }),
      epochs,
      batchSize,
      optimizer,
      ...(options.lr === undefined ? {} : { lr: options.lr }),
      ...(options.weightDecay === undefined ? {} : { weightDecay: options.weightDecay }),
      warmupEpochs: Math.min(options.warmupEpochs ?? 5, epochs),
      seed,
      augment: augmentOn,
      ...(augmentOn
        ? {
            timeShiftMs: options.timeShiftMs ?? 100,
            noiseProbability: options.noiseProbability ?? 0.8,
            noiseMaxGain: options.noiseMaxGain ?? 0.1,
          }
        : {}),
    };
    const info = {
      recipe,
      data: { train: trainSplit.labels.length, validation: validation?.labels.length ?? 0 },
      validationAccuracy: final?.accuracy ?? null,
      params: cost.params,
      macs: cost.macs,
    };
    const saved = await saveModel(model, options.out, {
      metadata: kwsMetadata(data.labels, frontEnd, info),
    });
    return {
      out: saved.dir,
      labels: data.labels,
      examples: info.data,
      params: cost.params,
      macs: cost.macs,
      bestEpoch: result.bestEpoch,
      bestValidationAccuracy: result.bestValidationAccuracy,
      validationAccuracy: info.validationAccuracy,
      epochs: result.epochs,
      seconds: result.seconds,
      recipe: info.recipe,
      warnings: data.warnings,
    };
  } finally {
    model.dispose();
  }
}

/** The model-size recipe options that are set (sub-bands, conv channels, GRU layers, bidirectional). */
export function modelSizes(
  o: RecipeCommandOptions,
): Pick<ModelSpec, 'subBands' | 'convChannels' | 'gruLayers' | 'bidirectional'> {
  return {
    ...(o.subBands === undefined ? {} : { subBands: o.subBands }),
    ...(o.convChannels === undefined ? {} : { convChannels: o.convChannels }),
    ...(o.gruLayers === undefined ? {} : { gruLayers: o.gruLayers }),
    ...(o.bidirectional === true ? { bidirectional: true } : {}),
  };
}

/**
 * The batch augmentation of a training command: the gsc-dev waveform augmentation when on
 * (features recomputed with the recipe's front end), and SpecAugment masks when the recipe has
 * them (on or off).
 */
export function trainingAugment(
  backgroundNoise: Float32Array[],
  options: SpeechCommandsAugment,
  waveform: boolean,
  features: RecipeFeatures,
): AugmentOptions | undefined {
  const masks = features.specAugment === undefined ? {} : { specAugment: features.specAugment };
  if (!waveform) return features.specAugment === undefined ? undefined : masks;
  return { ...speechCommandsAugment(backgroundNoise, options), frontEnd: features.frontEnd, ...masks };
}

/** The training split, or `DATASET_INVALID` naming the folder when it has no clips. */
export function requireTrainSplit(data: SpeechCommandsData, dir: string): Split {
  const split = nonEmpty(data.splits.train);
  if (split === undefined) {
    throw new KwsError(
      'DATASET_INVALID',
      `no training clips in ${dir}: expected one folder of WAV files per word (yes/, no/, …) with the labels ${data.labels.join(', ')}`,
    );
  }
  return split;
}

/** The split when it holds at least one example. */
export function nonEmpty(split: Split | undefined): Split | undefined {
  return split !== undefined && split.labels.length > 0 ? split : undefined;
}
