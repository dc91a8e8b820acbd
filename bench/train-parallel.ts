/**
 * Training speed of `train()`: BC-ResNet-1 (12 classes, [batch, 101, 40] input), batch 100
 * (micro-batches of 50), SGD, on the wasm backend, in three configurations interleaved in one
 * run (so all see the same machine load): the tfjs gradient engine on one thread, the compiled
 * engine (plain-TS forward and backward, train()'s default for this model) on one thread, and
 * the compiled engine with `workers: 2`; plus PyTorch 1.13 on 2 threads in the same run when
 * `/usr/bin/python3` has torch (the model definition of bench/train-step.ts).
 *
 * Per configuration: wall-clock examples/s over the steps after the first (the first includes
 * the workers' start-up and tfjs warm-up) and process CPU ms per example (`process.cpuUsage`
 * covers every thread, workers included). Then, for workers: 2, where the time of a step goes
 * (reading weights and slicing the batch, the round trip to the workers and the workers' own
 * compute, combining their results), from `DataParallel.lastTiming`.
 *
 *   node --import tsx/esm bench/train-parallel.ts [rounds]     (default 2 rounds)
 *
 * Prints the rows and writes bench/results/train-parallel.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { createSplit, type Split } from '../src/data/index.js';
import { bcResNet } from '../src/models/bc-resnet.js';
import { createRng } from '../src/random.js';
import { registerWasmTrainingKernels, train } from '../src/train/index.js';
import { layerRngs } from '../src/train/layer-rng.js';
import { DataParallel, type DataParallelTiming } from '../src/train/parallel/data-parallel.js';
import { torchTrainStepMs } from './lib/torch-bc-resnet.js';

const BATCH = 100;
const STEPS = 4; // per measured run; the first is warm-up
const FRAMES = 101;
const BINS = 40;

type Engine = 'tfjs' | 'compiled';

/** The kws-kit configurations, in the order of the first round. */
const CONFIGS: readonly { engine: Engine; workers: number }[] = [
  { engine: 'tfjs', workers: 1 },
  { engine: 'compiled', workers: 1 },
  { engine: 'compiled', workers: 2 },
];

interface Row {
  config: string;
  engine: Engine | null;
  workers: number | null;
  round: number;
  examplesPerSecond: number | null;
  cpuMsPerExample?: number;
  msPerStep: number | null;
}

function syntheticSplit(n: number): Split {
  const rng = createRng(7);
  const features = Float32Array.from({ length: n * FRAMES * BINS }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 12);
  const labelNames = Array.from({ length: 12 }, (_, i) => `c${i}`);
  return createSplit({ features, frames: FRAMES, bins: BINS, labels, labelNames });
}

async function measureTrain(split: Split, engine: Engine, workers: number, round: number): Promise<Row> {
  const model = bcResNet({ width: 1, numClasses: 12, seed: 1 });
  const stamps: { t: number; cpu: number }[] = [];
  const stamp = (): void => {
    const c = process.cpuUsage();
    stamps.push({ t: performance.now(), cpu: (c.user + c.system) / 1000 });
  };
  try {
    await train(model, {
      train: split,
      epochs: 1,
      batchSize: BATCH,
      microBatchSize: 50,
      optimizer: 'sgd',
      learningRate: 0.01,
      schedule: { warmupEpochs: 0 },
      seed: 0,
      logger: 'silent',
      workers,
      engine,
      callbacks: { onBatchEnd: stamp },
    });
  } finally {
    model.dispose();
  }
  const first = stamps[0] as { t: number; cpu: number };
  const last = stamps[stamps.length - 1] as { t: number; cpu: number };
  const examples = (stamps.length - 1) * BATCH;
  const ms = last.t - first.t;
  return {
    config: `kws-kit wasm, ${engine} engine, workers ${workers}`,
    engine,
    workers,
    round,
    examplesPerSecond: Math.round((examples * 1000) / ms),
    cpuMsPerExample: Math.round(((last.cpu - first.cpu) / examples) * 10) / 10,
    msPerStep: Math.round(ms / (stamps.length - 1)),
  };
}

/**
 * Median ms of the compiled step on `features` (50 examples) in a worker thread of its own that
 * does nothing else (bench/lib/plain-step-worker.ts): what a gradient worker's step should cost.
 */
