/**
 * The `train` subcommand's arguments and output.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { DISTILL_RECIPE_KEYS } from '../models/index.js';
import { TRAINING_ENGINES } from '../train/index.js';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { UsageError } from './exit-codes.js';
import {
  familyOption,
  jsonOption,
  labelSetOption,
  positiveInt,
  positiveNumber,
  unitInterval,
} from './options.js';
import { applyRecipe, readRecipe } from './recipe.js';
import { runTrain, type TrainCommandOptions, type TrainCommandResult } from './train.js';
import {
  addRecipeOptions,
  addTrainingOptions,
  checkTrainingOptions,
  trainingHooks,
} from './training-options.js';

/** The summary printed without `--json`. */
export function formatTrainResult(r: TrainCommandResult): string {
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
  return [
    `saved ${r.out}`,
    `${r.labels.length} classes, ${r.examples.train} training / ${r.examples.validation} validation clips`,
    `${r.params.toLocaleString('en-US')} parameters, ${r.macs.toLocaleString('en-US')} MACs per 1 s clip`,
    `${r.epochs} epochs in ${r.seconds.toFixed(1)} s; validation accuracy ${pct(r.validationAccuracy)}` +
      (r.bestEpoch === null ? '' : ` (best epoch ${r.bestEpoch})`),
  ].join('\n');
}

/** `kws-kit train`. */
export function trainCommand(io: CliIo): Command {
  const command = new Command('train');
  command
    .summary('train a BC-ResNet or CRNN on a Speech Commands folder and save it')
    .description(
      'Train a BC-ResNet or CRNN on a Speech Commands folder and save it (with its labels and front end). ' +
        'Defaults are the gsc-dev recipe: SGD with momentum 0.9, lr 0.1 with 5 warm-up epochs then cosine, ' +
        'weight decay 1e-3, batch 100, ±100 ms time shift, background noise with probability 0.8. ' +
        'A --recipe file (as kws-kit tune writes it) holds the same options in camelCase; flags given ' +
        'here override it. Front-end options are stored in the model so eval and detect use them.',
    )
    .option('-d, --data <dir>', 'Speech Commands folder: one folder of WAV clips per word (required)')
    .option('-o, --out <dir>', 'folder to save the trained model to (required)')
    .addOption(familyOption('-m, --model <family>', 'model family').default('bc-resnet'))
    .option('-w, --width <tau>', 'BC-ResNet width multiplier τ (default 1)', positiveNumber)
    .option('--causal', 'BC-ResNet with causal time padding (streamable)')
    .option('--hidden-size <n>', 'CRNN GRU size', positiveInt)
    .option('--dropout <p>', 'dropout rate', unitInterval)
    .addOption(labelSetOption())
    .option('--no-augment', 'no time shift or background noise')
    .option('--workers <n>', 'gradient worker threads; use as many as cores (default 1)', positiveInt)
    .addOption(
      new Option(
        '--engine <name>',
        'gradient engine: compiled plain-TS for BC-ResNet, tfjs for anything (default auto)',
      ).choices(TRAINING_ENGINES),
    );
  addRecipeOptions(command, '');
  return addTrainingOptions(command, { warmupEpochs: 5 })
    .option('--recipe <file.json>', 'read option values from a JSON file (flags override it)')
    .addOption(jsonOption('the summary (saved folder, accuracy, parameters, recipe)'))
    .action(async () => {
      const given = command.opts();
      const o =
        given.recipe === undefined
          ? given
          : applyRecipe(command, given, readRecipe(given.recipe), given.recipe, {
              refuse: {
                keys: DISTILL_RECIPE_KEYS,
                hint: 'train with it through kws-kit distill --teacher <model> --recipe <file>',
              },
            });
      if (typeof o.data !== 'string')
        throw new UsageError('--data <dir> is required (on the command line or in the recipe)');
      if (typeof o.out !== 'string')
        throw new UsageError('--out <dir> is required (on the command line or in the recipe)');
      checkTrainingOptions(o, 'model');
      await useBackend(o.backend as CliBackend);
      const hooks = trainingHooks(io, o.quiet === true);
      let result: TrainCommandResult;
      try {
        result = await runTrain({
          ...(o as unknown as TrainCommandOptions),
          onLoadProgress: hooks.onLoadProgress,
          onStart: hooks.onStart,
        });
      } finally {
        hooks.close();
      }
      for (const w of result.warnings) io.stderr.write(`kws-kit: warning: ${w}\n`);
      io.stdout.write(o.json === true ? `${JSON.stringify(result)}\n` : `${formatTrainResult(result)}\n`);
    });
}
