import '@tensorflow/tfjs-backend-cpu';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArtifacts, loadModel, readKwsMetadata } from '../../src/models/index.js';
import { noise, put, TempDirs, tone } from '../data/make-dataset.js';
import { runCli } from './run-cli.js';

const LABELS = 'yes,no,_silence_,_unknown_';
const dirs = new TempDirs();
let data = '';
let out = '';

/** yes/, no/ and cat/ (an unknown word), three speakers of 1 s clips each, and silence clips. */
function makeTinyCommands(root: string): void {
  ['yes', 'no', 'cat'].forEach((word, w) => {
    for (let s = 1; s <= 3; s++) {
      const clip = tone(300 + 250 * w + 20 * s, 1);
      const hum = noise(16000, 10 * w + s);
      put(
        root,
        `${word}/spk0000${s}_nohash_0.wav`,
        clip.map((v, i) => v + (hum[i] as number)),
      );
    }
  });
  for (const n of [0, 1, 2]) put(root, `_silence_/${n}.wav`, noise(16000, 50 + n));
  put(root, '_background_noise_/hum.wav', noise(32000, 99));
  put(
    root,
    'validation_list.txt',
    ['yes', 'no', 'cat']
      .map((w) => `${w}/spk00003_nohash_0.wav`)
      .concat('_silence_/2.wav')
      .join('\n'),
  );
}

// wasm trains BC-ResNet many times faster than cpu (the library registers its gradient kernels).
const BACKEND = 'wasm';
const fast = [
  '--labels',
  LABELS,
  '--width',
  '0.25',
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--backend',
  BACKEND,
];

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  data = dirs.make('kws-cli-train-data-');
  makeTinyCommands(data);
  out = join(dirs.make('kws-cli-train-out-'), 'model');
});
afterAll(() => dirs.cleanup());

