/**
 * Options and progress wiring shared by the commands that run the training loop (`train`,
 * `distill`).
 *
 * @packageDocumentation
 */
import { type Command, Option } from 'commander';
import type { FrontEndConfig, SpecAugmentOptions } from '../features/index.js';
import {
  FRONT_END_OPTION_NAMES,
  resolveTrialConfig,
  SPEC_AUGMENT_OPTION_NAMES,
  type TrialConfig,
} from '../models/index.js';
import type { TrainCallbacks } from '../train/index.js';
import type { CliIo } from './cli-io.js';
import { UsageError } from './exit-codes.js';
import {
  backendOption,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  unitInterval,
} from './options.js';
import { countProgress, trainingProgress } from './progress-output.js';

/** Adds the training-loop options (epochs, batch, optimizer, schedule, seed, checkpoints, output). */
export function addTrainingOptions(command: Command, defaults: { warmupEpochs: number }): Command {
  return command
    .option('-e, --epochs <n>', 'epochs', positiveInt, 30)
    .option('-b, --batch-size <n>', 'examples per step', positiveInt, 100)
    .option('--micro-batch <n>', 'examples per forward/backward slice (bounds memory)', positiveInt)
    .addOption(
      new Option('--optimizer <name>', 'update rule (default sgd; adam for crnn)').choices([
        'sgd',
        'adam',
        'adamw',
      ]),
    )
    .option('--lr <rate>', 'peak learning rate (default 0.1 sgd, 3e-3 adam/adamw)', positiveNumber)
    .option(
      '--weight-decay <lambda>',
      'weight decay (default 1e-3 sgd, 1e-4 adam, 1e-2 adamw)',
      nonNegativeNumber,
    )
    .option(
      '--warmup-epochs <n>',
      `linear warm-up epochs before the cosine decay (default ${defaults.warmupEpochs})`,
      nonNegativeNumber,
    )
    .option('--seed <n>', 'seed of the weights, shuffles and augmentation', nonNegativeInt, 0)
    .option(
      '--time-shift-ms <ms>',
      'largest random time shift when augmenting (default 100)',
      nonNegativeNumber,
    )
    .option(
      '--noise-probability <p>',
      'probability of mixing in background noise (default 0.8)',
      unitInterval,
    )
    .option('--noise-max-gain <g>', 'largest background-noise gain (default 0.1)', nonNegativeNumber)
    .option('--checkpoint-dir <dir>', 'write checkpoints here (last/ every epoch, best/)')
    .option('--resume', 'continue from --checkpoint-dir/last if it exists')
    .option('--cache-dir <dir>', 'cache computed features here (faster second runs)')
    .option('-q, --quiet', 'no progress output')
    .addOption(backendOption());
}

/**
 * Adds the options a tuned recipe holds besides the training loop's: the front end (`--n-mels`,
 * `--n-fft`, `--win-length`, `--hop-length`, `--f-min`, `--f-max`, `--eps`), SpecAugment masks
 * (`--freq-masks`, `--freq-mask-width`, `--time-masks`, `--time-mask-width`) and the model's
 * sizes (`--sub-bands` of BC-ResNet; `--conv-channels`, `--gru-layers`, `--bidirectional` of the
 * CRNN). Their attribute names are the recipe keys (`nMels`, …, `RECIPE_OPTION_KEYS`).
 *
 * @param prefix Put before the model options' help (e.g. `'student '`).
 */
