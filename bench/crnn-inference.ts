/**
 * CRNN inference latency, side by side in one run (batch 1, ms per 1 s clip of 101 × 40 log-mels):
 *   - tfjs-layers `model.predict` on the cpu and wasm backends,
 *   - kws-kit's compiled plain-TS runtime (`compileCrnn(model).predict`), plus its streaming
 *     step costs (one conv step = 8 frames = 80 ms of audio) in 'window' and 'carry' mode,
 *   - PyTorch's equivalent CRNN (Conv2d(1, 8, (5, 20), stride (2, 8)) on [1, 1, 40, 101],
 *     GRU(144, 64, 2 layers, batch_first), additive attention, Linear(64, 12); random weights)
 *     at 1 and 2 threads, if /usr/bin/python3 has torch.
 * Each figure is the median over ROUNDS rounds of the mean time per call within the round (each
 * round runs for about ROUND_MS), after warm-up. The runtime and PyTorch rounds alternate
 * (runtime, PyTorch 1 thread, PyTorch 2 threads, …) so that changes in machine load hit all
 * three alike.
 * Writes bench/results/crnn-inference.json and prints a markdown table.
 *
 * Run: node --import tsx/esm bench/crnn-inference.ts
 * (not `npx tsx …`: tsx's CommonJS hook, which plain `tsx` also installs, slows the runtime's
 * typed-array loops by about 25 % in Node 20; with the ESM hook alone they run as fast as the
 * built package under plain `node`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { crnn } from '../src/models/crnn.js';
import { compileCrnn } from '../src/models/crnn-runtime.js';
import { createRng } from '../src/random.js';
import {
  FRAMES,
  interleavedRounds,
  logMelLike,
  MELS,
  machineInfo,
  maxAbsDiff,
  median,
  medianRounds,
  type Row,
  sharedResult,
  startTorch,
  tfjsPredictor,
  torchRows,
} from './lib/side-by-side.js';

const ROUNDS = 15;
/** Wall time of one round of each method, ms. */
const ROUND_MS = 150;

// PyTorch's CRNN (bench/lib/torch_crnn.py) in eval mode, for the long-lived process of startTorch.
const TORCH_MODEL = `
import json, sys, time, torch
${readFileSync(new URL('./lib/torch_crnn.py', import.meta.url), 'utf8')}
torch.manual_seed(0)
model = Crnn().eval()
`;

tf.enableProdMode();
const rng = createRng(2025);
const features = logMelLike(FRAMES, rng);
const rows: Row[] = [];

await tf.setBackend('cpu');
const model = crnn({ seed: 1 });
const runtime = compileCrnn(model);

// ── tfjs-layers (10-1000× slower than the rest: plain rounds) ──
const parity: Record<string, number> = {};
for (const backend of ['cpu', 'wasm']) {
  const { predict, dispose } = await tfjsPredictor(model, features, [1, FRAMES, MELS], backend);
  parity[backend] = maxAbsDiff(runtime.predict(features, FRAMES), predict());
  const ms = medianRounds(predict, backend === 'cpu' ? 7 : ROUNDS, ROUND_MS);
  rows.push({ method: `tfjs-layers model.predict (${backend})`, msPerClip: ms });
  dispose();
}

// ── runtime vs PyTorch, alternating rounds ──
const torch = await startTorch(TORCH_MODEL);
const samples = await interleavedRounds(
  { runtime: () => runtime.predict(features, FRAMES) },
  torch,
  ROUNDS,
  ROUND_MS,
);
torch?.close();
const ours: Row = { method: 'kws-kit compileCrnn → predict', msPerClip: median(samples.runtime ?? []) };
rows.push(ours);
const [torch1, torch2] = torchRows('CRNN', torch, samples) ?? [null, null];
if (torch1 && torch2) rows.push(torch1, torch2);

// ── streaming: cost per conv step (8 frames = 80 ms of audio) once the window is full ──
const stride = runtime.stride[0];
const streamFrames = 4000;
const stream = logMelLike(streamFrames, rng);
for (const mode of ['window', 'carry'] as const) {
  const state = runtime.createState({ mode });
  let pos = 0;
  const stepOnce = () => {
    if (pos + stride > streamFrames) {
      state.reset();
      pos = 0;
    }
    runtime.step(state, stream.subarray(pos * MELS, (pos + stride) * MELS), stride);
    pos += stride;
  };
  rows.push({
    method: `kws-kit streaming step, mode '${mode}'`,
    msPerClip: medianRounds(stepOnce, ROUNDS, ROUND_MS),
    note: `per ${stride} new frames (one conv step, one output)`,
  });
}

const fastestTorch = torch1 && torch2 ? Math.min(torch1.msPerClip, torch2.msPerClip) : null;
const tfjsCpu = rows[0] as Row;
const tfjsWasm = rows[1] as Row;
const result = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  model: {
    architecture:
      'crnn() defaults: conv 8 × [20 frames, 5 mels] stride [8, 2], GRU 64 × 2, attention 64, 12 classes',
    params: model.countParams(),
    torchParams: torch?.params ?? null,
  },
  ...sharedResult(torch, parity, rows, samples),
  targets: {
    runtimeSpeedupVsTorch1Thread: torch1 ? torch1.msPerClip / ours.msPerClip : null,
    runtimeSpeedupVsTorch2Threads: torch2 ? torch2.msPerClip / ours.msPerClip : null,
    runtimeNoSlowerThanTorch: fastestTorch === null ? null : ours.msPerClip <= fastestTorch,
    runtimeSpeedupVsTfjsCpu: tfjsCpu.msPerClip / ours.msPerClip,
    runtimeSpeedupVsTfjsWasm: tfjsWasm.msPerClip / ours.msPerClip,
  },
};
model.dispose();

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/crnn-inference.json', `${JSON.stringify(result, null, 2)}\n`);
const t = result.targets;
const table = [
  '| method | ms per call | note |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.method} | ${r.msPerClip.toFixed(3)} | ${r.note ?? ''} |`),
].join('\n');
const vsTorch =
  torch1 && torch2
    ? `${t.runtimeSpeedupVsTorch1Thread?.toFixed(2)}× PyTorch's speed at 1 thread, ` +
      `${t.runtimeSpeedupVsTorch2Threads?.toFixed(2)}× at 2 threads; no slower than PyTorch: ${t.runtimeNoSlowerThanTorch}`
    : 'PyTorch not available';
console.log(`# CRNN inference, batch 1

${result.date.slice(0, 10)}, ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}${
  torch ? `, torch ${torch.version}` : ''
}. Medians of ${ROUNDS} rounds (tfjs cpu: 7); all rows from the same run, runtime and PyTorch rounds interleaved.
kws-kit CRNN: ${result.model.params} parameters${torch ? `; PyTorch CRNN: ${torch.params}` : ''}.

${table}

Runtime logits vs tfjs-layers: max abs difference ${parity.cpu?.toExponential(1)} (cpu), ${parity.wasm?.toExponential(1)} (wasm).
Runtime: ${vsTorch}; ${t.runtimeSpeedupVsTfjsCpu.toFixed(0)}× tfjs cpu, ${t.runtimeSpeedupVsTfjsWasm.toFixed(1)}× tfjs wasm.
`);
