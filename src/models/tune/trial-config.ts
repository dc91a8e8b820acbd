/**
 * From a flat tuning configuration (`{ nMels: 40, width: 0.75, learningRate: 0.05, … }`) to what
 * kws-kit's functions take: front-end options, a model built by `bcResNet` / `crnn`, SpecAugment
 * options and the training recipe; and the model's cost (parameters, MACs, weight bytes) from
 * {@link profile}, which the search's constraints use before anything trains.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import {
  DEFAULT_FRONT_END,
  type FrontEndConfig,
  type FrontEndOptions,
  frameCount,
  resolveFrontEnd,
  type SpecAugmentOptions,
} from '../../features/index.js';
import { type BcResNetOptions, bcResNet, resolveBcResNetOptions } from '../bc-resnet.js';
import { type CrnnOptions, crnn, resolveCrnnConfig } from '../crnn.js';
import { profile } from '../profile.js';
import {
  FRONT_END_OPTION_NAMES,
  MODEL_OPTION_NAMES,
  type ParamValue,
  RECIPE_OPTION_NAMES,
  SPEC_AUGMENT_OPTION_NAMES,
  type TrialConfig,
} from './search-space.js';

/** Model families the tuner builds. */
export type TunedModelFamily = 'bc-resnet' | 'crnn';

/** The training part of a configuration, with `train()`'s option names. */
export interface TrialRecipe {
  optimizer?: 'sgd' | 'adam' | 'adamw';
  learningRate?: number;
  weightDecay?: number;
  batchSize?: number;
  epochs?: number;
  warmupEpochs?: number;
  timeShiftMs?: number;
  noiseProbability?: number;
  noiseMaxGain?: number;
  temperature?: number;
  alpha?: number;
}

/** A configuration split into the pieces kws-kit's functions take. */
export interface ResolvedTrial {
  family: TunedModelFamily;
  /** The complete front end (defaults filled in). */
  frontEnd: FrontEndConfig;
  /** Front-end options that differ from {@link DEFAULT_FRONT_END} (what a recipe stores). */
  frontEndOverrides: FrontEndOptions;
  /** Options of the model factory, without `inputShape`, `numClasses` and `seed`. */
  model: Record<string, ParamValue>;
  /** SpecAugment masks for training batches, or null when the configuration sets none. */
  specAugment: SpecAugmentOptions | null;
  recipe: TrialRecipe;
}

/** Cost of a configuration's model for one example, from {@link profile}. */
export interface TrialCost {
  /** All weights (trainable and batch-norm statistics). */
  params: number;
  /** Multiply-accumulates of one forward pass (profile's `total.macs`). */
  macs: number;
  /** Bytes of the weights as stored (float32: 4 per parameter). */
  bytes: number;
}

/** Shape of the data a model is built for. */
export interface TrialInput {
  numClasses: number;
  /** Samples per clip; frames follow from the front end's hop. */
  clipSamples: number;
}

const BC_RESNET_ONLY = ['width', 'subBands', 'causal'];
const CRNN_ONLY = ['convChannels', 'hiddenSize', 'gruLayers', 'bidirectional'];

function pick(config: TrialConfig, names: readonly string[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const n of names) if (config[n] !== undefined) out[n] = config[n] as ParamValue;
  return out;
}

/**
 * Splits a configuration into front end, model options, SpecAugment and recipe. `nFft` follows
 * `winLength` when only the window is set (nFft = max(480, winLength)), so a longer window never
 * makes an invalid FFT.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an unknown model family, options of the other
 *   family, or front-end values `resolveFrontEnd` rejects (e.g. fMax above Nyquist).
 */