describe('kws-kit train', () => {
  it('trains on a Speech Commands folder and saves a model loadModel reads, with its labels', async () => {
    const run = await runCli(['train', '--data', data, '--out', out, ...fast, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.labels).toEqual(LABELS.split(','));
    expect(result.epochs).toBe(1);
    expect(result.examples.validation).toBe(4);
    expect(result.recipe).toMatchObject({
      model: 'bc-resnet',
      width: 0.25,
      epochs: 1,
      batchSize: 8,
      seed: 0,
    });
    // Not a terminal: one JSON line per epoch on stderr, stdout keeps only the result.
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ type: 'epoch', epoch: 1, epochs: 1 });

    const model = await loadModel(out);
    expect(model.outputs[0]?.shape).toEqual([null, 4]);
    model.dispose();
    const metadata = readKwsMetadata((await loadArtifacts(out)).userDefinedMetadata);
    expect(metadata?.labels).toEqual(LABELS.split(','));
    expect(metadata?.info).toMatchObject({ recipe: { model: 'bc-resnet' } });
  });

  it('reads a --recipe file (tuner names too) with command-line flags overriding it; a bar on a terminal', async () => {
    const recipe = join(data, '..', 'recipe.json');
    writeFileSync(
      recipe,
      JSON.stringify({
        model: 'bc-resnet',
        width: 0.25,
        epochs: 1,
        batchSize: 8,
        learningRate: 0.05,
        seed: 3,
        augment: false,
      }),
    );
    const run = await runCli(
      [
        'train',
        '--recipe',
        recipe,
        '--data',
        data,
        '--out',
        `${out}-r`,
        '--labels',
        LABELS,
        '--seed',
        '4',
        '--backend',
        BACKEND,
      ],
      undefined,
      { tty: true },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/epoch 1\/1 \[/);
    expect(run.stdout).toMatch(/^saved .*model-r\n/);
    const info = readKwsMetadata((await loadArtifacts(`${out}-r`)).userDefinedMetadata)?.info;
    expect(info?.recipe).toMatchObject({
      width: 0.25,
      epochs: 1,
      batchSize: 8,
      lr: 0.05,
      seed: 4,
      augment: false,
    });

    writeFileSync(recipe, JSON.stringify({ epochs: 1, colour: 'blue' }));
    const unknown = await runCli(['train', '--recipe', recipe, '--data', data, '--out', `${out}-x`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option "colour"; allowed: data, out, model/);
    writeFileSync(recipe, JSON.stringify({ epochs: 0 }));
    const badValue = await runCli(['train', '--recipe', recipe, '--data', data, '--out', `${out}-x`]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(
      /epochs \(--epochs\): must be an integer >= 1; got 0 \[INVALID_ARGUMENT\]/,
    );
  });

  it('distills the trained model into a student with the same labels', async () => {
    const student = join(data, '..', 'student');
    const run = await runCli([
      'distill',
      '--teacher',
      out,
      '--student',
      'bc-resnet',
      '--width',
      '0.25',
      '--data',
      data,
      '--out',
      student,
      '--epochs',
      '1',
      '--batch-size',
      '8',
      '--temperature',
      '2',
      '--alpha',
      '0.3',
      '--backend',
      BACKEND,
      '--quiet',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.labels).toEqual(LABELS.split(','));
    expect(result.recipe).toMatchObject({ temperature: 2, alpha: 0.3, loss: 'mixed', student: 'bc-resnet' });
    const model = await loadModel(student);
    expect(model.outputs[0]?.shape).toEqual([null, 4]);
    model.dispose();
  });

  it('exit codes: 2 for bad or missing options, 3 for a missing folder or one in the wrong layout', async () => {
    const noOut = await runCli(['train', '--data', data]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out <dir> is required/);
    const crnnWidth = await runCli([
      'train',
      '--data',
      data,
      '--out',
      `${out}-x`,
      '--model',
      'crnn',
      '--width',
      '2',
    ]);
    expect(crnnWidth.code).toBe(2);
    expect(crnnWidth.stderr).toMatch(/--width and --causal apply to --model bc-resnet/);
    const resume = await runCli(['train', '--data', data, '--out', `${out}-x`, '--resume']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/--resume needs --checkpoint-dir/);
    const badOptimizer = await runCli(['train', '--data', data, '--out', `${out}-x`, '--optimizer', 'lion']);
    expect(badOptimizer.code).toBe(2);
    const badEngine = await runCli(['train', '--data', data, '--out', `${out}-x`, '--engine', 'turbo']);
    expect(badEngine.code).toBe(2);
    expect(badEngine.stderr).toMatch(/auto, compiled, tfjs/);
    const crnnCompiled = await runCli([
      'train',
      '--data',
      data,
      '--out',
      `${out}-x`,
      ...fast.filter((a, i, all) => a !== '--width' && all[i - 1] !== '--width'),
      '--model',
      'crnn',
      '--engine',
      'compiled',
    ]);
    expect(crnnCompiled.code).toBe(3);
    expect(crnnCompiled.stderr).toMatch(/engine 'compiled' cannot train this model.*\[MODEL_INVALID\]/);

    const missing = await runCli(['train', '--data', join(data, 'nope'), '--out', `${out}-x`, ...fast]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope.*\[(NOT_FOUND|DATASET_INVALID)\]/);
    const wrongLayout = await runCli(['train', '--data', join(data, 'yes'), '--out', `${out}-x`, ...fast]);
    expect(wrongLayout.code).toBe(3);
    expect(wrongLayout.stderr).toMatch(/kws-kit: .*\[DATASET_INVALID\]/);
    const noRecipe = await runCli([
      'train',
      '--recipe',
      join(data, 'none.json'),
      '--data',
      data,
      '--out',
      `${out}-x`,
    ]);
    expect(noRecipe.code).toBe(3);
    expect(noRecipe.stderr).toMatch(/recipe file .*none\.json does not exist.*\[NOT_FOUND\]/);
  });
});
