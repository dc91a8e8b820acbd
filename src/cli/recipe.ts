/**
 * Recipe files: a JSON object whose keys are a command's option names in camelCase
 * (`{ "model": "bc-resnet", "width": 1.5, "epochs": 40, "batchSize": 100, "lr": 0.1 }`), as the
 * tuner writes them. Values given on the command line win over the file's; the file's win over
 * the defaults. `learningRate` is accepted for `lr` (the name `train()` and the tuner use).
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { KwsError } from '../errors.js';

/** Other names recipe files may use for an option. */
const ALIASES: Readonly<Record<string, string>> = { learningRate: 'lr' };
/** Options that make no sense inside a recipe. */
const NOT_IN_RECIPES = new Set(['recipe', 'json', 'quiet', 'help']);

/**
 * Reads a recipe file.
 *
 * @throws KwsError `NOT_FOUND` for a missing file, `INVALID_ARGUMENT` for one that is not a JSON object.
 */
export function readRecipe(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new KwsError('NOT_FOUND', `recipe file ${path} does not exist or cannot be read`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new KwsError('INVALID_ARGUMENT', `recipe file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KwsError('INVALID_ARGUMENT', `recipe file ${path} must hold a JSON object of option values`);
  }
  return value as Record<string, unknown>;
}

function flagOf(option: Option): string {
  return option.long ?? option.flags;
}

/** The recipe's value as the option's parser and choices see it. */
function recipeValue(option: Option, value: unknown, where: string): unknown {
  const fail = (allowed: string): never => {
    throw new KwsError('INVALID_ARGUMENT', `${where}: ${allowed}; got ${JSON.stringify(value)}`);
  };
  if (option.isBoolean() || option.negate) {
    if (typeof value !== 'boolean') fail('must be true or false');
    // A `--no-x` option stores x; the recipe gives x itself.
    return value;
  }
  let text: string;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) text = value.join(',');
  else if (typeof value === 'string' || typeof value === 'number') text = String(value);
  else return fail('must be a string, a number or a list of names');
  if (option.argChoices !== undefined && !option.argChoices.includes(text)) {
    fail(`must be one of ${option.argChoices.join(', ')}`);
  }
  if (option.parseArg === undefined) return text;
  try {
    return option.parseArg(text, undefined);
  } catch (e) {
    return fail((e as Error).message);
  }
}

/**
 * The command's option values with the recipe filled in: for each option, the command-line
 * value if given there, else the recipe's, else the default.
 *
 * @param rules `refuse`: recipe keys this command must not take (e.g. the distillation keys for
 *   `train`) and what to do instead; `aliases`: recipe keys that name another option here.
 * @throws KwsError `INVALID_ARGUMENT` naming the key for an unknown or refused key or a bad value.
 */
export function applyRecipe(
  command: Command,
  values: Record<string, unknown>,
  recipe: Record<string, unknown>,
  path: string,
  rules?: {
    /** Keys this command must not take, and what to do instead. */
    refuse?: { keys: readonly string[]; hint: string };
    /** More recipe key → option names for this command (e.g. `model` → `student`). */
    aliases?: Readonly<Record<string, string>>;
  },
): Record<string, unknown> {
  const refuse = rules?.refuse;
  const byName = new Map(
    command.options
      .filter((o) => !NOT_IN_RECIPES.has(o.attributeName()))
      .map((o) => [o.attributeName(), o] as const),
  );
  const merged = { ...values };
  for (const [key, value] of Object.entries(recipe)) {
    if (refuse?.keys.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `recipe file ${path}: ${JSON.stringify(key)} is a distillation setting that kws-kit ${command.name()} does not use; ${refuse.hint}`,
      );
    }
    const name = rules?.aliases?.[key] ?? ALIASES[key] ?? key;
    const option = byName.get(name);
    if (option === undefined) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `recipe file ${path}: unknown option ${JSON.stringify(key)}; allowed: ${[...byName.keys()].join(', ')}`,
      );
    }
    if (command.getOptionValueSource(name) === 'cli') continue;
    merged[name] = recipeValue(option, value, `recipe file ${path}: ${key} (${flagOf(option)})`);
  }
  return merged;
}