async function plainWorkerStepMs(features: Float32Array, labels: Int32Array): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const entry = new URL('./lib/plain-step-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(code, { eval: true, workerData: { features, labels, steps: STEPS * 2 } });
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** Mean of each timing field over a few data-parallel steps (no optimizer update: timing only). */
async function stepBreakdown(split: Split): Promise<Record<string, number>> {
  const model = bcResNet({ width: 1, numClasses: 12, seed: 1 });
  const parallel = await DataParallel.start(model, layerRngs(model), {
    workers: 2,
    seed: 0,
    frames: FRAMES,
    bins: BINS,
    io: { channelAxis: (model.inputs[0]?.shape.length ?? 3) === 4, classes: 12 },
    classWeights: undefined,
    microBatchSize: 50,
    engine: 'compiled',
  });
  const timings: DataParallelTiming[] = [];
  try {
    const xs = split.features.subarray(0, BATCH * FRAMES * BINS);
    const ys = split.labels.subarray(0, BATCH);
    for (let s = 0; s < STEPS; s++) {
      const step = await parallel.step(xs, ys);
      tf.dispose(step.grads);
      if (s > 0 && parallel.lastTiming !== null) timings.push(parallel.lastTiming);
    }
  } finally {
    await parallel.close();
    model.dispose();
  }
  const mean = (f: (t: DataParallelTiming) => number): number =>
    Math.round((timings.reduce((a, t) => a + f(t), 0) / timings.length) * 10) / 10;
  const slowest = (t: DataParallelTiming): number => Math.max(...t.workerMs);
  const half = BATCH / 2;
  const plain = await plainWorkerStepMs(
    split.features.slice(0, half * FRAMES * BINS),
    split.labels.slice(0, half),
  );
  return {
    /** The same 50-example step in a worker that does nothing else; worker0/1Ms should match it. */
    plainWorkerMs: Math.round(plain * 10) / 10,
    packMs: mean((t) => t.packMs),
    roundTripMs: mean((t) => t.roundTripMs),
    worker0Ms: mean((t) => t.workerMs[0] as number),
    worker1Ms: mean((t) => t.workerMs[1] as number),
    /** Round trip minus the slower worker's compute: message passing, copies, wake-ups. */
    messagingMs: mean((t) => t.roundTripMs - slowest(t)),
    combineMs: mean((t) => t.combineMs),
  };
}

/** PyTorch's step time on 2 threads (bench/lib/torch-bc-resnet.ts), or null without torch. */
function pytorch(): Row | null {
  const step = torchTrainStepMs([BATCH])[0];
  if (step === undefined) return null;
  return {
    config: 'torch cpu, 2 threads',
    engine: null,
    workers: null,
    round: 0,
    examplesPerSecond: Math.round((BATCH * 1000) / step.ms),
    msPerStep: Math.round(step.ms),
  };
}

async function main(): Promise<void> {
  tf.enableProdMode();
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  const rounds = Number(process.argv[2] ?? 2);
  const split = syntheticSplit(STEPS * BATCH);
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    // Reverse the order every other round so that no configuration always runs first.
    const order = round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
    for (const { engine, workers } of order) {
      const row = await measureTrain(split, engine, workers, round);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    const torch = pytorch();
    if (torch !== null) {
      torch.round = round;
      rows.push(torch);
      console.log(JSON.stringify(torch));
    }
  }
  const breakdown = await stepBreakdown(split);
  console.log('workers 2 step breakdown (ms):', JSON.stringify(breakdown));

  const mean = (v: number[]): number =>
    v.length === 0 ? Number.NaN : Math.round((v.reduce((x, y) => x + y, 0) / v.length) * 100) / 100;
  const rowsOf = (engine: Engine | null, workers: number | null): Row[] =>
    rows.filter((r) => r.engine === engine && r.workers === workers);
  const eps = (round: number, engine: Engine | null, workers: number | null): number | null =>
    rowsOf(engine, workers).find((r) => r.round === round)?.examplesPerSecond ?? null;
  const perRound = (
    engine: Engine | null,
    workers: number | null,
    overEngine: Engine | null,
    overWorkers: number | null,
  ): number[] =>
    Array.from({ length: rounds }, (_, round) => {
      const a = eps(round, engine, workers);
      const b = eps(round, overEngine, overWorkers);
      return a === null || b === null ? null : Math.round((a / b) * 100) / 100;
    }).filter((v): v is number => v !== null);
  const meanEps = (engine: Engine | null, workers: number | null): number =>
    mean(rowsOf(engine, workers).map((r) => r.examplesPerSecond as number));
  const meanCpu = (engine: Engine, workers: number): number =>
    mean(rowsOf(engine, workers).map((r) => r.cpuMsPerExample as number));
  // Ratios are taken within a round (same machine load), then listed per round.
  const summary = {
    examplesPerSecondTfjs1: meanEps('tfjs', 1),
    examplesPerSecondCompiled1: meanEps('compiled', 1),
    /** The default path with two workers: the figure the target compares. */
    examplesPerSecondWorkers2: meanEps('compiled', 2),
    compiledOverTfjsPerRound: perRound('compiled', 1, 'tfjs', 1),
    speedupWorkers2PerRound: perRound('compiled', 2, 'compiled', 1),
    cpuMsPerExampleTfjs1: meanCpu('tfjs', 1),
    cpuMsPerExampleCompiled1: meanCpu('compiled', 1),
    cpuMsPerExampleWorkers2: meanCpu('compiled', 2),
    pytorchExamplesPerSecond: meanEps(null, null),
    compiled1OverPytorchPerRound: perRound('compiled', 1, null, null),
    workers2OverPytorchPerRound: perRound('compiled', 2, null, null),
  };
  console.table(rows);
  console.log(summary);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/train-parallel.json', import.meta.url),
    `${JSON.stringify(
      {
        model: 'BC-ResNet-1, 12 classes, input [batch, 101, 40]',
        backend: 'wasm',
        optimizer: 'SGD',
        batch: BATCH,
        microBatchSize: 50,
        date: new Date().toISOString(),
        loadAverage: (await import('node:os')).loadavg(),
        summary,
        stepBreakdownWorkers2: breakdown,
        rows,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