export function resolveTrialConfig(config: Readonly<TrialConfig>): ResolvedTrial {
  const family = (config.model ?? 'bc-resnet') as TunedModelFamily;
  if (family !== 'bc-resnet' && family !== 'crnn') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `model must be 'bc-resnet' or 'crnn'; got ${String(config.model)}`,
    );
  }
  const foreign = family === 'crnn' ? BC_RESNET_ONLY : CRNN_ONLY;
  for (const name of foreign) {
    if (config[name] !== undefined) {
      throw new KwsError('INVALID_ARGUMENT', `option ${name} does not apply to model '${family}'`);
    }
  }
  const frontEndOverrides = pick(config, FRONT_END_OPTION_NAMES) as FrontEndOptions;
  if (frontEndOverrides.winLength !== undefined && frontEndOverrides.nFft === undefined) {
    frontEndOverrides.nFft = Math.max(DEFAULT_FRONT_END.nFft, frontEndOverrides.winLength);
  }
  const frontEnd = resolveFrontEnd(frontEndOverrides);
  const model = pick(
    config,
    MODEL_OPTION_NAMES.filter((n) => n !== 'model'),
  );
  const masks = pick(config, SPEC_AUGMENT_OPTION_NAMES);
  const specAugment =
    Object.keys(masks).length === 0
      ? null
      : ({ freqMasks: 0, timeMasks: 0, ...masks, maskValue: 'mean' } as SpecAugmentOptions);
  return {
    family,
    frontEnd,
    frontEndOverrides,
    model,
    specAugment,
    recipe: pick(config, RECIPE_OPTION_NAMES) as TrialRecipe,
  };
}

/** Frames and bins of one clip's features under `frontEnd`. */
export function trialFeatureShape(frontEnd: FrontEndConfig, clipSamples: number): [number, number] {
  return [frameCount(clipSamples, frontEnd.nFft, frontEnd.hopLength, frontEnd.center), frontEnd.nMels];
}

/**
 * BC-ResNet options for `bins` input bins: the configuration's `subBands` if given, otherwise
 * the largest of 5 (the paper's), 4, 3, 2, 1 that divides every stage's frequency size, so that
 * front ends other than 40 mels still build.
 */
function bcResNetOptions(
  trial: ResolvedTrial,
  input: [number, number],
  numClasses: number,
  seed: number,
): BcResNetOptions {
  const options = {
    ...(trial.model as BcResNetOptions),
    numClasses,
    inputShape: input,
    seed,
  } satisfies BcResNetOptions;
  if (trial.model.subBands !== undefined) return options;
  for (const subBands of [5, 4, 3, 2, 1]) {
    try {
      resolveBcResNetOptions({ ...options, subBands });
      return { ...options, subBands };
    } catch {
      // try the next sub-band count
    }
  }
  return options; // let bcResNet report why no sub-band count fits
}

/**
 * The model factory options of a configuration as a recipe stores them (no `numClasses`,
 * `inputShape`, `seed`); for BC-ResNet with `subBands` resolved for the front end's mel bands.
 */
export function modelFactoryOptions(trial: ResolvedTrial): Record<string, ParamValue> {
  if (trial.family === 'crnn') return { ...trial.model };
  const { subBands } = bcResNetOptions(trial, [101, trial.frontEnd.nMels], 12, 0);
  return { ...trial.model, ...(subBands === undefined ? {} : { subBands }) };
}

/**
 * Builds the configuration's model for features `[frames, bins]` and `numClasses` classes.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` when the factory rejects the options.
 */
export function buildTrialModel(
  trial: ResolvedTrial,
  input: [number, number],
  numClasses: number,
  seed = 0,
): tfl.LayersModel {
  if (trial.family === 'crnn') {
    const options = { ...(trial.model as CrnnOptions), numClasses, inputShape: input, seed };
    resolveCrnnConfig(options);
    return crnn(options);
  }
  return bcResNet(bcResNetOptions(trial, input, numClasses, seed));
}

/** Parameters, MACs and weight bytes of a built model, from {@link profile}. */
export function modelCost(model: tfl.LayersModel): TrialCost {
  const { total } = profile(model);
  const bytes = Object.values(total.weightBytes).reduce((a, b) => a + b, 0);
  return { params: total.params, macs: total.macs, bytes };
}

/**
 * Builds a configuration's model, profiles it and frees it: the numbers the constraints
 * `maxParams` / `maxMacs` / `maxBytes` are checked against.
 *
 * @throws {@link KwsError} as {@link resolveTrialConfig} and {@link buildTrialModel}.
 */
export function measureTrial(config: Readonly<TrialConfig>, input: TrialInput): TrialCost {
  const trial = resolveTrialConfig(config);
  const shape = trialFeatureShape(trial.frontEnd, input.clipSamples);
  const model = buildTrialModel(trial, shape, input.numClasses);
  try {
    return modelCost(model);
  } finally {
    model.dispose();
  }
}
