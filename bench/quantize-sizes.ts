/**
 * Post-training quantization of BC-ResNet-1 and the default CRNN (random seeded weights): file
 * sizes on disk per weight scheme, the error each adds (weight SQNR, output SQNR and top-1
 * agreement of the loaded model against the float one), and simulated int8 inference
 * (per-channel / per-tensor weights, minmax / percentile activation ranges).
 *
 * Inputs are synthetic 1 s log-mel-like clips [101, 40]: N(0, 1) noise plus a per-clip spectral
 * profile N(0, 2²) held over time, 100 for calibration and 100 for testing. An untrained BC-ResNet
 * predicts one class for every input (its pooled features barely vary), which would make top-1
 * agreement vacuous; so its classifier batch norm takes the statistics of the calibration clips
 * and the logits are centred on them, spreading predictions over several classes. Agreement on
 * a random network with small logit margins is a harsh test; a trained model has wider margins.
 *
 * Prints markdown tables only (writes model files to a temporary folder, removed at the end).
 *
 * Run: node --import tsx/esm bench/quantize-sizes.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet, crnn, loadModel, saveModel } from '../src/models/index.js';
import {
  calibrateActivations,
  type ExportQuantizedOptions,
  exportQuantized,
  layerSqnr,
  simulateInt8,
} from '../src/quantize/index.js';
import { createRng } from '../src/random.js';

const FRAMES = 101;
const MELS = 40;

function clips(n: number, seed: number): tf.Tensor {
  const rng = createRng(seed);
  const x = new Float32Array(n * FRAMES * MELS);
  for (let a = 0; a < n; a++) {
    const profile = Array.from({ length: MELS }, () => 2 * rng.normal());
    for (let t = 0; t < FRAMES; t++) {
      for (let f = 0; f < MELS; f++) x[(a * FRAMES + t) * MELS + f] = rng.normal() + (profile[f] as number);
    }
  }
  return tf.tensor(x, [n, FRAMES, MELS]);
}

/** See the module documentation: classifier BN statistics from `x`, logits centred on `x`. */
function spreadPredictions(model: tfl.LayersModel, x: tf.Tensor): void {
  tf.tidy(() => {
    const bn = model.getLayer('classifier_bn');
    const bnInput = bn.inboundNodes[0]?.inputTensors[0] as tfl.SymbolicTensor;
    const h = tfl.model({ inputs: model.inputs, outputs: bnInput }).predict(x) as tf.Tensor;
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    const [gamma, beta] = bn.getWeights();
    bn.setWeights([gamma as tf.Tensor, beta as tf.Tensor, mean, variance]);
    const pooled = model.getLayer('classifier_time_mean').output as tfl.SymbolicTensor;
    const features = tfl.model({ inputs: model.inputs, outputs: pooled }).predict(x) as tf.Tensor;
    const logits = model.getLayer('logits');
    const [kernel] = logits.getWeights();
    const centre = tf.matMul(tf.mean(features, 0, true), kernel as tf.Tensor2D);
    // A fresh tensor, not tf.reshape: the wasm backend's fused matMul reads the bias rank from
    // the data it shares with the [1, classes] tensor and rejects it.
    logits.setWeights([kernel as tf.Tensor, tf.tensor1d(tf.neg(centre).dataSync() as Float32Array)]);
  });
}

function classesPredicted(model: tfl.LayersModel, x: tf.Tensor): number {
  return new Set(tf.tidy(() => Array.from(tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync()))).size;
}

const db = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : v > 0 ? '∞' : '−∞');
const pct = (v: number | null): string => (v === null ? '' : `${(100 * v).toFixed(1)} %`);
const bytes = (n: number): string => n.toLocaleString('en-US');

