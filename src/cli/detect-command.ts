/**
 * The `detect` subcommand's arguments and output.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_CHUNK, DEFAULT_TAIL_MS, formatDetection, runDetect } from './detect.js';
import { UsageError } from './exit-codes.js';
import {
  backendOption,
  jsonOption,
  MODEL_HELP,
  nameList,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  unitInterval,
} from './options.js';

/** `kws-kit detect <file.wav|->`. */
export function detectCommand(io: CliIo): Command {
  return new Command('detect')
    .summary('stream a WAV file or stdin through StreamingKWS: keyword timeline')
    .description(
      'Stream audio through StreamingKWS and print the keyword detections. ' +
        'Reads a WAV file, or standard input with "-" (WAV, also with an unknown length as written to a ' +
        'pipe, or headerless 16-bit PCM with --raw), chunk by chunk as it arrives.',
    )
    .addHelpText('after', '\nExample (microphone):\n  sox -d -t wav - | kws-kit detect - --model my-model')
    .argument('<input>', 'WAV file, or - for standard input')
    .requiredOption('-m, --model <name|dir>', MODEL_HELP)
    .option(
      '-l, --labels <a,b,c>',
      "class names in the model's output order (default: the model's metadata)",
      nameList,
    )
    .option('-c, --chunk <samples>', 'samples per push (at the input rate)', positiveInt, DEFAULT_CHUNK)
    .addOption(
      new Option(
        '--mode <mode>',
        'window: the model on the last window every hop; stateful: CRNN state carried',
      )
        .choices(['window', 'stateful'])
        .default('window'),
    )
    .option(
      '-t, --threshold <p>',
      'smoothed probability at which a keyword fires, in [0, 1] (default 0.8)',
      unitInterval,
    )
    .option('-k, --keywords <a,b>', 'labels to report (default: all but _silence_ and _unknown_)', nameList)
    .option(
      '--hop-ms <ms>',
      'time between two model runs (default 100; stateful: one conv stride)',
      positiveNumber,
    )
    .option('--smoothing-ms <ms>', 'moving average of the probabilities (default 300)', nonNegativeNumber)
    .option(
      '--refractory-ms <ms>',
      'no second keyword within this time of one (default 1000)',
      nonNegativeNumber,
    )
    .option('--report-filler', 'also report _silence_ and _unknown_')
    .option(
      '--tail-ms <ms>',
      'silence appended after the input so a word at its very end is seen by whole windows (0 … 60000)',
      nonNegativeNumber,
      DEFAULT_TAIL_MS,
    )
    .option('--raw', 'standard input is headerless signed 16-bit little-endian mono PCM')
    .option('--rate <hz>', 'sample rate of --raw input', positiveInt)
    .addOption(backendOption())
    .addOption(jsonOption('[{ "label", "score", "timeMs" }, …]'))
    .action(async (input: string, o) => {
      if (o.rate !== undefined && o.raw !== true) throw new UsageError('--rate applies to --raw input only');
      if (o.raw === true && input !== '-')
        throw new UsageError('--raw reads standard input: give - as the input');
      await useBackend(o.backend as CliBackend);
      const live = o.json !== true;
      if (live) io.stdout.write(`${'time'.padStart(11)}  ${'label'.padEnd(12)} score\n`);
      const result = await runDetect({
        input,
        model: o.model,
        stdin: io.stdin,
        chunk: o.chunk,
        mode: o.mode,
        ...(o.labels === undefined ? {} : { labels: o.labels }),
        ...(o.threshold === undefined ? {} : { threshold: o.threshold }),
        ...(o.keywords === undefined ? {} : { keywords: o.keywords }),
        ...(o.hopMs === undefined ? {} : { hopMs: o.hopMs }),
        ...(o.smoothingMs === undefined ? {} : { smoothingMs: o.smoothingMs }),
        ...(o.refractoryMs === undefined ? {} : { refractoryMs: o.refractoryMs }),
        ...(o.reportFiller === true ? { reportFiller: true } : {}),
        tailMs: o.tailMs,
        ...(o.raw === true ? { rawRate: o.rate ?? 16000 } : {}),
        ...(live ? { onDetection: (d) => io.stdout.write(`${formatDetection(d)}\n`) } : {}),
        onWarning: (m) => io.stderr.write(`kws-kit: warning: ${m}\n`),
      });
      if (!live) {
        io.stdout.write(`${JSON.stringify(result.detections)}\n`);
        return;
      }
      const seconds = result.sampleRate === null ? 0 : result.samples / result.sampleRate;
      io.stdout.write(`${result.detections.length} detection(s) in ${seconds.toFixed(2)} s of audio\n`);
    });
}
