import '@tensorflow/tfjs-backend-cpu';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bcResNet,
  kwsMetadata,
  listPretrained,
  loadArtifacts,
  loadModel,
  loadPretrained,
  profile,
  readKwsMetadata,
  saveModel,
} from '../../src/models/index.js';
import { makeSmallDataset, TempDirs } from '../data/make-dataset.js';
import { runCli } from './run-cli.js';

const LABELS = [
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
const dirs = new TempDirs();
let root = '';
let modelDir = '';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  root = dirs.make('kws-cli-quant-');
  modelDir = join(root, 'model');
  const model = bcResNet({ width: 0.5, numClasses: 12, inputShape: [101, 40], seed: 5 });
  await saveModel(model, modelDir, { metadata: kwsMetadata(LABELS) });
  model.dispose();
});
afterAll(() => dirs.cleanup());

function filesIn(dir: string): { path: string; bytes: number }[] {
  return readdirSync(dir)
    .map((f) => ({ path: join(dir, f), bytes: statSync(join(dir, f)).size }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

describe('kws-kit profile', () => {
  it('--json prints exactly profile() of the loaded model (folder or pretrained name); the table otherwise', async () => {
    const run = await runCli(['profile', '--model', modelDir, '--json', '--backend', 'cpu']);
    expect(run.code, run.stderr).toBe(0);
    const model = await loadModel(modelDir);
    const expected = profile(model);
    model.dispose();
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(JSON.parse(run.stdout).total.params).toBe(expected.total.params);

    const [name] = listPretrained();
    if (name !== undefined) {
      const byName = await runCli(['profile', '--model', name, '--json', '--backend', 'cpu']);
      expect(byName.code, byName.stderr).toBe(0);
      const pretrained = await loadPretrained(name);
      expect(JSON.parse(byName.stdout)).toEqual(JSON.parse(JSON.stringify(profile(pretrained))));
      pretrained.dispose();
    }

    const table = await runCli(['profile', '--model', modelDir, '--backend', 'cpu']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(expected.total.params.toLocaleString('en-US'));
  });
});

describe('kws-kit quantize', () => {
  it('writes a model loadModel reads, whose size on disk is what the report says, labels kept', async () => {
    for (const scheme of ['uint8-affine', 'int8-per-channel', 'float16']) {
      const out = join(root, `q-${scheme}`);
      const run = await runCli([
        'quantize',
        '--model',
        modelDir,
        '--scheme',
        scheme,
        '--out',
        out,
        '--json',
        '--backend',
        'cpu',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      const onDisk = filesIn(out);
      expect(report.bytesOnDisk).toBe(onDisk.reduce((a, f) => a + f.bytes, 0));
      expect([...report.files].sort((a, b) => a.path.localeCompare(b.path))).toEqual(onDisk);
      expect(report.modelJsonBytes + report.weightBytes).toBe(report.bytesOnDisk);
      expect(report.floatWeightBytes / report.weightBytes).toBeCloseTo(report.sizeRatio, 10);
      expect(report.sizeRatio).toBeGreaterThan(1.2);
      expect(report.totals.bytesAfter).toBeLessThan(report.totals.bytesBefore);
      expect(report.scheme).toBe(scheme);
      expect(report.sqnr).toBeNull();
      const loaded = await loadModel(out);
      expect(loaded.outputs[0]?.shape).toEqual([null, 12]);
      loaded.dispose();
      expect(readKwsMetadata((await loadArtifacts(out)).userDefinedMetadata)?.labels).toEqual(LABELS);
    }
  });

  it('with --calibration reports the per-layer SQNR; prints the markdown report without --json', async () => {
    const data = dirs.make('kws-cli-calib-');
    makeSmallDataset(data);
    const out = join(root, 'q-calibrated');
    const before = tf.memory().numTensors;
    const run = await runCli([
      'quantize',
      '--model',
      modelDir,
      '--scheme',
      'int8-per-tensor',
      '--out',
      out,
      '--calibration',
      data,
      '--calibration-clips',
      '3',
      '--backend',
      'cpu',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(run.stdout).toMatch(/^## Quantization report/);
    expect(run.stdout).toMatch(/On disk \(.*q-calibrated\)/);
    expect(run.stdout).toMatch(/### Layer SQNR \(3 examples\)/);
  });

  it('exit codes: 2 for a bad scheme or a missing option, 3 for a missing model', async () => {
    const bad = await runCli(['quantize', '--model', modelDir, '--scheme', 'int4', '--out', join(root, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'int4' is invalid. Allowed choices are float16, int8-per-channel/);
    const noScheme = await runCli(['quantize', '--model', modelDir, '--out', join(root, 'x')]);
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toMatch(/required option '-s, --scheme <scheme>' not specified/);
    const missing = await runCli([
      'quantize',
      '--model',
      join(root, 'none'),
      '--scheme',
      'float16',
      '--out',
      join(root, 'x'),
      '--backend',
      'cpu',
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(
      /no model folder or model\.json at .*none, and no pretrained model of that name.*\[NOT_FOUND\]/,
    );
  });
});
