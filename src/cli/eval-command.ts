/**
 * The `eval` subcommand's arguments and output (the evaluation itself is `runEval` in eval.ts).
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { type EvalCommandResult, runEval } from './eval.js';
import { backendOption, jsonOption, MODEL_HELP, positiveInt } from './options.js';
import { countProgress } from './progress-output.js';

/** The table printed without `--json`. */
export function formatEvalResult(result: EvalCommandResult): string {
  return [
    `accuracy ${(100 * result.accuracy).toFixed(2)}% on ${result.clips} clips (${result.split})`,
    '',
    `${'label'.padEnd(12)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'f1'.padStart(6)} ${'n'.padStart(5)}`,
    ...result.perClass.map(
      (c) =>
        `${c.label.padEnd(12)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1
          .toFixed(3)
          .padStart(6)} ${String(c.support).padStart(5)}`,
    ),
  ].join('\n');
}

/** `kws-kit eval`. */
export function evalCommand(io: CliIo): Command {
  return new Command('eval')
    .summary('accuracy, per-class figures and confusion matrix on a data folder')
    .description(
      'Accuracy, per-class precision/recall and confusion matrix of a model on a Speech Commands folder.',
    )
    .requiredOption('-m, --model <name|dir>', MODEL_HELP)
    .requiredOption('-d, --data <dir>', 'Speech Commands folder (word folders, optional *_list.txt files)')
    .addOption(
      new Option('-s, --split <split>', 'clips to evaluate: the test list if it names clips, else all')
        .choices(['auto', 'all', 'train', 'validation', 'test'])
        .default('auto'),
    )
    .option(
      '-l, --labels <set>',
      'label set if the model has no kws-kit metadata: v2-12, v2-35 or a,b,c',
      'v2-12',
    )
    .option('-b, --batch-size <n>', 'examples per forward pass', positiveInt, 100)
    .addOption(backendOption())
    .addOption(jsonOption('{ accuracy, perClass, confusion, labels }'))
    .action(async (o) => {
      await useBackend(o.backend as CliBackend);
      const result = await runEval({
        model: o.model,
        data: o.data,
        split: o.split,
        labels: o.labels,
        batchSize: o.batchSize,
        onProgress: countProgress('decoding', io, o.json === true),
      });
      if (o.json === true) {
        const { accuracy, perClass, confusion, labels } = result;
        io.stdout.write(`${JSON.stringify({ accuracy, perClass, confusion, labels })}\n`);
        return;
      }
      io.stdout.write(`${formatEvalResult(result)}\n`);
    });
}
