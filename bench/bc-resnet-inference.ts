/**
 * BC-ResNet-1 inference latency, side by side in one run (batch 1, ms per 1 s clip of 101 × 40
 * log-mels):
 *   - tfjs-layers `model.predict` on the wasm and cpu backends,
 *   - kws-kit's compiled plain-TS runtime (`compileConvNet(model).predict`),
 *   - PyTorch's equivalent BC-ResNet-1 (the same layer structure written in torch.nn: 5×5 stem
 *     with frequency stride 2, BC-ResBlocks with SubSpectralNorm over 5 sub-bands, dilated
 *     temporal depthwise convs, SiLU, broadcast residual, classifier; random weights, eval
 *     mode) at 1 and 2 threads, if /usr/bin/python3 has torch (skipped otherwise).
 * Each figure is the median over ROUNDS rounds of the mean time per call within the round
 * (each round runs for about ROUND_MS), after warm-up. The runtime, tfjs wasm and PyTorch rounds
 * alternate (runtime, wasm, PyTorch 1 thread, PyTorch 2 threads, …) so that changes in machine
 * load hit all of them alike.
 * Writes bench/results/bc-resnet-inference.json and prints a markdown table.
 *
 * Run: node --import tsx/esm bench/bc-resnet-inference.ts
 * (not `npx tsx …`: tsx's CommonJS hook slows the runtime's typed-array loops; see
 * bench/crnn-inference.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { bcResNet } from '../src/models/bc-resnet.js';
import { compileConvNet } from '../src/models/conv-runtime.js';
import { profile } from '../src/models/profile.js';
import { createRng } from '../src/random.js';
import { randomStatistics } from './lib/random-statistics.js';
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
import { TORCH_BC_RESNET } from './lib/torch-bc-resnet.js';

const ROUNDS = 15;
/** Wall time of one round of each method, ms. */
const ROUND_MS = 300;

// PyTorch BC-ResNet-1 in eval mode, for the long-lived process of startTorch.
const TORCH_MODEL = `${TORCH_BC_RESNET}
torch.manual_seed(0)
model = BcResNet().eval()
`;

tf.enableProdMode();
const rng = createRng(2025);
const features = logMelLike(FRAMES, rng);
const rows: Row[] = [];

await tf.setBackend('cpu');
const model = bcResNet({ width: 1, seed: 1 });
randomStatistics(model, 2);
const profiled = profile(model).total;
const runtime = compileConvNet(model);
const logits = new Float32Array(runtime.numClasses);

// ── tfjs-layers predict; parity of the runtime against both backends ──
const parity: Record<string, number> = {};
const tfjs: Record<string, { predict: () => Float32Array; dispose: () => void }> = {};
for (const backend of ['cpu', 'wasm']) {
  const p = await tfjsPredictor(model, features, [1, FRAMES, MELS], backend);
  parity[backend] = maxAbsDiff(runtime.predict(features), p.predict());
  tfjs[backend] = p;
}
// The cpu backend is 10–30× slower than the rest: plain rounds, before the interleaved ones.
await tf.setBackend('cpu');
const cpuMs = medianRounds((tfjs.cpu as { predict: () => Float32Array }).predict, 7, ROUND_MS);
await tf.setBackend('wasm');

// ── runtime, tfjs wasm and PyTorch, alternating rounds ──
const torch = await startTorch(TORCH_MODEL);
const samples = await interleavedRounds(
  {
    runtime: () => runtime.predict(features, logits),
    wasm: (tfjs.wasm as { predict: () => Float32Array }).predict,
  },
  torch,
  ROUNDS,
  ROUND_MS,
);
torch?.close();
for (const p of Object.values(tfjs)) p.dispose();

const ours: Row = { method: 'kws-kit compileConvNet → predict', msPerClip: median(samples.runtime ?? []) };
const wasm: Row = { method: 'tfjs-layers model.predict (wasm)', msPerClip: median(samples.wasm ?? []) };
const cpu: Row = { method: 'tfjs-layers model.predict (cpu)', msPerClip: cpuMs, note: 'plain rounds' };
const [torch1, torch2] = torchRows('BC-ResNet-1', torch, samples) ?? [null, null];
rows.push(ours, wasm, cpu);
if (torch1 && torch2) rows.push(torch1, torch2);

const result = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  model: {
    architecture:
      'bcResNet({ width: 1 }): 12 classes, input [101, 40], random weights and normalisation statistics',
    params: model.countParams(),
    macs: profiled.macs,
    normMacs: profiled.normMacs,
    runtimeMacs: runtime.macs,
    runtimeSteps: runtime.steps,
    torchParams: torch?.params ?? null,
  },
  ...sharedResult(torch, parity, rows, samples),
  targets: {
    runtimeOverTorch2Threads: torch2 ? ours.msPerClip / torch2.msPerClip : null,
    runtimeOverTorch1Thread: torch1 ? ours.msPerClip / torch1.msPerClip : null,
    atMostHalfOfTorch2Threads: torch2 ? ours.msPerClip <= torch2.msPerClip / 2 : null,
    runtimeSpeedupVsTfjsWasm: wasm.msPerClip / ours.msPerClip,
    runtimeSpeedupVsTfjsCpu: cpu.msPerClip / ours.msPerClip,
  },
};
model.dispose();

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/bc-resnet-inference.json', `${JSON.stringify(result, null, 2)}\n`);
const t = result.targets;
const ratio = (r: Row, torchRow: Row | null): string =>
  torchRow ? (r.msPerClip / torchRow.msPerClip).toPrecision(2) : '–';
const table = [
  '| method | ms per clip | ÷ PyTorch 1 thread | ÷ PyTorch 2 threads | note |',
  '|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.msPerClip.toFixed(3)} | ${ratio(r, torch1)} | ${ratio(r, torch2)} | ${r.note ?? ''} |`,
  ),
].join('\n');
const vsTorch =
  torch1 && torch2
    ? `runtime / PyTorch: ${t.runtimeOverTorch2Threads?.toPrecision(2)} at 2 threads, ` +
      `${t.runtimeOverTorch1Thread?.toPrecision(2)} at 1 thread; at most half of PyTorch (2 threads): ${t.atMostHalfOfTorch2Threads}`
    : 'PyTorch not available';
console.log(`# BC-ResNet-1 inference, batch 1

${result.date.slice(0, 10)}, ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}${
  torch ? `, torch ${torch.version}` : ''
}, 1-min load average ${(result.machine.loadAverage1m ?? 0).toFixed(1)}. Medians of ${ROUNDS} rounds of ~${ROUND_MS} ms (tfjs cpu: 7);
runtime, tfjs wasm and PyTorch rounds interleaved in the same run.
kws-kit BC-ResNet-1: ${result.model.params} parameters (${result.model.macs} MACs + ${result.model.normMacs} normalisation MACs, folded away by the runtime); ${result.model.runtimeSteps} fused steps${
  torch ? `; PyTorch BC-ResNet-1: ${torch.params} trainable parameters` : ''
}.

${table}

Runtime logits vs tfjs-layers: max abs difference ${parity.cpu?.toExponential(1)} (cpu), ${parity.wasm?.toExponential(1)} (wasm).
${vsTorch}; ${t.runtimeSpeedupVsTfjsWasm.toFixed(1)}× tfjs wasm, ${t.runtimeSpeedupVsTfjsCpu.toFixed(0)}× tfjs cpu.
`);
