/**
 * `kws-kit profile`: parameters, MACs, weight bytes and peak activation memory of a saved model,
 * per layer and in total (`profile` from `kws-kit/models`).
 *
 * @packageDocumentation
 */
import { Command } from 'commander';
import { formatProfile, profile } from '../models/index.js';
import { type CliBackend, useBackend } from './backend.js';
import type { CliIo } from './cli-io.js';
import { resolveModel } from './model-arg.js';
import { backendOption, jsonOption, MODEL_HELP } from './options.js';

/** `kws-kit profile`. */
export function profileCommand(io: CliIo): Command {
  return new Command('profile')
    .summary('parameters, MACs, bytes and peak memory per layer')
    .description(
      'Parameters, multiply-accumulates (MACs) for one input, weight bytes and peak activation memory of a ' +
        'saved model, per layer and in total.',
    )
    .requiredOption('-m, --model <name|dir>', MODEL_HELP)
    .addOption(backendOption())
    .addOption(jsonOption("profile()'s result { layers, total, … }"))
    .action(async (o) => {
      await useBackend(o.backend as CliBackend);
      const { model } = await resolveModel(o.model);
      try {
        const p = profile(model);
        io.stdout.write(o.json === true ? `${JSON.stringify(p)}\n` : `${formatProfile(p)}\n`);
      } finally {
        model.dispose();
      }
    });
}
