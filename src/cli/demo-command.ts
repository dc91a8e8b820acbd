/**
 * `kws-kit demo`: the end-to-end demo (`runDemo` in `src/demo/run-demo.ts`): generated data, the
 * shipped teacher fine-tuned, a student distilled and quantized, a glued track streamed, and a
 * markdown report with SVG plots.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import type { DemoReport } from '../demo/demo-report.js';
import { formatAccuracy, formatCount } from '../demo/report.js';
import { runDemo } from '../demo/run-demo.js';
import type { SynthSource } from '../demo/synth-data.js';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { backendOption, jsonOption, nonNegativeInt, positiveInt } from './options.js';

/** The summary printed without `--json`: the model table and where the report is. */
export function formatDemoResult(report: DemoReport): string {
  const lines = [
    `data: ${report.data.source}${report.data.synthetic ? ' (synthetic, not speech)' : ''}, ` +
      `${report.data.examples.train} train / ${report.data.examples.validation} validation / ${report.data.examples.test} test examples`,
  ];
  for (const m of report.models) {
    lines.push(
      `${m.name.padEnd(20)} ${formatCount(m.params).padStart(8)} params ${formatCount(m.macs).padStart(11)} MACs ` +
        `${formatCount(m.weightBytes).padStart(8)} weight bytes  test accuracy ${formatAccuracy(m.accuracy)}`,
    );
  }
  lines.push(
    `stream: ${report.stream.hits} hit(s), ${report.stream.misses} miss(es), ${report.stream.falseAlarms} false alarm(s)`,
    `${report.totalSeconds.toFixed(1)} s; report: ${report.out}/${report.files.report}`,
  );
  return lines.join('\n');
}

/** `kws-kit demo`. */
export function demoCommand(io: CliIo): Command {
  return new Command('demo')
    .summary('the whole story on data the demo makes itself, with a report')
    .description(
      'Generates a small keyword data set (espeak-ng speech when installed, else a built-in synthetic ' +
        'generator) or takes a Speech Commands folder, fine-tunes the shipped pretrained teacher on it, ' +
        'distils and quantizes a smaller student, streams a glued track through StreamingKWS and writes ' +
        '<out>/report.md with SVG plots. Progress goes to stderr.',
    )
    .option('-o, --out <dir>', 'output folder', 'demo-out')
    .option('-d, --data <dir>', 'use this Speech Commands folder instead of generated data')
    .option(
      '--limit <n>',
      'with --data: at most n clips per keyword per split (default 60, quick 8)',
      positiveInt,
    )
    .addOption(
      new Option('--synth <source>', 'generator of the demo data')
        .choices(['auto', 'espeak', 'builtin'])
        .default('auto'),
    )
    .option('--no-pretrained', 'train the teacher from scratch instead of fine-tuning the pretrained one')
    .option('--quick', 'the ~30 s version: tiny data, one or two epochs per model')
    .option('--seed <n>', 'seed of everything', nonNegativeInt, 0)
    .option('-q, --quiet', 'no progress output')
    .addOption(backendOption())
    .addOption(jsonOption('the report object'))
    .action(async (o) => {
      await useBackend(o.backend as CliBackend);
      const quiet = o.quiet === true;
      const report = await runDemo({
        out: o.out as string,
        ...(o.data === undefined ? {} : { data: o.data as string }),
        ...(o.limit === undefined ? {} : { limit: o.limit as number }),
        synth: o.synth as SynthSource,
        pretrained: o.pretrained !== false,
        quick: o.quick === true,
        seed: o.seed as number,
        ...(quiet ? {} : { log: (line: string) => io.stderr.write(`${line}\n`) }),
      });
      io.stdout.write(o.json === true ? `${JSON.stringify(report)}\n` : `${formatDemoResult(report)}\n`);
    });
}
