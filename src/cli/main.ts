/**
 * The `kws-kit` command line as a function ({@link main}); `bin.ts` runs it with the process's
 * streams, tests run it in-process with their own. Each subcommand lives in
 * `src/cli/<name>-command.ts` as a function `(io) => Command`; this file only lists them.
 *
 * @packageDocumentation
 */
import { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { processIo } from './cli-io.js';
import { demoCommand } from './demo-command.js';
import { detectCommand } from './detect-command.js';
import { distillCommand } from './distill-command.js';
import { evalCommand } from './eval-command.js';
import { EXIT, errorMessage, exitCodeOf } from './exit-codes.js';
import { profileCommand } from './profile-command.js';
import { quantizeCommand } from './quantize-command.js';
import { trainCommand } from './train-command.js';
import { tuneCommand } from './tune-command.js';

export { EXIT } from './exit-codes.js';

/** Builds one subcommand around the streams it reads and writes. */
export type CommandFactory = (io: CliIo) => Command;

/** The subcommands, in the order `kws-kit --help` lists them. */
export const COMMANDS: readonly CommandFactory[] = [
  trainCommand,
  distillCommand,
  quantizeCommand,
  evalCommand,
  detectCommand,
  profileCommand,
  tuneCommand,
  demoCommand,
];

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure while running (unexpected error)
  2  usage error: unknown command or option, missing or malformed argument, bad option value
  3  input not found or invalid: missing file or folder, data folder in the wrong layout,
     corrupt model or WAV, a model that does not fit the labels

Run kws-kit <command> --help for a command's options.`;

/** The `kws-kit` program writing to `io`. */
export function buildProgram(io: CliIo, commands: readonly CommandFactory[] = COMMANDS): Command {
  const program = new Command('kws-kit')
    .description(
      'Keyword spotting on TensorFlow.js: train, distil, quantize, evaluate and run small KWS models.',
    )
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText('after', EXIT_CODES_HELP);
  for (const make of commands) {
    // Subcommands built on their own do not inherit the program's settings unless copied.
    program.addCommand(make(io).copyInheritedSettings(program));
  }
  return program;
}

/**
 * Runs the command line `argv` (without node and script) and resolves to an exit code (see
 * `exit-codes.ts`, also printed by `kws-kit --help`). Never rejects; errors are printed on
 * `io.stderr`.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    const message = errorMessage(e);
    if (message !== null) io.stderr.write(`${message}\n`);
    return exitCodeOf(e);
  }
}
