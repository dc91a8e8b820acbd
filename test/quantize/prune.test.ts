import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { bcResNet, crnn, loadModel, saveModel } from '../../src/models/index.js';
import { channelGroups } from '../../src/quantize/channel-groups.js';
import { axisL1, foldGates, topChannels } from '../../src/quantize/channel-importance.js';
import { expandChannels, type PruneReport, pruneModel, takeAlongAxis } from '../../src/quantize/prune.js';
import { train } from '../../src/train/index.js';
import { bandSplit, weightValues } from '../train/synthetic.js';
import { randomInputs, randomizeWeights } from './helpers.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const dir = mkdtempSync(join(tmpdir(), 'kws-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function predict(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Channels of a group the pruner removed. */
function removed(report: PruneReport, group: string): number[] {
  const g = report.groups.find((x) => x.name === group);
  if (g === undefined) throw new Error(`no group ${group}`);
  const kept = new Set(g.kept);
  return Array.from({ length: g.channelsBefore }, (_, i) => i).filter((c) => !kept.has(c));
}

/** Sets rows `rows` (first axis) of weight `short` of `layer` to zero. */
function zeroRows(model: tfl.LayersModel, layer: string, short: string, rows: readonly number[]): void {
  const l = model.getLayer(layer);
  const values = l.getWeights().map((w, i) => {
    const name = l.weights[i]?.originalName.split('/').pop();
    if (name !== short) return tf.clone(w);
    const data = (w.dataSync() as Float32Array).slice();
    const width = (w.shape[1] as number) ?? 1;
    for (const r of rows) data.fill(0, r * width, (r + 1) * width);
    return tf.tensor(data, w.shape);
  });
  l.setWeights(values);
  tf.dispose(values);
}

describe('helpers', () => {
  it('axisL1, foldGates, topChannels, takeAlongAxis and expandChannels on hand-computed values', () => {
    // [2, 3]: column sums of |w| are 5, 7, 9; row sums 6, 15.
    const w = new Float32Array([1, -2, 3, -4, 5, -6]);
    expect(Array.from(axisL1(w, [2, 3], 1))).toEqual([5, 7, 9]);
    expect(Array.from(axisL1(w, [2, 3], 0))).toEqual([6, 15]);
    // Gate-major columns [z0 z1 | r0 r1 | h0 h1].
    expect(Array.from(foldGates(new Float64Array([1, 2, 10, 20, 100, 200]), 3))).toEqual([111, 222]);
    expect(topChannels([0.5, 3, 1, 3, 0.1], 3)).toEqual([1, 2, 3]);
    expect(topChannels([1, 1, 1], 2)).toEqual([0, 1]);
    const t = takeAlongAxis(w, [2, 3], 1, [0, 2]);
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.values)).toEqual([1, 3, -4, -6]);
    expect(Array.from(takeAlongAxis(w, [2, 3], 0, [1]).values)).toEqual([-4, 5, -6]);
    expect(expandChannels([0, 2], 4, 3)).toEqual([0, 2, 4, 6, 8, 10]);
  });
});

describe('channel groups', () => {
  it('ties every BC-ResNet stage into one group across its residual and broadcast additions', () => {
    const model = bcResNet({ width: 0.5, inputShape: [12, 40], numClasses: 3 });
    const groups = channelGroups(model);
    expect(groups.map((g) => [g.name, g.size])).toEqual([
      ['stem_conv', 8],
      ['stage1_block1_pw_in', 4],
      ['stage2_block1_pw_in', 6],
      ['stage3_block1_pw_in', 8],
      ['stage4_block1_pw_in', 10],
      ['classifier_pw', 16],
    ]);
    const stage3 = groups[3];
    // Transition 1×1 conv + the 4 blocks' 1×1 convs; 4 × (freq conv, SSN, time conv, BN) + transition BN.
    expect(stage3?.producers).toEqual([
      'stage3_block1_pw_in',
      'stage3_block1_pw',
      'stage3_block2_pw',
      'stage3_block3_pw',
      'stage3_block4_pw',
    ]);
    expect(stage3?.members.length).toBe(17);
    expect(stage3?.members).toContain('stage3_block4_ssn');
    expect(stage3?.consumers).toEqual([
      'stage3_block1_pw',
      'stage3_block2_pw',
      'stage3_block3_pw',
      'stage3_block4_pw',
      'stage4_block1_pw_in',
    ]);
    model.dispose();
  });

  it('finds the CRNN conv filters and each GRU layer', () => {
    const model = crnn({
      inputShape: [20, 10],
      convChannels: 4,
      hiddenSize: 6,
      kernelSize: [4, 3],
      stride: [2, 1],
    });
    expect(channelGroups(model).map((g) => [g.name, g.size, g.consumers])).toEqual([
      ['crnn_conv', 4, ['crnn_gru_1']],
      ['crnn_gru_1', 6, ['crnn_gru_2']],
      ['crnn_gru_2', 6, ['crnn_attention', 'crnn_logits']],
    ]);
    model.dispose();
  });
});

