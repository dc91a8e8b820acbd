/**
 * Recipe files: a flat JSON object of option values named as the `kws-kit train` command's
 * options in camelCase (`{ "model": "bc-resnet", "width": 0.75, "nMels": 48, "lr": 0.08,
 * "epochs": 27, ... }`), which is how the search writes its best configuration and what
 * `kws-kit train --recipe` and {@link tune}'s `base` read. The learning rate is stored as `lr`
 * (the command's name; `learningRate`, the name of `train()` and of the search space, is read too).
 *
 * In a library program, {@link recipeTrial} splits a recipe into the front-end options, the model
 * factory options, SpecAugment and the `train()` recipe.
 *
 * @packageDocumentation
 */
import { KwsError } from '../../errors.js';
import { nodeBuiltin, nodeFileSystem } from '../../node-builtins.js';
import {
  checkOptionNames,
  type ParamValue,
  sortedConfig,
  type TrialConfig,
  TUNABLE_OPTION_NAMES,
} from './search-space.js';
import { modelFactoryOptions, type ResolvedTrial, resolveTrialConfig } from './trial-config.js';

/** A recipe: option name → value. */
export type KwsRecipe = Record<string, ParamValue>;

/** Names a recipe may hold: the tunable options, with `lr` for `learningRate`. */
export const RECIPE_OPTION_KEYS: readonly string[] = [
  ...TUNABLE_OPTION_NAMES.filter((n) => n !== 'learningRate'),
  'lr',
];

/**
 * Recipe keys of knowledge distillation (the KD loss's `temperature` and hard-label weight
 * `alpha`): `kws-kit distill --recipe` reads them, `kws-kit train --recipe` refuses them.
 */
export const DISTILL_RECIPE_KEYS: readonly string[] = RECIPE_OPTION_KEYS.filter(
  (k) => k === 'temperature' || k === 'alpha',
);

/**
 * The recipe of a configuration (e.g. `tune(...).best.config`): its options, `learningRate`
 * renamed `lr`, `epochs` added when the configuration does not hold it (successive halving sets
 * it per rung), `warmupEpochs` made explicit (the search's default is 10 % of the epochs, the
 * command's is 5), and for BC-ResNet the `subBands` the search chose for a front end other than
 * 40 mels.
 *
 * @throws {@link KwsError} as `resolveTrialConfig`.
 */
export function recipeFromConfig(config: Readonly<TrialConfig>, extra?: { epochs?: number }): KwsRecipe {
  const trial = resolveTrialConfig(config);
  const out: TrialConfig = { ...config };
  if (out.learningRate !== undefined) {
    out.lr = out.learningRate;
    delete out.learningRate;
  }
  if (out.epochs === undefined && extra?.epochs !== undefined) out.epochs = extra.epochs;
  if (out.warmupEpochs === undefined && typeof out.epochs === 'number') out.warmupEpochs = 0.1 * out.epochs;
  if (trial.family === 'bc-resnet' && out.subBands === undefined && trial.frontEnd.nMels !== 40) {
    const { subBands } = modelFactoryOptions(trial);
    if (subBands !== undefined) out.subBands = subBands;
  }
  return sortedConfig(out);
}

/**
 * Checks that `value` is a recipe: a JSON object whose keys are {@link RECIPE_OPTION_KEYS} (or
 * `learningRate`) and whose values are numbers, strings, booleans or null.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` naming the first problem.
 */
export function checkRecipe(value: unknown, where = 'recipe'): KwsRecipe {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KwsError('INVALID_ARGUMENT', `${where} must be a JSON object of option values`);
  }
  const r = value as Record<string, unknown>;
  checkOptionNames(where, Object.keys(r), [...RECIPE_OPTION_KEYS, 'learningRate']);
  for (const [k, v] of Object.entries(r)) {
    const ok =
      v === null || ['string', 'boolean'].includes(typeof v) || (typeof v === 'number' && Number.isFinite(v));
    if (!ok)
      throw new KwsError('INVALID_ARGUMENT', `${where}: ${k} must be a number, a string, a boolean or null`);
  }
  return r as KwsRecipe;
}

/** The recipe as a search configuration (`lr` back to `learningRate`), e.g. for `tune`'s `base`. */
export function recipeConfig(recipe: Readonly<KwsRecipe>): TrialConfig {
  const config: TrialConfig = { ...checkRecipe(recipe) };
  if (config.lr !== undefined) {
    config.learningRate = config.lr;
    delete config.lr;
  }
  return sortedConfig(config);
}

/**
 * A recipe split into what kws-kit's functions take: `frontEnd` (for `loadSpeechCommands`'
 * `features`), `model` options for `bcResNet` / `crnn` (family in `family`; add `numClasses`,
 * `inputShape`, `seed`), `specAugment` and the `recipe` of `train()` options.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for a bad recipe.
 */
export function recipeTrial(recipe: Readonly<KwsRecipe>): ResolvedTrial {
  const trial = resolveTrialConfig(recipeConfig(recipe));
  return { ...trial, model: modelFactoryOptions(trial) };
}

/** Writes a recipe as pretty JSON (folders created). */
export async function writeRecipe(path: string, recipe: Readonly<KwsRecipe>): Promise<void> {
  checkRecipe(recipe);
  const {
    fs: { mkdir, writeFile },
    path: { dirname },
  } = await nodeFileSystem({ caller: 'writeRecipe', alternative: 'JSON.stringify(recipe)' });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(recipe, null, 2)}\n`);
}

/**
 * Reads a recipe file.
 *
 * @throws {@link KwsError} `NOT_FOUND` for a missing file, `INVALID_ARGUMENT` for one that is
 *   not JSON or not a recipe.
 */
export async function readRecipe(path: string): Promise<KwsRecipe> {
  const { readFile } = await nodeBuiltin('fs/promises', {
    caller: 'readRecipe',
    alternative: 'recipeConfig(JSON.parse(text)) on text you fetched',
  });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KwsError('NOT_FOUND', `cannot read the recipe ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new KwsError('INVALID_ARGUMENT', `the recipe ${path} is not JSON: ${(e as Error).message}`);
  }
  return checkRecipe(value, `recipe ${path}`);
}
