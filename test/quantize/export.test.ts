import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { loadModel, registerKwsLayers, saveModel } from '../../src/models/index.js';
import { exportQuantized, formatQuantReport, quantizeWeights } from '../../src/quantize/index.js';
import {
  BC_FRAMES,
  CRNN_INPUT,
  mlp,
  predictData,
  randomInputs,
  readModelFolder,
  smallBcResNet,
  smallCrnn,
} from './helpers.js';

let root = '';
let counter = 0;
const newDir = (): string => join(root, `m${counter++}`);

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'kws-quant-export-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function floatShardBytes(model: tfl.LayersModel): Promise<number> {
  const info = await saveModel(model, newDir());
  return info.shards.reduce((s, f) => s + statSync(f.path).size, 0);
}

/** The float model with its weights replaced by in-memory dequantized values. */
async function withWeights(
  model: tfl.LayersModel,
  values: Map<string, Float32Array>,
): Promise<tfl.LayersModel> {
  const dir = newDir();
  await saveModel(model, dir);
  const copy = await loadModel(dir);
  const tensors = copy.weights.map((w) =>
    tf.tensor(values.get(w.originalName) as Float32Array, w.shape as number[]),
  );
  copy.setWeights(tensors);
  tf.dispose(tensors);
  return copy;
}

