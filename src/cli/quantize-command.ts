/**
 * The `quantize` subcommand's arguments and output.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { formatQuantReport, WEIGHT_SCHEMES } from '../quantize/index.js';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { backendOption, finiteNumber, jsonOption, MODEL_HELP, positiveInt } from './options.js';
import { countProgress } from './progress-output.js';
import { type QuantizeCommandOptions, runQuantize } from './quantize.js';

/** `kws-kit quantize`. */
export function quantizeCommand(io: CliIo): Command {
  return new Command('quantize')
    .summary('quantize the weights of a model and write it, with a size report')
    .description(
      "Quantize a saved model's weights and write it as a standard tfjs model (dequantized to float32 on " +
        'load by loadModel and tf.loadLayersModel). Prints the sizes on disk and the per-weight errors; with ' +
        '--calibration, also the per-layer SQNR of the quantized model on those clips.',
    )
    .requiredOption('-m, --model <name|dir>', MODEL_HELP)
    .addOption(
      new Option('-s, --scheme <scheme>', 'weight quantization')
        .choices([...WEIGHT_SCHEMES])
        .makeOptionMandatory(),
    )
    .requiredOption('-o, --out <dir>', 'folder to write the quantized model to')
    .option('--calibration <dir>', 'Speech Commands folder of clips for the per-layer SQNR')
    .option('--calibration-clips <n>', 'clips used from --calibration', positiveInt, 200)
    .addOption(
      new Option('--keep-float-as <dtype>', 'storage of the weights left unquantized (biases, norms)')
        .choices(['float32', 'float16'])
        .default('float32'),
    )
    .option('--min-sqnr-db <dB>', 'store weights whose quantized SQNR is below this as float16', finiteNumber)
    .addOption(backendOption())
    .addOption(jsonOption('{ out, files, bytesOnDisk, weightBytes, sizeRatio, totals, sqnr }'))
    .action(async (o) => {
      await useBackend(o.backend as CliBackend);
      const { result, exported } = await runQuantize({
        model: o.model,
        scheme: o.scheme,
        out: o.out,
        calibrationClips: o.calibrationClips,
        keepFloatAs: o.keepFloatAs,
        ...(o.calibration === undefined ? {} : { calibration: o.calibration as string }),
        ...(o.minSqnrDb === undefined ? {} : { minSqnrDb: o.minSqnrDb as number }),
        onLoadProgress: countProgress('decoding', io, o.json === true),
      } satisfies QuantizeCommandOptions);
      if (o.json === true) {
        io.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      io.stdout.write(
        `${formatQuantReport({ exported, ...(result.sqnr === null ? {} : { sqnr: result.sqnr }) })}\n`,
      );
    });
}