export function addRecipeOptions(command: Command, prefix: string): Command {
  return command
    .option('--n-mels <n>', 'mel bands of the front end (default 40)', positiveInt)
    .option('--n-fft <n>', 'FFT size in samples (default 480)', positiveInt)
    .option('--win-length <n>', 'analysis window in samples (default: n-fft)', positiveInt)
    .option('--hop-length <n>', 'hop between frames in samples (default 160)', positiveInt)
    .option('--f-min <hz>', 'lowest mel band edge in Hz (default 0)', nonNegativeNumber)
    .option('--f-max <hz>', 'highest mel band edge in Hz (default sampleRate/2)', positiveNumber)
    .option('--eps <x>', 'log offset: features are ln(mel + eps) (default 1e-6)', positiveNumber)
    .option('--freq-masks <n>', 'SpecAugment frequency masks per example (default 0)', nonNegativeInt)
    .option('--freq-mask-width <n>', 'largest frequency mask, in mel bands', nonNegativeInt)
    .option('--time-masks <n>', 'SpecAugment time masks per example (default 0)', nonNegativeInt)
    .option('--time-mask-width <n>', 'largest time mask, in frames', nonNegativeInt)
    .option('--sub-bands <n>', `${prefix}BC-ResNet SubSpectralNorm sub-bands (default 5)`, positiveInt)
    .option('--conv-channels <n>', `${prefix}CRNN convolution channels (default 8)`, positiveInt)
    .option('--gru-layers <n>', `${prefix}CRNN GRU layers (default 2)`, positiveInt)
    .option('--bidirectional', `${prefix}CRNN with bidirectional GRUs`);
}

/** The front end and SpecAugment masks that the recipe options name. */
export interface RecipeFeatures {
  /** The front end (defaults filled in, `nFft` raised to `winLength` as the tuner does). */
  frontEnd: FrontEndConfig;
  /** True when any front-end option was given. */
  customFrontEnd: boolean;
  /** SpecAugment masks, or undefined when none was given. */
  specAugment: SpecAugmentOptions | undefined;
}

/**
 * Resolves the front-end and SpecAugment options exactly as the tuner resolves a trial's (one
 * definition: `resolveTrialConfig`), so a recipe trains on the features it was tuned on.
 *
 * @throws KwsError `INVALID_ARGUMENT` for a front end `resolveFrontEnd` rejects.
 */
export function recipeFeatures(o: Record<string, unknown>): RecipeFeatures {
  const config: TrialConfig = {};
  for (const key of [...FRONT_END_OPTION_NAMES, ...SPEC_AUGMENT_OPTION_NAMES]) {
    const v = o[key];
    if (typeof v === 'number') config[key] = v;
  }
  const trial = resolveTrialConfig(config);
  return {
    frontEnd: trial.frontEnd,
    customFrontEnd: FRONT_END_OPTION_NAMES.some((k) => config[k] !== undefined),
    specAugment: trial.specAugment ?? undefined,
  };
}

/** Progress hooks of a training command and the function that ends the output. */
export interface TrainingHooks {
  onLoadProgress: ((done: number, total: number) => void) | undefined;
  onStart: (run: { epochs: number; examples: number; batchSize: number }) => TrainCallbacks;
  close(): void;
}

/** Decoding and training progress on the command's stderr (bar on a terminal, JSON lines otherwise). */
export function trainingHooks(io: CliIo, quiet: boolean): TrainingHooks {
  let close = (): void => {};
  return {
    onLoadProgress: countProgress('decoding', io, quiet),
    onStart: (run) => {
      const progress = trainingProgress(io, run, quiet);
      close = progress.close;
      return progress.callbacks;
    },
    close: () => close(),
  };
}

/**
 * Rejects option combinations that cannot work: BC-ResNet options (`width`, `causal`,
 * `subBands`) for a CRNN and CRNN options (`hiddenSize`, `convChannels`, `gruLayers`,
 * `bidirectional`) for a BC-ResNet,
 * `--resume` without `--checkpoint-dir`.
 *
 * @throws UsageError
 */
export function checkTrainingOptions(o: Record<string, unknown>, familyKey: string): void {
  if (o[familyKey] === 'crnn' && (o.width !== undefined || o.causal === true)) {
    throw new UsageError(`--width and --causal apply to --${familyKey} bc-resnet`);
  }
  if (o[familyKey] === 'crnn' && o.subBands !== undefined) {
    throw new UsageError(`--sub-bands applies to --${familyKey} bc-resnet`);
  }
  if (
    o[familyKey] === 'bc-resnet' &&
    (o.hiddenSize !== undefined ||
      o.convChannels !== undefined ||
      o.gruLayers !== undefined ||
      o.bidirectional === true)
  ) {
    throw new UsageError(
      `--hidden-size, --conv-channels, --gru-layers and --bidirectional apply to --${familyKey} crnn`,
    );
  }
  if (o.resume === true && o.checkpointDir === undefined) {
    throw new UsageError('--resume needs --checkpoint-dir');
  }
}