describe('exportQuantized', () => {
  it('writes files ~2× (float16) and ~4× (uint8) smaller than float32, measured on disk', async () => {
    const model = mlp();
    const floatBytes = await floatShardBytes(model);
    expect(floatBytes).toBe(3589 * 4);
    const sizes: Record<string, number> = {};
    for (const scheme of ['float16', 'uint8-affine', 'int8-per-tensor', 'int8-per-channel'] as const) {
      const out = await exportQuantized(model, newDir(), { scheme, keepFloatAs: 'float16' });
      const onDisk = out.files.slice(1).reduce((s, f) => s + statSync(f.path).size, 0);
      expect(out.weightBytes).toBe(onDisk);
      expect(out.files[0]?.bytes).toBe(statSync(join(out.dir, 'model.json')).size);
      expect(out.bytesOnDisk).toBe(out.modelJsonBytes + out.weightBytes);
      expect(out.floatWeightBytes).toBe(floatBytes);
      expect(out.sizeRatio).toBeCloseTo(floatBytes / onDisk, 12);
      sizes[scheme] = out.sizeRatio;
    }
    // fp16: every weight 2 bytes. uint8: kernels 1 byte, biases (101 of 3,589) float16.
    expect(sizes.float16).toBe(2);
    expect(sizes['uint8-affine']).toBeCloseTo(14356 / (3488 + 202), 6);
    expect(sizes['uint8-affine']).toBeGreaterThan(3.8);
    expect(sizes['int8-per-tensor']).toBe(sizes['uint8-affine']);
    expect(sizes['int8-per-channel']).toBe(sizes['uint8-affine']);
    const u16 = await exportQuantized(model, newDir(), {
      scheme: 'int8-per-channel',
      perChannelStorage: 'uint16',
    });
    expect(u16.weightBytes).toBe(3488 * 2 + 101 * 4);
    model.dispose();
  });

  it('loads with loadModel and with stock tf.loadLayersModel(tf.io.fromMemory), equal to the in-memory dequantized weights', async () => {
    const model = mlp();
    const x = randomInputs(16, [20], 21);
    const reference = predictData(model, x);
    const maxDiff: Record<string, number> = {};
    for (const scheme of ['float16', 'uint8-affine', 'int8-per-channel'] as const) {
      const out = await exportQuantized(model, newDir(), { scheme });
      const ours = await loadModel(out.dir);
      const stock = await tfl.loadLayersModel(tf.io.fromMemory(await readModelFolder(out.dir)));
      const memory = await withWeights(model, out.quantized.dequantized);
      const a = predictData(ours, x);
      expect(Array.from(predictData(stock, x))).toEqual(Array.from(a));
      expect(Array.from(predictData(memory, x))).toEqual(Array.from(a));
      // The loaded weights differ from the float ones by exactly the reported error.
      for (const w of stock.weights) {
        const original = model.weights.find((v) => v.originalName === w.originalName);
        const got = w.read().dataSync();
        const want = original?.read().dataSync() as Float32Array;
        let err = 0;
        for (let i = 0; i < got.length; i++)
          err = Math.max(err, Math.abs((got[i] as number) - (want[i] as number)));
        expect(err).toBe(out.quantized.report.find((r) => r.name === w.originalName)?.maxAbsError);
      }
      maxDiff[scheme] = Math.max(...a.map((v, i) => Math.abs(v - (reference[i] as number))));
      tf.dispose([ours, stock, memory].flatMap((m) => m.weights.map((w) => w.read())));
    }
    expect(maxDiff.float16).toBeGreaterThan(0);
    expect(maxDiff.float16).toBeLessThan(maxDiff['uint8-affine'] as number);
    const scale = Math.max(...reference.map(Math.abs));
    expect(maxDiff['uint8-affine']).toBeLessThan(0.03 * scale);
    console.log(
      'mlp max |prediction change| / max |prediction|:',
      Object.entries(maxDiff)
        .map(([k, v]) => `${k} ${(v / scale).toExponential(2)}`)
        .join(', '),
    );
    x.dispose();
    model.dispose();
  });

  it('exports BC-ResNet and CRNN that stock loaders read and predict with as in memory', async () => {
    registerKwsLayers();
    const cases = [
      { model: smallBcResNet(), shape: [BC_FRAMES, 40] },
      { model: smallCrnn(), shape: [...CRNN_INPUT] },
    ];
    for (const { model, shape } of cases) {
      const x = randomInputs(4, shape, 31);
      const out = await exportQuantized(model, newDir(), { scheme: 'uint8-affine', keepFloatAs: 'float16' });
      expect(out.sizeRatio).toBeGreaterThan(2);
      const stock = await tfl.loadLayersModel(tf.io.fromMemory(await readModelFolder(out.dir)));
      const memory = await withWeights(model, out.quantized.dequantized);
      expect(Array.from(predictData(stock, x))).toEqual(Array.from(predictData(memory, x)));
      const json = JSON.parse(
        await import('node:fs/promises').then((fs) => fs.readFile(join(out.dir, 'model.json'), 'utf8')),
      );
      const specs = json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
      expect(specs.some((s) => s.quantization?.dtype === 'uint8')).toBe(true);
      expect(specs.some((s) => s.quantization?.dtype === 'float16')).toBe(true);
      expect(json.userDefinedMetadata.kwsQuantization.scheme).toBe('uint8-affine');
      stock.dispose();
      memory.dispose();
      model.dispose();
      x.dispose();
    }
  });

  it('writes an existing QuantizedModel, honours shardBytes, and formats a report', async () => {
    const model = mlp();
    const q = await quantizeWeights(model, { scheme: 'float16' });
    const out = await exportQuantized(q, newDir(), { shardBytes: 4096 });
    expect(out.quantized).toBe(q);
    expect(out.files.length).toBe(1 + Math.ceil(q.totals.bytesAfter / 4096));
    const text = formatQuantReport({ exported: out, title: 'mlp fp16' });
    expect(text).toContain('## mlp fp16');
    expect(text).toContain(`weights ${q.totals.bytesAfter.toLocaleString('en-US')} B`);
    expect(text).toContain('| fc1/kernel | Dense | [20, 64] | float16 | float16 | 5,120 → 2,560 |');
    model.dispose();
  });

  it('throws KwsError for bad input and leaks no tensors', async () => {
    const model = mlp();
    const count = tf.memory().numTensors;
    await exportQuantized(model, newDir(), { scheme: 'int8-per-tensor' });
    expect(tf.memory().numTensors).toBe(count);
    const q = await quantizeWeights(model, { scheme: 'float16' });
    const cases: [() => Promise<unknown>, string][] = [
      [() => exportQuantized(model, newDir()), 'INVALID_ARGUMENT'],
      [() => exportQuantized(model, newDir(), { scheme: 'int3' as never }), 'INVALID_ARGUMENT'],
      [() => exportQuantized(model, '', { scheme: 'float16' }), 'INVALID_ARGUMENT'],
      [() => exportQuantized(model, newDir(), { scheme: 'float16', shardBytes: 0 }), 'INVALID_ARGUMENT'],
      [() => exportQuantized(q, newDir(), { scheme: 'float16' }), 'INVALID_ARGUMENT'],
      [() => exportQuantized(null as never, newDir(), { scheme: 'float16' }), 'INVALID_ARGUMENT'],
    ];
    for (const [run, code] of cases) {
      const p = run();
      await expect(p).rejects.toBeInstanceOf(KwsError);
      await expect(p).rejects.toMatchObject({ code });
    }
    model.dispose();
  });
});
