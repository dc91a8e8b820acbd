/**
 * `kws-kit tune`: searches model width, front end and training recipe on a Speech Commands
 * folder with {@link tune}, then writes the results table (JSON + markdown), the accuracy-vs-MACs
 * SVG with the Pareto front and the best configuration as a recipe file.
 *
 * Exit codes as the rest of the CLI (`exit-codes.ts`): a bad space, budget or base is a usage
 * error, a missing data folder or unreadable space file bad input.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { loadSpeechCommands, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import {
  checkSearchSpace,
  planSearch,
  recipeConfig,
  type SearchSpace,
  SMALL_BC_RESNET_BASE,
  SMALL_BC_RESNET_SPACE,
  type TrialConfig,
  type TuneBudget,
  type TuneConstraints,
  type TuneStrategy,
  tune,
  writeTuneReport,
} from '../models/index.js';
import { type CliBackend, useBackend } from './backend.js';
import { type CliIo, processIo } from './cli-io.js';
import {
  backendOption,
  jsonOption,
  labelSetOption,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
} from './options.js';

/** File names written into `--out`. */
export const TUNE_OUTPUT_FILES = {
  json: 'tuning.json',
  markdown: 'tuning.md',
  svg: 'tuning-pareto.svg',
  recipe: 'tuned-recipe.json',
} as const;

/** Reads a JSON object from a file path, or parses the text itself when it starts with `{`. */
function jsonObject(what: string, value: string): Record<string, unknown> {
  let text = value;
  if (!value.trimStart().startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (e) {
      throw new KwsError('NOT_FOUND', `cannot read the ${what} file ${value}: ${(e as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new KwsError('INVALID_ARGUMENT', `the ${what} is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KwsError('INVALID_ARGUMENT', `the ${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * `kws-kit tune`, writing to `io` (default: the process's streams); add it to the program like
 * the other subcommands.
 */
export function tuneCommand(io: CliIo = processIo()): Command {
  return new Command('tune')
    .description(
      'Search width, front end and training recipe (random search or successive halving) and write ' +
        'the results table, the accuracy-vs-MACs Pareto plot and the best recipe.',
    )
    .exitOverride()
    .showHelpAfterError()
    .requiredOption('-d, --data <dir>', 'Speech Commands folder (word folders, optional *_list.txt files)')
    .addOption(labelSetOption())
    .option(
      '--space <file|json>',
      'search space: option → {type: int|float|choice, ...}; default: small BC-ResNets (width 0.5-1, mels, window, hop, lr, wd, masks)',
    )
    .option(
      '--base <file|json>',
      'fixed options of every trial; default with the default space: the gsc-dev recipe',
    )
    .addOption(
      new Option('--strategy <name>', 'search strategy').choices(['halving', 'random']).default('halving'),
    )
    .option('--trials <n>', 'configurations that train (first rung for halving)', positiveInt, 12)
    .option('--epochs <n>', 'random search: epochs per trial', positiveInt, 3)
    .option('--min-epochs <n>', 'halving: epochs of the first rung', positiveInt, 3)
    .option('--max-epochs <n>', 'halving: epochs of the last rung', positiveInt, 27)
    .option('--eta <x>', 'halving: keep the best 1/eta of each rung', positiveNumber, 3)
    .option('--max-params <n>', 'prune models with more parameters', positiveInt)
    .option('--max-macs <n>', 'prune models with more MACs per example', positiveInt)
    .option('--seed <n>', 'seed of the sampled configurations and of training', nonNegativeInt, 0)
    .option('-j, --journal <file>', 'JSON-lines journal; re-running with it resumes the search')
    .option('--strict-journal', 'fail on a corrupt journal line instead of re-running it')
    .option('-o, --out <dir>', `write ${Object.values(TUNE_OUTPUT_FILES).join(', ')} here`)
    .option('--micro-batch <n>', 'split training batches to bound memory', positiveInt)
    .option('--cache-dir <dir>', 'feature cache of the data loader')
    .addOption(backendOption())
    .addOption(jsonOption('the results (best trial, plan and table) instead of progress lines'))
    .action(async (o) => {
      const custom = o.space !== undefined;
      const space = (custom ? jsonObject('space', o.space) : SMALL_BC_RESNET_SPACE) as SearchSpace;
      const base: TrialConfig =
        o.base !== undefined
          ? recipeConfig(jsonObject('base', o.base) as TrialConfig)
          : custom
            ? {}
            : SMALL_BC_RESNET_BASE;
      const strategy = o.strategy as TuneStrategy;
      const budget: TuneBudget =
        strategy === 'random'
          ? { trials: o.trials, epochs: o.epochs }
          : { trials: o.trials, minEpochs: o.minEpochs, maxEpochs: o.maxEpochs, eta: o.eta };
      const constraints: TuneConstraints = {
        ...(o.maxParams === undefined ? {} : { maxParams: o.maxParams }),
        ...(o.maxMacs === undefined ? {} : { maxMacs: o.maxMacs }),
      };
      // Fail on a bad space or budget before the (slow) data load.
      checkSearchSpace(space);
      planSearch(strategy, budget);
      await useBackend(o.backend as CliBackend);
      const data = await loadSpeechCommands(o.data, {
        labels: o.labels ?? 'v2-12',
        splits: ['train', 'validation'],
        keepAudio: true,
        ...(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }),
      });
      const train = data.splits.train as Split;
      const validation = data.splits.validation as Split;
      if (train.labels.length === 0 || validation.labels.length === 0) {
        throw new KwsError('DATASET_INVALID', `${o.data} needs training and validation clips to tune on`);
      }
      const result = await tune({
        space,
        base,
        strategy,
        budget,
        constraints,
        seed: o.seed,
        data: {
          train,
          validation,
          backgroundNoise: data.backgroundNoise,
          ...(o.microBatch === undefined ? {} : { microBatchSize: o.microBatch }),
        },
        ...(o.journal === undefined ? {} : { journal: o.journal }),
        strictJournal: o.strictJournal === true,
        logger: o.json ? 'silent' : 'auto',
        streams: { stdout: io.stdout, stderr: io.stderr },
      });
      if (o.out !== undefined) {
        const at = (name: string): string => join(o.out, name);
        await writeTuneReport(result, {
          json: at(TUNE_OUTPUT_FILES.json),
          markdown: at(TUNE_OUTPUT_FILES.markdown),
          svg: at(TUNE_OUTPUT_FILES.svg),
          recipe: at(TUNE_OUTPUT_FILES.recipe),
        });
      }
      for (const w of result.warnings) io.stderr.write(`kws-kit: warning: ${w.message} [${w.code}]\n`);
      if (o.json) {
        const { best, trials, plan, objectiveCalls, fromJournal, seconds } = result;
        io.stdout.write(`${JSON.stringify({ best, plan, objectiveCalls, fromJournal, seconds, trials })}\n`);
        return;
      }
      const b = result.best;
      io.stdout.write(
        b === null
          ? 'no configuration trained (all pruned or invalid)\n'
          : `best ${b.id}: ${(100 * (b.accuracy as number)).toFixed(2)}% after ${b.epochs} epochs, ` +
              `${b.params ?? '?'} params, ${(((b.macs ?? 0) as number) / 1e6).toFixed(3)} M MACs\n` +
              `${JSON.stringify(b.config)}\n`,
      );
    });
}