describe('pruneModel: exactness against zeroed channels', () => {
  it('BC-ResNet-1: the smaller model equals the original with the removed channels cut off', () => {
    const tensors = tf.memory().numTensors;
    const model = bcResNet({ width: 1, inputShape: [12, 40], numClasses: 5, seed: 7, dropout: 0 });
    randomizeWeights(model, 11, 0.3);
    const x = randomInputs(2, [12, 40], 5);
    const original = predict(model, x);

    const { model: small, report } = pruneModel(model, { ratio: 0.5 });
    expect(report.groups.map((g) => [g.name, g.channelsBefore, g.channelsAfter])).toEqual([
      ['stem_conv', 16, 8],
      ['stage1_block1_pw_in', 8, 4],
      ['stage2_block1_pw_in', 12, 6],
      ['stage3_block1_pw_in', 16, 8],
      ['stage4_block1_pw_in', 20, 10],
      ['classifier_pw', 32, 16],
    ]);
    expect(small.getLayer('stage3_block2_ssn').getWeights()[0]?.shape).toEqual([5, 8]);
    expect(small.getLayer('stage4_block1_pw_in').getWeights()[0]?.shape).toEqual([8, 10]);
    expect(report.total.paramsAfter).toBe(small.countParams());
    expect(report.total.paramsAfter).toBeLessThan(report.total.paramsBefore / 2);
    expect(report.total.macsAfter).toBeLessThan(report.total.macsBefore / 2);
    const pruned = predict(small, x);

    // Reference: every kernel row through which a removed channel reaches another channel is zero.
    const consumers: [string, string[]][] = [
      ['stem_conv', ['stage1_block1_pw_in']],
      ['stage1_block1_pw_in', ['stage1_block1_pw', 'stage1_block2_pw', 'stage2_block1_pw_in']],
      ['stage2_block1_pw_in', ['stage2_block1_pw', 'stage2_block2_pw', 'stage3_block1_pw_in']],
      ['stage3_block1_pw_in', [1, 2, 3, 4].map((b) => `stage3_block${b}_pw`).concat('stage4_block1_pw_in')],
      ['stage4_block1_pw_in', [1, 2, 3, 4].map((b) => `stage4_block${b}_pw`).concat('classifier_pw')],
      ['classifier_pw', ['logits']],
    ];
    for (const [group, layers] of consumers) {
      for (const layer of layers) zeroRows(model, layer, 'kernel', removed(report, group));
    }
    const reference = predict(model, x);
    expect(maxAbsDiff(original, reference)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(pruned, reference)).toBeLessThan(1e-5);

    model.dispose();
    small.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('BC-ResNet with bn-scale keeps the channels of largest |γ|, and per-stage ratios', () => {
    const model = bcResNet({ width: 0.5, inputShape: [12, 40], numClasses: 3, seed: 2, dropout: 0 });
    randomizeWeights(model, 3, 0.4);
    const x = randomInputs(2, [12, 40], 6);
    const { model: small, report } = pruneModel(model, {
      criterion: 'bn-scale',
      perLayer: { stage2_block2_ssn: 0.5, stem_bn: 0.25 },
    });
    // Expected stage-2 ranking from the gammas by hand: Σ over its BN and SSN layers of |γ_c|
    // (SubSpectralNorm: mean over sub-bands).
    const names = [
      'stage2_block1_pw_in_bn',
      'stage2_block1_ssn',
      'stage2_block1_time_bn',
      'stage2_block2_ssn',
      'stage2_block2_time_bn',
    ];
    const score = new Array(6).fill(0);
    for (const name of names) {
      const gamma = model.getLayer(name).getWeights()[0] as tf.Tensor;
      const g = gamma.arraySync() as number[] | number[][];
      for (let c = 0; c < 6; c++) {
        score[c] += Array.isArray(g[0])
          ? (g as number[][]).reduce((s, row) => s + Math.abs(row[c] as number), 0) / g.length
          : Math.abs((g as number[])[c] as number);
      }
    }
    const byScore = [0, 1, 2, 3, 4, 5]
      .sort((a, b) => score[b] - score[a])
      .slice(0, 3)
      .sort((a, b) => a - b);
    const stage2 = report.groups.find((g) => g.name === 'stage2_block1_pw_in');
    expect(stage2?.kept).toEqual(byScore);
    for (let c = 0; c < 6; c++) expect(stage2?.importance?.[c]).toBeCloseTo(score[c], 5);
    expect(report.groups.map((g) => g.channelsAfter)).toEqual([6, 4, 3, 8, 10, 16]);
    expect(report.groups[1]?.importance).toBeNull();

    const pruned = predict(small, x);
    zeroRows(model, 'stage1_block1_pw_in', 'kernel', removed(report, 'stem_conv'));
    for (const layer of ['stage2_block1_pw', 'stage2_block2_pw', 'stage3_block1_pw_in']) {
      zeroRows(model, layer, 'kernel', removed(report, 'stage2_block1_pw_in'));
    }
    expect(maxAbsDiff(pruned, predict(model, x))).toBeLessThan(1e-5);
    model.dispose();
    small.dispose();
    x.dispose();
  });

  it('CRNN: conv filters and GRU units (z, r, h gate columns) match the zeroed reference', () => {
    const tensors = tf.memory().numTensors;
    const model = crnn({
      inputShape: [24, 12],
      convChannels: 6,
      kernelSize: [4, 3],
      stride: [2, 2],
      hiddenSize: 8,
      gruLayers: 2,
      numClasses: 4,
      seed: 3,
    });
    randomizeWeights(model, 9, 0.4);
    const x = randomInputs(3, [24, 12], 8);
    const original = predict(model, x);
    const { model: small, report } = pruneModel(model, {
      perLayer: { crnn_conv: 0.5, crnn_gru_1: 0.25, crnn_gru_2: 0.5 },
    });
    expect(report.groups.map((g) => [g.name, g.channelsAfter])).toEqual([
      ['crnn_conv', 3],
      ['crnn_gru_1', 6],
      ['crnn_gru_2', 4],
    ]);
    expect(
      small
        .getLayer('crnn_gru_1')
        .getWeights()
        .map((w) => w.shape),
    ).toEqual([[5 * 3, 18], [6, 18], [18]]);
    const pruned = predict(small, x);

    // conv → GRU 1 input rows are mel-major: row m·C + c carries filter c at mel bin m.
    const convMels = 5;
    const conv = removed(report, 'crnn_conv');
    const rows = [];
    for (let m = 0; m < convMels; m++) for (const c of conv) rows.push(m * 6 + c);
    zeroRows(model, 'crnn_gru_1', 'kernel', rows);
    const gru1 = removed(report, 'crnn_gru_1');
    zeroRows(model, 'crnn_gru_1', 'recurrent_kernel', gru1);
    zeroRows(model, 'crnn_gru_2', 'kernel', gru1);
    const gru2 = removed(report, 'crnn_gru_2');
    zeroRows(model, 'crnn_gru_2', 'recurrent_kernel', gru2);
    zeroRows(model, 'crnn_attention', 'kernel', gru2);
    zeroRows(model, 'crnn_logits', 'kernel', gru2);
    const reference = predict(model, x);
    expect(maxAbsDiff(original, reference)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(pruned, reference)).toBeLessThan(1e-5);

    model.dispose();
    small.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('ratio 0 gives the same outputs and channel counts', () => {
    const model = crnn({
      inputShape: [16, 10],
      convChannels: 3,
      hiddenSize: 5,
      kernelSize: [4, 3],
      stride: [2, 1],
    });
    randomizeWeights(model, 4, 0.4);
    const x = randomInputs(2, [16, 10], 1);
    const { model: same, report } = pruneModel(model, { ratio: 0 });
    expect(Array.from(predict(same, x))).toEqual(Array.from(predict(model, x)));
    expect(report.total.paramsAfter).toBe(report.total.paramsBefore);
    expect(report.groups.every((g) => g.channelsAfter === g.channelsBefore)).toBe(true);
    model.dispose();
    same.dispose();
    x.dispose();
  });
});

describe('pruneModel: sizes, files and fine-tuning', () => {
  // Input 10 frames × 8 mels, 4×3 kernel, stride [2, 1]: T' = 4 steps, M' = 6 bins.
  const simple = () =>
    crnn({
      inputShape: [10, 8],
      convChannels: 4,
      kernelSize: [4, 3],
      stride: [2, 1],
      hiddenSize: 6,
      gruLayers: 1,
      attentionSize: 5,
      numClasses: 3,
      dropout: 0,
    });

  it('parameters and MACs match hand-computed counts', () => {
    const model = simple();
    const { model: small, report } = pruneModel(model, { perLayer: { crnn_conv: 0.5, crnn_gru_1: 0.5 } });
    // Before (C = 4, H = 6; GRU input M'·C = 24): conv 4·3·4 + 4 = 52; GRU 3·6·24 + 3·6·6 + 3·6 =
    // 558; attention 6·5 + 5 + 5 + 1 = 41; logits 6·3 + 3 = 21.
    // After (C = 2, H = 3; input 12): conv 26; GRU 108 + 27 + 9 = 144; attention 15 + 11 = 26; logits 12.
    // MACs: conv T'·M'·12·C, GRU T'·3·(in·H + H·H), attention T'·H·A + T'·A + T'·H, logits H·3.
    expect(report.total).toEqual({
      paramsBefore: 52 + 558 + 41 + 21,
      paramsAfter: 26 + 144 + 26 + 12,
      macsBefore: 24 * 12 * 4 + 4 * 3 * (24 * 6 + 36) + (4 * 6 * 5 + 20 + 24) + 18,
      macsAfter: 24 * 12 * 2 + 4 * 3 * (12 * 3 + 9) + (4 * 3 * 5 + 20 + 12) + 9,
    });
    const [conv, gru] = report.groups;
    expect(conv).toMatchObject({
      layers: ['crnn_conv', 'crnn_gru_1'],
      paramsBefore: 52 + 558,
      paramsAfter: 26 + 144,
    });
    expect(gru).toMatchObject({
      layers: ['crnn_gru_1', 'crnn_attention', 'crnn_logits'],
      channelsBefore: 6,
      channelsAfter: 3,
      paramsAfter: 144 + 26 + 12,
      macsAfter: 4 * 3 * 45 + 92 + 9,
    });
    model.dispose();
    small.dispose();
  });

  it('ranks by filter L1 norm', () => {
    const input = tfl.input({ shape: [4] });
    const hidden = tfl.layers.dense({ units: 4, name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(hidden) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    // Column L1 norms 4, 0.4, 8, 2 (rows of ±1, ±0.1, 2, 0.5): keep units 0 and 2.
    const col = [1, -0.1, 2, 0.5];
    const kernel = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => col[i % 4] as number),
      [4, 4],
    );
    model.getLayer('hidden').setWeights([kernel, tf.zeros([4])]);
    const { model: small, report } = pruneModel(model, { ratio: 0.5 });
    expect(report.groups[0]?.kept).toEqual([0, 2]);
    expect(small.getLayer('out').getWeights()[0]?.shape).toEqual([2, 2]);
    tf.dispose(kernel);
    model.dispose();
    small.dispose();
  });

  it('a pruned BC-ResNet saves and loads with saveModel/loadModel', async () => {
    const model = bcResNet({ width: 0.5, inputShape: [12, 40], numClasses: 3, seed: 1 });
    randomizeWeights(model, 2, 0.3);
    const { model: small } = pruneModel(model, { ratio: 0.4 });
    const x = randomInputs(2, [12, 40], 3);
    await saveModel(small, join(dir, 'bc'));
    const loaded = await loadModel(join(dir, 'bc'));
    expect(loaded.countParams()).toBe(small.countParams());
    expect(Array.from(predict(loaded, x))).toEqual(Array.from(predict(small, x)));
    for (const m of [model, small, loaded]) m.dispose();
    x.dispose();
  });

  it('a pruned CRNN fine-tunes with train() on tiny generated data', async () => {
    const model = crnn({
      inputShape: [6, 9],
      convChannels: 4,
      kernelSize: [2, 3],
      stride: [1, 1],
      hiddenSize: 6,
      numClasses: 3,
    });
    const { model: small } = pruneModel(model, { ratio: 0.5 });
    const before = weightValues(small);
    const result = await train(small, {
      train: bandSplit(16, 1),
      epochs: 1,
      batchSize: 8,
      optimizer: 'adam',
      learningRate: 0.01,
      schedule: { warmupEpochs: 0 },
      logger: 'silent',
    });
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]?.loss)).toBe(true);
    expect(weightValues(small)).not.toEqual(before);
    model.dispose();
    small.dispose();
  });
});

describe('pruneModel: bad input', () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof KwsError) return e.code;
      throw e;
    }
    return 'no error';
  };

  it('rejects ratios outside [0, 1), empty groups, unknown criteria and keys, unsupported models', () => {
    const model = crnn({
      inputShape: [12, 8],
      convChannels: 2,
      hiddenSize: 4,
      kernelSize: [4, 3],
      stride: [2, 1],
    });
    for (const ratio of [-0.1, 1, 1.5, Number.NaN, '0.5']) {
      expect(code(() => pruneModel(model, { ratio: ratio as number }))).toBe('INVALID_ARGUMENT');
    }
    expect(code(() => pruneModel(model, {}))).toBe('INVALID_ARGUMENT');
    expect(code(() => pruneModel(model, { ratio: 0.5, criterion: 'l2' as 'l1' }))).toBe('INVALID_ARGUMENT');
    expect(code(() => pruneModel(model, { perLayer: { nope: 0.5 } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => pruneModel(model, { perLayer: { crnn_gru_1: 1 } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => pruneModel(model, { ratio: 0.5, extra: 1 } as never))).toBe('INVALID_ARGUMENT');
    // No batch norm in a CRNN: network slimming has nothing to rank by.
    expect(code(() => pruneModel(model, { ratio: 0.5, criterion: 'bn-scale' }))).toBe('INVALID_ARGUMENT');
    expect(code(() => pruneModel({} as tfl.LayersModel, { ratio: 0.5 }))).toBe('INVALID_ARGUMENT');
    model.dispose();

    // A 1-unit hidden layer pruned by half would keep no channel.
    const tiny = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 1 }), tfl.layers.dense({ units: 2 })],
    });
    expect(code(() => pruneModel(tiny, { ratio: 0.5 }))).toBe('INVALID_ARGUMENT');
    const ok = pruneModel(tiny, { ratio: 0.4 });
    expect(ok.report.groups[0]?.channelsAfter).toBe(1);
    ok.model.dispose();
    tiny.dispose();

    // Bidirectional GRUs are not supported: nothing in this CRNN can be pruned.
    const bi = crnn({
      inputShape: [12, 8],
      convChannels: 2,
      hiddenSize: 4,
      kernelSize: [4, 3],
      bidirectional: true,
    });
    expect(code(() => pruneModel(bi, { ratio: 0.5 }))).toBe('MODEL_INVALID');
    bi.dispose();
  });
});
