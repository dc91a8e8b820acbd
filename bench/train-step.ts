/**
 * Training-step speed of BC-ResNet-1 (12 classes, [batch, 101, 40] log-mel input) on the wasm
 * backend: forward + backward + SGD update. `auto` = the default training path (convolutions
 * differentiated through core kernels, closed-form SubSpectralNorm gradient); `tap` = the
 * previous path (tap-sum convolutions, SubSpectralNorm differentiated op by op). Optionally the same
 * step in PyTorch (2 threads) when `/usr/bin/python3` has torch.
 *
 *   node --import tsx/esm bench/train-step.ts [batch ...]     (default batches: 50 100)
 *
 * Prints a table and writes bench/results/train-step.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet } from '../src/models/bc-resnet.js';
import { registerBatchNormGradient } from '../src/models/layers/batch-norm-gradient.js';
import { setSsnTrainingPath } from '../src/models/layers/sub-spectral-norm.js';
import { setTapeConvPath, type TapeConvPath } from '../src/models/layers/tap-conv.js';
import { registerWasmTrainingKernels } from '../src/train/index.js';
import { median } from './lib/side-by-side.js';
import { torchTrainStepMs } from './lib/torch-bc-resnet.js';

interface Row {
  backend: string;
  /** `tap`: before; `auto`: core convs + closed-form SSN; `auto+bn`: also registerBatchNormGradient(). */
  path: TapeConvPath | 'auto+bn' | 'pytorch';
  batch: number;
  msPerStep: number | null;
  /** Process CPU time per step (less sensitive than wall time to other processes on the machine). */
  cpuMsPerStep?: number;
  examplesPerSecond: number | null;
  kernelsPerStep?: number;
  peakBytes?: number;
  error?: string;
}

function step(model: tfl.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): void {
  const cost = opt.minimize(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    true,
  );
  cost?.dataSync();
  cost?.dispose();
}

const STOCK_BN_GRAD = tf.getGradient('FusedBatchNorm') as tf.GradConfig;

async function measure(path: TapeConvPath | 'auto+bn', batch: number, reps: number): Promise<Row> {
  setTapeConvPath(path === 'tap' ? 'tap' : 'auto');
  setSsnTrainingPath(path === 'tap' ? 'written-out' : 'closed-form');
  if (path === 'auto+bn') registerBatchNormGradient();
  else tf.registerGradient(STOCK_BN_GRAD);
  const model = bcResNet({ width: 1, numClasses: 12, seed: 1 });
  const opt = tf.train.sgd(0.01);
  const x = tf.randomNormal([batch, 101, 40], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 12, 'int32', 4) as tf.Tensor1D, 12);
  const row: Row = { backend: tf.getBackend(), path, batch, msPerStep: null, examplesPerSecond: null };
  try {
    step(model, opt, x, y); // warm-up: builds weights and optimizer state
    const times: number[] = [];
    const cpu: number[] = [];
    let kernels = 0;
    let peak = 0;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      if (r === 0) {
        const info = await tf.profile(() => step(model, opt, x, y));
        kernels = info.kernels.length;
        peak = info.peakBytes;
      } else step(model, opt, x, y);
      if (r > 0) {
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
    const ms = median(times);
    Object.assign(row, {
      msPerStep: Math.round(ms),
      cpuMsPerStep: Math.round(median(cpu)),
      examplesPerSecond: Math.round((batch * 1000) / ms),
      kernelsPerStep: kernels,
      peakBytes: peak,
    });
  } catch (e) {
    row.error = (e as Error).message.slice(0, 200);
  } finally {
    x.dispose();
    y.dispose();
    opt.dispose();
    model.dispose();
  }
  return row;
}

function pytorch(batches: number[]): Row[] {
  return torchTrainStepMs(batches).map(({ batch, ms }) => ({
    backend: 'torch cpu, 2 threads',
    path: 'pytorch' as const,
    batch,
    msPerStep: Math.round(ms),
    examplesPerSecond: Math.round((batch * 1000) / ms),
  }));
}

async function main(): Promise<void> {
  tf.enableProdMode();
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  const batches = process.argv.slice(2).map(Number);
  if (batches.length === 0) batches.push(50, 100);
  const rows: Row[] = [];
  for (const batch of batches) {
    // tap last: at batch 100 it exhausts the wasm heap, which leaves the backend unusable.
    for (const path of ['auto+bn', 'auto', 'tap'] as const) {
      const row = await measure(path, batch, path === 'tap' ? 3 : 6);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  setTapeConvPath('auto');
  setSsnTrainingPath('closed-form');
  rows.push(...pytorch(batches));
  console.table(rows);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/train-step.json', import.meta.url),
    `${JSON.stringify({ model: 'BC-ResNet-1, 12 classes, input [batch, 101, 40]', optimizer: 'SGD', date: new Date().toISOString(), rows }, null, 2)}\n`,
  );
}

await main();
