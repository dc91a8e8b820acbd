import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcResNet } from '../../src/models/bc-resnet.js';
import { profile } from '../../src/models/profile.js';
import {
  readRecipe,
  recipeConfig,
  recipeFromConfig,
  recipeTrial,
  writeRecipe,
} from '../../src/models/tune/recipe.js';
import { choiceParam, type TrialConfig } from '../../src/models/tune/search-space.js';
import { measureTrial } from '../../src/models/tune/trial-config.js';
import {
  markParetoFronts,
  type ReportTrial,
  tuneMarkdown,
  tuneParetoSvg,
  tuneTable,
} from '../../src/models/tune/tune-report.js';
import { tune } from '../../src/models/tune.js';

const dir = mkdtempSync(join(tmpdir(), 'kws-tune-report-'));

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function realParams(width: number): { params: number; macs: number } {
  const model = bcResNet({ width, numClasses: 12 });
  try {
    const { total } = profile(model);
    return { params: total.params, macs: total.macs };
  } finally {
    model.dispose();
  }
}

describe('constraints', () => {
  it('prunes by the real profile numbers and never trains a configuration above maxParams', async () => {
    const small = realParams(0.25);
    const large = realParams(1.5);
    expect(small.params).toBeLessThan(large.params);
    const maxParams = Math.round((small.params + large.params) / 2);
    const trained: TrialConfig[] = [];
    const before = tf.memory().numTensors;
    const result = await tune({
      space: { width: choiceParam([0.25, 1.5]) },
      base: { model: 'bc-resnet' },
      strategy: 'random',
      budget: { trials: 2 },
      constraints: { maxParams },
      objective: (config) => {
        trained.push(config);
        return { accuracy: 0.5 };
      },
      seed: 2,
      logger: 'silent',
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(trained.length).toBe(2);
    expect(trained.every((c) => c.width === 0.25)).toBe(true);
    const pruned = result.trials.filter((t) => t.status === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) {
      expect(t.config.width).toBe(1.5);
      expect(t.params).toBe(large.params);
      expect(t.macs).toBe(large.macs);
      expect(t.bytes).toBe(4 * large.params);
      expect(t.reason).toBe(`params ${large.params} > maxParams ${maxParams}`);
      expect(t.epochs).toBe(0);
      expect(t.accuracy).toBeNull();
    }
    for (const t of result.trials.filter((t) => t.status === 'ok')) expect(t.params).toBe(small.params);
  });

  it('records a configuration whose model cannot be built as invalid, not trained', async () => {
    let calls = 0;
    const result = await tune({
      space: { nMels: choiceParam([24]) },
      base: { model: 'bc-resnet', width: 0.25 },
      strategy: 'random',
      budget: { trials: 1 },
      maxSamples: 2,
      objective: () => {
        calls++;
        return { accuracy: 1 };
      },
      logger: 'silent',
    });
    expect(calls).toBe(0);
    expect(result.trials.map((t) => t.status)).toEqual(['invalid', 'invalid']);
    expect(result.trials[0]?.reason).toMatch(/INVALID_ARGUMENT: .*at least 33/);
    expect(result.best).toBeNull();
  });
});

describe('report', () => {
  const trial = (
    id: string,
    accuracy: number | null,
    params: number,
    macs: number,
    status: ReportTrial['status'] = 'ok',
  ) =>
    ({
      id,
      config: { width: params / 1000, model: 'bc-resnet' },
      status,
      epochs: status === 'ok' ? 3 : 0,
      accuracy,
      params,
      macs,
      bytes: 4 * params,
      seconds: 1,
      front: { params: false, macs: false, bytes: false },
    }) satisfies ReportTrial;

  it('marks the Pareto fronts of accuracy against params, MACs and bytes', () => {
    const trials: ReportTrial[] = [
      trial('t0', 0.8, 1000, 5e5),
      trial('t1', 0.85, 2000, 4e5), // cheaper in MACs than t0 and better: t0 is off the MACs front
      trial('t2', 0.7, 3000, 6e5), // dominated everywhere
      trial('t3', 0.9, 4000, 9e5),
      trial('t4', null, 10, 10, 'pruned'),
    ];
    markParetoFronts(trials);
    expect(trials.map((t) => t.front.params)).toEqual([true, true, false, true, false]);
    expect(trials.map((t) => t.front.macs)).toEqual([false, true, false, true, false]);
    expect(trials.map((t) => t.front.bytes)).toEqual(trials.map((t) => t.front.params));
    expect(tuneTable(trials)[1]).toMatchObject({ id: 't1', front: ['params', 'macs', 'bytes'], bytes: 8000 });

    const md = tuneMarkdown(trials);
    expect(md).toContain('Fixed in every trial: model = bc-resnet.');
    const rows = md.trim().split('\n').slice(4);
    expect(rows[0]).toBe('| t3 | ok | 3 | 90.00% | 4000 | 0.900 M | 16000 | PMB | 4 |');
    expect(rows[4]).toMatch(/^\| t4 \| pruned \| 0 \| {2}\|/);

    const svg = tuneParetoSvg(trials, {
      reference: [{ label: 'BC-ResNet-1', macs: 2.48e6, accuracy: 0.856 }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['t1', 't3', 'BC-ResNet-1']) expect(svg).toContain(label);
    expect(svg).not.toContain('>t2<');
  });
});

describe('recipe', () => {
  it("writes the best configuration with the train command's option names and reads it back", async () => {
    const config: TrialConfig = {
      model: 'bc-resnet',
      width: 0.5,
      nMels: 48,
      winLength: 640,
      learningRate: 0.05,
      weightDecay: 1e-3,
      batchSize: 64,
      timeShiftMs: 100,
      noiseProbability: 0.8,
      freqMasks: 2,
      freqMaskWidth: 6,
      temperature: 3,
      alpha: 0.4,
    };
    const recipe = recipeFromConfig(config, { epochs: 9 });
    expect(recipe).toEqual({
      alpha: 0.4,
      batchSize: 64,
      epochs: 9,
      freqMaskWidth: 6,
      freqMasks: 2,
      lr: 0.05,
      model: 'bc-resnet',
      nMels: 48,
      noiseProbability: 0.8,
      // 48 mels give 24, 12 and 6 bins per stage: 3 is the largest sub-band count ≤ 5 dividing all.
      subBands: 3,
      temperature: 3,
      timeShiftMs: 100,
      warmupEpochs: 0.9,
      weightDecay: 1e-3,
      width: 0.5,
      winLength: 640,
    });
    const path = join(dir, 'sub', 'recipe.json');
    await writeRecipe(path, recipe);
    const back = await readRecipe(path);
    expect(back).toEqual(recipe);
    expect(recipeConfig(back)).toMatchObject({ learningRate: 0.05, epochs: 9 });
    const pieces = recipeTrial(back);
    expect(pieces.frontEnd).toMatchObject({ nMels: 48, winLength: 640, nFft: 640, hopLength: 160 });
    expect(pieces.specAugment).toEqual({ freqMasks: 2, freqMaskWidth: 6, timeMasks: 0, maskValue: 'mean' });
    expect(pieces.recipe).toMatchObject({ learningRate: 0.05, batchSize: 64, temperature: 3, alpha: 0.4 });
    const model = bcResNet({ ...(pieces.model as object), numClasses: 12, inputShape: [101, 48] });
    try {
      expect(profile(model).total.params).toBe(
        measureTrial(config, { numClasses: 12, clipSamples: 16000 }).params,
      );
    } finally {
      model.dispose();
    }
    await expect(readRecipe(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    writeFileSync(join(dir, 'bad.json'), '{"widht": 1}');
    await expect(readRecipe(join(dir, 'bad.json'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/unknown option "widht"/),
    });
  });
});
