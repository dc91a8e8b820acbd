import '@tensorflow/tfjs-backend-cpu';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { distillCommand } from '../../src/cli/distill-command.js';
import { trainCommand } from '../../src/cli/train-command.js';
import {
  DISTILL_RECIPE_KEYS,
  loadArtifacts,
  RECIPE_OPTION_KEYS,
  readKwsMetadata,
  recipeFromConfig,
  recipeTrial,
  writeRecipe,
} from '../../src/models/index.js';
import { noise, put, TempDirs, tone } from '../data/make-dataset.js';
import { runCli } from './run-cli.js';

const LABELS = 'yes,no,_silence_,_unknown_';
const dirs = new TempDirs();
let data = '';
let root = '';

/** yes/, no/, cat/ (unknown) with three speakers each, silence clips; no test list. */
function makeTinyCommands(dir: string): void {
  ['yes', 'no', 'cat'].forEach((word, w) => {
    for (let s = 1; s <= 3; s++)
      put(dir, `${word}/spk0000${s}_nohash_0.wav`, tone(300 + 250 * w + 20 * s, 1));
  });
  for (const n of [0, 1, 2]) put(dir, `_silence_/${n}.wav`, noise(16000, 50 + n));
  put(dir, '_background_noise_/hum.wav', noise(32000, 99));
  put(dir, 'validation_list.txt', ['yes/spk00003_nohash_0.wav', '_silence_/2.wav'].join('\n'));
}

/** A tuned configuration with a front end other than the default, SpecAugment and a sub-band count. */
const TUNED = {
  model: 'bc-resnet',
  width: 0.25,
  nMels: 48,
  hopLength: 320,
  fMax: 7000,
  eps: 1e-4,
  freqMasks: 1,
  freqMaskWidth: 3,
  timeMasks: 1,
  timeMaskWidth: 4,
  learningRate: 0.05,
  batchSize: 8,
  epochs: 1,
};

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  root = dirs.make('kws-cli-recipe-');
  data = join(root, 'data');
  makeTinyCommands(data);
});
afterAll(() => dirs.cleanup());

const noIo: CliIo = {
  stdout: { write: () => undefined },
  stderr: { write: () => undefined, isTTY: false },
  stdin: (async function* () {})(),
} as unknown as CliIo;

function optionNames(command: ReturnType<typeof trainCommand>): Set<string> {
  return new Set(command.options.map((o) => o.attributeName()));
}

describe('recipe keys shared by the tuner and the CLI', () => {
  it('train takes every recipe key but the distillation ones; distill takes every key', () => {
    const train = optionNames(trainCommand(noIo));
    const distill = optionNames(distillCommand(noIo));
    const asOption = (k: string, aliases: Record<string, string>): string => aliases[k] ?? k;
    for (const key of RECIPE_OPTION_KEYS) {
      expect(train.has(key), `train --${key}`).toBe(!DISTILL_RECIPE_KEYS.includes(key));
      expect(distill.has(asOption(key, { model: 'student' })), `distill ${key}`).toBe(true);
    }
    expect(DISTILL_RECIPE_KEYS).toEqual(['temperature', 'alpha']);
  });
});

describe('kws-kit train --recipe with a tuned front end', () => {
  it("trains on the recipe's features, records its front end in the model, and eval uses it", async () => {
    const recipe = recipeFromConfig(TUNED);
    expect(recipe.subBands).toBeDefined(); // chosen for 48 mels by the tuner's rule
    const path = join(root, 'best-recipe.json');
    await writeRecipe(path, recipe);
    const out = join(root, 'model');
    const run = await runCli([
      'train',
      '--recipe',
      path,
      '--data',
      data,
      '--out',
      out,
      '--labels',
      LABELS,
      '--backend',
      'wasm',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    const expected = recipeTrial(recipe);
    expect(expected.frontEnd).toMatchObject({ nMels: 48, hopLength: 320, fMax: 7000, eps: 1e-4 });
    expect(result.recipe.frontEnd).toEqual(expected.frontEnd);
    expect(result.recipe.specAugment).toEqual(expected.specAugment);
    expect(result.recipe).toMatchObject({ lr: 0.05, batchSize: 8, epochs: 1, subBands: recipe.subBands });

    const artifacts = await loadArtifacts(out);
    const metadata = readKwsMetadata(artifacts.userDefinedMetadata);
    expect(metadata?.frontEnd).toEqual(expected.frontEnd);
    const topology = artifacts.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } };
    // 1 s at hop 320 with centring: 51 frames of 48 mels.
    expect(topology.config.layers[0]?.config.batch_input_shape).toEqual([null, 51, 48]);

    const evaluated = await runCli(['eval', '--model', out, '--data', data, '--split', 'all', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const e = JSON.parse(evaluated.stdout);
    expect(e.labels).toEqual(LABELS.split(','));
    // Every clip of the folder: the 48-mel features fit the model (the default 40 would not).
    expect(e.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(12);

    // The distillation keys are refused by train, pointing to distill, which takes them.
    const kdPath = join(root, 'kd-recipe.json');
    await writeRecipe(kdPath, recipeFromConfig({ ...TUNED, temperature: 3, alpha: 0.25 }));
    const refused = await runCli(['train', '--recipe', kdPath, '--data', data, '--out', `${out}-kd`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /"alpha" is a distillation setting that kws-kit train does not use; .*kws-kit distill .*--recipe/,
    );

    const student = join(root, 'student');
    const distilled = await runCli([
      'distill',
      '--teacher',
      out,
      '--student',
      'bc-resnet',
      '--recipe',
      kdPath,
      '--data',
      data,
      '--out',
      student,
      '--backend',
      'wasm',
      '--json',
    ]);
    expect(distilled.code, distilled.stderr).toBe(0);
    const d = JSON.parse(distilled.stdout);
    expect(d.recipe).toMatchObject({ temperature: 3, alpha: 0.25, width: 0.25, subBands: recipe.subBands });
    expect(readKwsMetadata((await loadArtifacts(student)).userDefinedMetadata)?.frontEnd).toEqual(
      expected.frontEnd,
    );

    // A front end other than the teacher's cannot be distilled on.
    writeFileSync(kdPath, JSON.stringify({ ...recipe, nMels: 40, subBands: 5, temperature: 3 }));
    const mismatch = await runCli([
      ...['distill', '--teacher', out, '--student', 'bc-resnet', '--recipe', kdPath],
      ...['--data', data, '--out', `${student}-x`],
    ]);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/teacher's features/);
  }, 120_000);
});
