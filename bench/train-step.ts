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
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet } from '../src/models/bc-resnet.js';
import { registerBatchNormGradient } from '../src/models/layers/batch-norm-gradient.js';
import { setSsnTrainingPath } from '../src/models/layers/sub-spectral-norm.js';
import { setTapeConvPath, type TapeConvPath } from '../src/models/layers/tap-conv.js';
import { registerWasmTrainingKernels } from '../src/train/index.js';

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

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

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

const PYTORCH = `
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2); torch.manual_seed(0)
class SSN(nn.Module):
    def __init__(s, c, S=5):
        super().__init__(); s.S = S; s.bn = nn.BatchNorm2d(c * S)
    def forward(s, x):
        n, c, f, t = x.shape
        return s.bn(x.reshape(n, c * s.S, f // s.S, t)).reshape(n, c, f, t)
class Block(nn.Module):
    def __init__(s, i, o, stride, d):
        super().__init__()
        s.pre = nn.Sequential(nn.Conv2d(i, o, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()) if i != o else None
        s.f2 = nn.Sequential(nn.Conv2d(o, o, (3, 1), (stride, 1), (1, 0), groups=o, bias=False), SSN(o))
        s.f1 = nn.Sequential(nn.Conv2d(o, o, (1, 3), 1, (0, d), (1, d), groups=o, bias=False), nn.BatchNorm2d(o),
                             nn.SiLU(), nn.Conv2d(o, o, 1, bias=False), nn.Dropout2d(0.1))
        s.identity = i == o and stride == 1
    def forward(s, x):
        h = s.pre(x) if s.pre is not None else x
        f2 = s.f2(h)
        y = f2 + s.f1(f2.mean(2, keepdim=True))
        return F.relu(y + x if s.identity else y)
def net(tau=1):
    c = [int(16 * tau), int(8 * tau), int(12 * tau), int(16 * tau), int(20 * tau), int(32 * tau)]
    L = [nn.Conv2d(1, c[0], 5, (2, 1), 2, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU()]
    i = c[0]
    for s, (n, st, d) in enumerate([(2, 1, 1), (2, 2, 2), (4, 2, 4), (4, 1, 8)]):
        for b in range(n):
            L.append(Block(i, c[s + 1], st if b == 0 else 1, d)); i = c[s + 1]
    L += [nn.Conv2d(i, i, 5, groups=i, padding=(0, 2), bias=False), nn.AdaptiveAvgPool2d((1, None)),
          nn.Conv2d(i, c[5], 1, bias=False), nn.BatchNorm2d(c[5]), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
          nn.Flatten(), nn.Linear(c[5], 12)]
    return nn.Sequential(*L)
m = net(); opt = torch.optim.SGD(m.parameters(), 0.01); m.train()
for b in map(int, sys.argv[1:]):
    x = torch.randn(b, 1, 40, 101); y = torch.randint(0, 12, (b,))
    ts = []
    for r in range(6):
        t0 = time.perf_counter(); opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
        ts.append(time.perf_counter() - t0)
    print(b, sorted(ts[1:])[2] * 1000)
`;

function pytorch(batches: number[]): Row[] {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', PYTORCH, ...batches.map(String)], {
      encoding: 'utf8',
      timeout: 300_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .trim()
      .split('\n')
      .map((line) => {
        const [b, ms] = line.split(' ').map(Number) as [number, number];
        return {
          backend: 'torch cpu, 2 threads',
          path: 'pytorch' as const,
          batch: b,
          msPerStep: Math.round(ms),
          examplesPerSecond: Math.round((b * 1000) / ms),
        };
      });
  } catch {
    return [];
  }
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
