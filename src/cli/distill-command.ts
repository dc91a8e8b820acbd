/**
 * The `distill` subcommand's arguments and output.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { type DistillCommandOptions, type DistillCommandResult, runDistill } from './distill.js';
import {
  familyOption,
  jsonOption,
  MODEL_HELP,
  nameList,
  positiveInt,
  positiveNumber,
  unitInterval,
} from './options.js';
import { applyRecipe, readRecipe } from './recipe.js';
import {
  addRecipeOptions,
  addTrainingOptions,
  checkTrainingOptions,
  trainingHooks,
} from './training-options.js';

/** The summary printed without `--json`. */
export function formatDistillResult(r: DistillCommandResult): string {
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
  return [
    `saved ${r.out}`,
    `${r.labels.length} classes, ${r.examples.train} training / ${r.examples.validation} validation clips`,
    `teacher: ${r.teacher.params.toLocaleString('en-US')} parameters, validation accuracy ${pct(r.teacher.validationAccuracy)}`,
    `student: ${r.student.params.toLocaleString('en-US')} parameters, validation accuracy ${pct(r.student.validationAccuracy)}`,
    `${r.epochs} epochs in ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}

/** `kws-kit distill`. */
export function distillCommand(io: CliIo): Command {
  const command = new Command('distill');
  command
    .summary('distil a saved teacher into a smaller student')
    .description(
      "Distil a saved teacher into a new, smaller student on a Speech Commands folder (the teacher's " +
        'labels and front end are used). The default loss mixes hard-label cross-entropy (weight alpha) with ' +
        "Hinton's KD at the given temperature; without --augment the teacher's logits are computed once.",
    )
    .requiredOption('--teacher <name|dir>', `teacher: ${MODEL_HELP}`)
    .addOption(familyOption('--student <family>', 'student model family').makeOptionMandatory())
    .requiredOption('-d, --data <dir>', 'Speech Commands folder: one folder of WAV clips per word')
    .requiredOption('-o, --out <dir>', 'folder to save the student to')
    .option('-w, --width <tau>', 'BC-ResNet student width multiplier τ (default 1)', positiveNumber)
    .option('--causal', 'BC-ResNet student with causal time padding')
    .option('--hidden-size <n>', 'CRNN student GRU size', positiveInt)
    .option('--dropout <p>', 'student dropout rate', unitInterval)
    .option('-l, --labels <a,b,c>', 'class names if the teacher has no kws-kit metadata', nameList)
    .addOption(
      new Option('--loss <name>', 'kd, mixed, attention+kd (two CRNNs) or mse')
        .choices(['kd', 'mixed', 'attention+kd', 'mse'])
        .default('mixed'),
    )
    .option('-T, --temperature <T>', 'softmax temperature', positiveNumber, 4)
    .option('-a, --alpha <a>', 'weight of the hard-label loss in [0, 1]', unitInterval, 0.5)
    .option('--augment', 'time shift and background noise (the teacher then runs on every batch)');
  addRecipeOptions(command, 'student ');
  return addTrainingOptions(command, { warmupEpochs: 1 })
    .option(
      '--recipe <file.json>',
      'read option values from a JSON file, e.g. one kws-kit tune wrote (flags override it; its model is the student)',
    )
    .addOption(jsonOption('the summary (saved folder, teacher and student accuracy)'))
    .action(async () => {
      const given = command.opts();
      const o =
        given.recipe === undefined
          ? given
          : applyRecipe(command, given, readRecipe(given.recipe), given.recipe, {
              aliases: { model: 'student' },
            });
      checkTrainingOptions(o, 'student');
      await useBackend(o.backend as CliBackend);
      const hooks = trainingHooks(io, o.quiet === true);
      let result: DistillCommandResult;
      try {
        result = await runDistill({
          ...(o as unknown as DistillCommandOptions),
          onLoadProgress: hooks.onLoadProgress,
          onStart: hooks.onStart,
        });
      } finally {
        hooks.close();
      }
      for (const w of result.warnings) io.stderr.write(`kws-kit: warning: ${w}\n`);
      io.stdout.write(o.json === true ? `${JSON.stringify(result)}\n` : `${formatDistillResult(result)}\n`);
    });
}
