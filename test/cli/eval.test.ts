import '@tensorflow/tfjs-backend-cpu';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../src/cli/eval.js';
import { main } from '../../src/cli/main.js';
import { loadSpeechCommands } from '../../src/data/index.js';
import { bcResNet, kwsMetadata, loadModel, saveModel } from '../../src/models/index.js';
import { evaluate } from '../../src/train/index.js';
import { makeSmallDataset, TempDirs } from '../data/make-dataset.js';

const dirs = new TempDirs();
let dataDir = '';
let modelDir = '';
let bareModelDir = '';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  dataDir = dirs.make('kws-cli-data-');
  makeSmallDataset(dataDir);
  const model = bcResNet({ width: 0.25, numClasses: 12, inputShape: [101, 40], seed: 3 });
  modelDir = join(dirs.make('kws-cli-model-'), 'm');
  bareModelDir = join(dirs.make('kws-cli-bare-'), 'm');
  const labels = [
    'yes',
    'no',
    'up',
    'down',
    'left',
    'right',
    'on',
    'off',
    'stop',
    'go',
    '_silence_',
    '_unknown_',
  ];
  await saveModel(model, modelDir, { metadata: kwsMetadata(labels) });
  await saveModel(model, bareModelDir);
  model.dispose();
});
afterAll(() => dirs.cleanup());

describe('kws-kit eval', () => {
  it('evaluates the test list when it names clips, with the same numbers as evaluate()', async () => {
    const result = await runEval({ model: modelDir, data: dataDir });
    expect(result.split).toBe('test');
    expect(result.clips).toBe(2);
    const data = await loadSpeechCommands(dataDir, { labels: 'v2-12', splits: ['test'] });
    const model = await loadModel(modelDir);
    const direct = evaluate(model, data.splits.test!);
    model.dispose();
    expect(result.accuracy).toBe(direct.accuracy);
    expect(result.confusion).toEqual(direct.confusion);
    expect(result.labels).toEqual(direct.labels);
  });

  it('evaluates every clip with --split all, and uses v2-12 when the model has no metadata', async () => {
    const all = await runEval({ model: bareModelDir, data: dataDir, split: 'all' });
    // 12 words × 2 speakers + 2 silence clips; background noise is not a label.
    expect(all.clips).toBe(26);
    expect(all.confusion.flat().reduce((a, b) => a + b, 0)).toBe(26);
    expect(all.labels).toHaveLength(12);
    const rowSums = all.confusion.map((row) => row.reduce((a, b) => a + b, 0));
    expect(rowSums[10]).toBe(2); // _silence_
    expect(rowSums[11]).toBe(4); // cat, dog → _unknown_
  });

  it('main() prints the JSON the issue names and returns exit codes that mean something', async () => {
    const writes: string[] = [];
    const errors: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => writes.push(s) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write;
    let ok: number;
    let missing: number;
    let badOption: number;
    try {
      ok = await main(['eval', '--model', modelDir, '--data', dataDir, '--json', '--backend', 'cpu']);
      missing = await main([
        'eval',
        '--model',
        join(modelDir, 'nope'),
        '--data',
        dataDir,
        '--backend',
        'cpu',
      ]);
      badOption = await main(['eval', '--model', modelDir, '--data', dataDir, '--split', 'bogus']);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    expect(ok).toBe(0);
    const printed = JSON.parse(writes.join(''));
    expect(Object.keys(printed).sort()).toEqual(['accuracy', 'confusion', 'labels', 'perClass']);
    expect(printed.perClass[0]).toMatchObject({ label: 'yes' });
    expect(missing).toBe(3);
    expect(errors.join('')).toMatch(/NOT_FOUND/);
    expect(badOption).toBe(2);
  });

  it('runs as a process: --help exits 0, a data folder in the wrong layout exits 3 with a clear message', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx/esm', 'src/cli/bin.ts', ...args], {
        encoding: 'utf8',
        cwd: join(__dirname, '../..'),
      });
    const help = run(['eval', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--model/);
    const wrong = run(['eval', '--model', modelDir, '--data', join(dataDir, 'yes'), '--backend', 'cpu']);
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toMatch(/kws-kit: .*\[(DATASET_INVALID|NOT_FOUND)\]/);
  });
});
