/**
 * The `kws-kit` command line, as a function ({@link main}); `bin.ts` runs it. Subcommands so far: `eval`. Exit codes: 0 success, 1 unexpected error,
 * 2 bad usage (unknown option, missing argument), 3 bad input (missing file or folder, data
 * folder in the wrong layout, corrupt model: a `KwsError`).
 *
 * @packageDocumentation
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { KwsError } from '../errors.js';
import { type CliBackend, useBackend } from './backend.js';
import { runEval } from './eval.js';

/** Exit codes of the `kws-kit` command. */
export const EXIT = { ok: 0, unexpected: 1, usage: 2, badInput: 3 } as const;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be an integer >= 1');
  return n;
}

function progress(label: string, enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done >= total) process.stderr.write('\n');
  };
}

function buildProgram(): Command {
  const program = new Command('kws-kit')
    .description('Keyword spotting on TensorFlow.js: evaluate, train and run small KWS models.')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('eval')
    .description(
      'Accuracy, per-class precision/recall and confusion matrix of a model on a Speech Commands folder.',
    )
    .requiredOption('-m, --model <dir>', 'model folder (or model.json) written by saveModel')
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
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
    .option('--json', 'print { accuracy, perClass, confusion, labels } as JSON')
    .action(async (o) => {
      await useBackend(o.backend as CliBackend);
      const result = await runEval({
        model: o.model,
        data: o.data,
        split: o.split,
        labels: o.labels,
        batchSize: o.batchSize,
        onProgress: progress('decoding', !o.json && process.stderr.isTTY === true),
      });
      if (o.json) {
        const { accuracy, perClass, confusion, labels } = result;
        process.stdout.write(`${JSON.stringify({ accuracy, perClass, confusion, labels })}\n`);
        return;
      }
      const lines = [
        `accuracy ${(100 * result.accuracy).toFixed(2)}% on ${result.clips} clips (${result.split})`,
        '',
        `${'label'.padEnd(12)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'f1'.padStart(6)} ${'n'.padStart(5)}`,
        ...result.perClass.map(
          (c) =>
            `${c.label.padEnd(12)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(6)} ${String(c.support).padStart(5)}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  return program;
}

/** Runs the command line `argv` (without node and script) and resolves to an exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof KwsError) {
      process.stderr.write(`kws-kit: ${e.message} [${e.code}]\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`kws-kit: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.unexpected;
  }
}
