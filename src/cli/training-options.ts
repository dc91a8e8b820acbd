/**
 * Options and progress wiring shared by the commands that run the training loop (`train`,
 * `distill`).
 *
 * @packageDocumentation
 */
import { type Command, Option } from 'commander';
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
 * Rejects option combinations that cannot work: BC-ResNet options for a CRNN and back,
 * `--resume` without `--checkpoint-dir`.
 *
 * @throws UsageError
 */
export function checkTrainingOptions(o: Record<string, unknown>, familyKey: string): void {
  if (o[familyKey] === 'crnn' && (o.width !== undefined || o.causal === true)) {
    throw new UsageError(`--width and --causal apply to --${familyKey} bc-resnet`);
  }
  if (o[familyKey] === 'bc-resnet' && o.hiddenSize !== undefined) {
    throw new UsageError(`--hidden-size applies to --${familyKey} crnn`);
  }
  if (o.resume === true && o.checkpointDir === undefined) {
    throw new UsageError('--resume needs --checkpoint-dir');
  }
}
