/**
 * Option parsers and options shared by the subcommands. Parsers throw commander's
 * `InvalidArgumentError`, which commander reports as `error: option '--x <n>' argument 'v' is
 * invalid. <reason>` and which exits with code 2.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError, Option } from 'commander';

/** Help text of a model argument (see `resolveModel`). */
export const MODEL_HELP =
  'pretrained model name, or model folder (or model.json) written by kws-kit train / saveModel';

/** An integer ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be an integer >= 1');
  }
  return n;
}

/** An integer ≥ 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError('must be an integer >= 0');
  }
  return n;
}

/** A finite number ≥ 0. */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError('must be a number >= 0');
  }
  return n;
}

/** A finite number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('must be a number > 0');
  }
  return n;
}

/** A number in [0, 1]. */
export function unitInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError('must be a number in [0, 1]');
  return n;
}

/** A comma-separated list of at least one non-empty name. */
export function nameList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new InvalidArgumentError('must be a comma-separated list of names');
  return list;
}

/** `--backend wasm|cpu` (default wasm). */
export function backendOption(): Option {
  return new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm');
}

/** `--json`: machine-readable output on stdout. */
export function jsonOption(what: string): Option {
  return new Option('--json', `print ${what} as JSON on stdout`);
}

/** `--model bc-resnet|crnn` for commands that build a model. */
export function familyOption(flags: string, description: string): Option {
  return new Option(flags, description).choices(['bc-resnet', 'crnn']);
}

/** A label set argument: `v2-12`, `v2-35` or a comma-separated list of class names. */
export function labelSet(value: string): string | string[] {
  if (value === 'v2-12' || value === 'v2-35') return value;
  const list = nameList(value);
  if (list.length < 2) throw new InvalidArgumentError('must be v2-12, v2-35 or a list of at least two names');
  return list;
}

/** `--labels <set>` for commands that read a data folder (default v2-12). */
export function labelSetOption(): Option {
  return new Option('-l, --labels <set>', 'classes: v2-12, v2-35 or a,b,c (default v2-12)').argParser(
    labelSet,
  );
}

/** Any finite number. */
export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}