const VARIANTS: [string, ExportQuantizedOptions][] = [
  ['float16', { scheme: 'float16' }],
  ['uint8-affine', { scheme: 'uint8-affine' }],
  ['int8-per-tensor', { scheme: 'int8-per-tensor' }],
  ['int8-per-channel (uint8 file)', { scheme: 'int8-per-channel' }],
  ['int8-per-channel (uint16 file)', { scheme: 'int8-per-channel', perChannelStorage: 'uint16' }],
  ['uint8-affine, kept weights float16', { scheme: 'uint8-affine', keepFloatAs: 'float16' }],
  [
    'uint8-affine, float16 below 50 dB + kept',
    { scheme: 'uint8-affine', keepFloatAs: 'float16', minSqnrDb: 50 },
  ],
];

async function sizes(name: string, model: tfl.LayersModel, test: tf.Tensor, root: string): Promise<void> {
  const floatInfo = await saveModel(model, join(root, `${name}-float32`));
  console.log(`\n### ${name}: weight files (model.json ${bytes(floatInfo.modelJson.bytes)} B as float32)\n`);
  console.log(
    '| scheme | weight bytes on disk | × smaller | weight SQNR dB | output SQNR dB | top-1 agreement |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| float32 | ${bytes(floatInfo.weightBytes)} | 1.00 | ∞ | ∞ | 100.0 % |`);
  for (const [label, options] of VARIANTS) {
    const out = await exportQuantized(model, join(root, `${name}-${label.replace(/\W+/g, '-')}`), options);
    const loaded = await loadModel(out.dir);
    const r = layerSqnr(model, loaded, test);
    console.log(
      `| ${label} | ${bytes(out.weightBytes)} | ${out.sizeRatio.toFixed(2)} | ${db(out.quantized.totals.sqnrDb)} | ${db(
        r.output.sqnrDb,
      )} | ${pct(r.output.top1Agreement)} |`,
    );
    loaded.dispose();
  }
}

function simulation(name: string, model: tfl.LayersModel, calib: tf.Tensor, test: tf.Tensor): void {
  console.log(`\n### ${name}: simulated int8 inference (${test.shape[0]} test clips)\n`);
  console.log('| weights | activation ranges | output SQNR dB | top-1 agreement | largest SQNR drops |');
  console.log('| --- | --- | ---: | ---: | --- |');
  const calibrations = [
    ['minmax', calibrateActivations(model, calib)],
    ['percentile 99.99', calibrateActivations(model, calib, { method: 'percentile', percentile: 99.99 })],
  ] as const;
  for (const [rangeLabel, ranges] of calibrations) {
    for (const weights of ['per-channel', 'per-tensor', 'float'] as const) {
      const sim = simulateInt8(model, ranges, { weights });
      const r = layerSqnr(model, sim, test);
      const worst = r.layers
        .filter((l) => l.dropDb !== null && Number.isFinite(l.dropDb))
        .sort((a, b) => (b.dropDb as number) - (a.dropDb as number))
        .slice(0, 3)
        .map((l) => `${l.name} ${db(l.dropDb as number)}`)
        .join(', ');
      console.log(
        `| ${weights} | ${rangeLabel} | ${db(r.output.sqnrDb)} | ${pct(r.output.top1Agreement)} | ${worst} |`,
      );
      sim.dispose();
    }
  }
}

async function main(): Promise<void> {
  tf.enableProdMode();
  const wasm = await tf.setBackend('wasm');
  if (!wasm) await tf.setBackend('cpu');
  await tf.ready();
  console.log(`## Post-training quantization (backend ${tf.getBackend()})`);
  const root = mkdtempSync(join(tmpdir(), 'kws-quant-bench-'));
  try {
    const calib = clips(100, 1);
    const test = clips(100, 2);
    const bc = bcResNet({ width: 1, seed: 0 });
    spreadPredictions(bc, calib);
    const rnn = crnn({ seed: 0 });
    for (const [name, model] of [
      ['BC-ResNet-1', bc],
      ['CRNN (default)', rnn],
    ] as const) {
      console.log(
        `\n${name}: the float model predicts ${classesPredicted(model, test)} classes on the test clips.`,
      );
      await sizes(name, model, test, root);
      simulation(name, model, calib, test);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
