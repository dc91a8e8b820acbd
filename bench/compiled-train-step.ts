/**
 * Speed probe of the compiled trainer (src/train/compiled/): forward + backward of one batch of
 * BC-ResNet-1 (12 classes, [batch, 101, 40]) in training mode, against tfjs on the wasm backend
 * (`tf.variableGrads` over the same loss, with kws-kit's wasm conv backprop kernels and lean
 * batch-norm gradient: the fastest tfjs path). No optimizer update in either. The two run
 * interleaved in one process on one core; medians of wall and process CPU time, and their ratio
 * (`speedup`: wall, `cpuSpeedup`: CPU time, the per-core figure on a machine busy with other
 * work).
 *
 *   node --import tsx/esm bench/compiled-train-step.ts [batch] [reps] [--steps]   (default 50, 5)
 *
 * `--steps` adds the compiled program's time per layer kind (`stage2_block1_ssn` → `ssn`),
 * forward and backward, the fastest of `reps` calls each (wall time: noisy on a loaded machine).
 *
 * Prints JSON rows; writes nothing (a probe, not a published benchmark).
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { bcResNet, compileConvNet, registerBatchNormGradient } from '../src/models/index.js';
import { compileTrainingGraph, type TrainingGraph } from '../src/train/compiled/graph.js';
import { registerWasmTrainingKernels, softmaxCrossEntropy } from '../src/train/index.js';

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function timed(fn: () => void): { ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

/** Fastest forward and backward milliseconds per layer kind over `reps` calls of `step`. */
function stepBreakdown(graph: TrainingGraph, step: () => void, reps: number): Record<string, number[]> {
  graph.timeSteps = true;
  const best = graph.stepTimes.map(() => [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
  for (let r = 0; r < reps; r++) {
    step();
    graph.stepTimes.forEach((s, k) => {
      const b = best[k] as number[];
      b[0] = Math.min(b[0] as number, s.forwardMs);
      b[1] = Math.min(b[1] as number, s.backwardMs);
    });
  }
  graph.timeSteps = false;
  const kinds: Record<string, number[]> = {};
  graph.stepTimes.forEach((s, k) => {
    const kind = s.layer.replace(/^stage\d+_block\d+_/, '').replace(/_\d+$/, '');
    const sum = kinds[kind] ?? [0, 0];
    kinds[kind] = sum;
    const b = best[k] as number[];
    sum[0] = (sum[0] as number) + (b[0] as number);
    sum[1] = (sum[1] as number) + (b[1] as number);
  });
  const rounded = Object.entries(kinds)
    .sort((a, b) => (b[1][0] as number) + (b[1][1] as number) - (a[1][0] as number) - (a[1][1] as number))
    .map(([k, v]) => [k, v.map((ms) => Number(ms.toFixed(1)))] as const);
  return Object.fromEntries(rounded);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const batch = Number(args[0] ?? 50);
  const reps = Number(args[1] ?? 5);
  tf.enableProdMode();
  registerWasmTrainingKernels();
  registerBatchNormGradient();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  const model = bcResNet({ width: 1, numClasses: 12, dropout: 0, seed: 1 });
  const macs = compileConvNet(model).macs;
  const graph = compileTrainingGraph(model);
  const features = new Float32Array(batch * 101 * 40);
  for (let i = 0; i < features.length; i++) features[i] = Math.sin(i * 0.37) * 2;
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 12);
  const x = tf.tensor3d(features, [batch, 101, 40]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const tfjsStep = (): void => {
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor, labels)),
      vars,
    );
    value.dataSync();
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  };
  let ourLoss = 0;
  const compiledStep = (): void => {
    ourLoss = graph.lossAndGradients(features, labels, batch).loss;
  };
  tfjsStep();
  compiledStep();
  const t: { ms: number; cpuMs: number }[] = [];
  const c: { ms: number; cpuMs: number }[] = [];
  for (let r = 0; r < reps; r++) {
    t.push(timed(tfjsStep));
    c.push(timed(compiledStep));
  }
  const tfjsMs = median(t.map((v) => v.ms));
  const ourMs = median(c.map((v) => v.ms));
  const tfjsCpu = median(t.map((v) => v.cpuMs));
  const ourCpu = median(c.map((v) => v.cpuMs));
  const stepMacs = 3 * macs * batch; // forward + ~2× for the backward pass
  const row = (name: string, v: { ms: number; cpuMs: number }[], ms: number) => ({
    name,
    batch,
    msPerStep: Math.round(ms),
    cpuMsPerStep: Math.round(median(v.map((e) => e.cpuMs))),
    examplesPerSecond: Math.round((batch * 1000) / ms),
    gmacPerSecond: Number((stepMacs / ms / 1e6).toFixed(2)),
  });
  console.log(JSON.stringify(row('tfjs wasm variableGrads', t, tfjsMs)));
  console.log(JSON.stringify(row('compiled (plain TS)', c, ourMs)));
  console.log(
    JSON.stringify({
      speedup: Number((tfjsMs / ourMs).toFixed(2)),
      cpuSpeedup: Number((tfjsCpu / ourCpu).toFixed(2)),
      forwardMacsPerExample: macs,
      compiledLoss: ourLoss,
      load: (await import('node:os')).loadavg().map((v) => Number(v.toFixed(2))),
    }),
  );
  if (process.argv.includes('--steps')) {
    console.log(JSON.stringify({ stepMsForwardBackward: stepBreakdown(graph, compiledStep, reps) }));
  }
  x.dispose();
  model.dispose();
}

await main();
