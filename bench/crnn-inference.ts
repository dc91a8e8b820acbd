/**
 * CRNN inference latency, side by side in one run (batch 1, ms per 1 s clip of 101 × 40 log-mels):
 *   - tfjs-layers `model.predict` on the cpu and wasm backends,
 *   - kws-kit's compiled plain-TS runtime (`compileCrnn(model).predict`), plus its streaming
 *     step costs (one conv step = 8 frames = 80 ms of audio) in 'window' and 'carry' mode,
 *   - PyTorch's equivalent CRNN (Conv2d(1, 8, (5, 20), stride (2, 8)) on [1, 1, 40, 101],
 *     GRU(144, 64, 2 layers, batch_first), additive attention, Linear(64, 12); random weights)
 *     at 1 and 2 threads, if /usr/bin/python3 has torch.
 * Each figure is the median of ROUNDS rounds, each the mean of several calls, after warm-up.
 * The runtime and PyTorch rounds alternate (runtime, PyTorch 1 thread, PyTorch 2 threads, …)
 * so that changes in machine load hit all three alike.
 * Writes bench/results/crnn-inference.json and prints a markdown table.
 *
 * Run: node --import tsx/esm bench/crnn-inference.ts
 * (not `npx tsx …`: tsx's CommonJS hook, which plain `tsx` also installs, slows the runtime's
 * typed-array loops by about 25 % in Node 20; with the ESM hook alone they run as fast as the
 * built package under plain `node`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { crnn } from '../src/models/crnn.js';
import { compileCrnn } from '../src/models/crnn-runtime.js';
import { createRng } from '../src/random.js';

const FRAMES = 101;
const MELS = 40;
const ROUNDS = 15;
/** Calls per round of the runtime and of PyTorch. */
const INNER = 300;

interface Row {
  method: string;
  msPerClip: number;
  note?: string;
}

function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median over `ROUNDS` of the mean time of `inner` calls, after warm-up; in ms per call. */
function time(fn: () => unknown, inner: number, rounds = ROUNDS): number {
  for (let i = 0; i < Math.max(3, inner); i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((performance.now() - t0) / inner);
  }
  return median(samples);
}

// ── PyTorch: one long-lived process answering "threads calls" lines with ms per call ──
const TORCH_SCRIPT = `
import json, sys, time, torch, torch.nn as nn
class Attention(nn.Module):
    def __init__(self, dim, units):
        super().__init__()
        self.proj = nn.Linear(dim, units)
        self.score = nn.Linear(units, 1)
    def forward(self, h):
        alpha = torch.softmax(self.score(torch.tanh(self.proj(h))).squeeze(-1), dim=1)
        return torch.bmm(alpha.unsqueeze(1), h).squeeze(1)
class Crnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, (5, 20), stride=(2, 8))
        self.gru = nn.GRU(144, 64, 2, batch_first=True, dropout=0.1)
        self.attention = Attention(64, 64)
        self.fc = nn.Linear(64, 12)
    def forward(self, x):
        y = self.conv(x)
        b, c, f, t = y.shape
        h, _ = self.gru(y.permute(0, 3, 1, 2).reshape(b, t, c * f))
        return self.fc(self.attention(h))
torch.manual_seed(0)
model = Crnn().eval()
x = torch.randn(1, 1, 40, 101)
print(json.dumps({"torch": torch.__version__, "params": sum(p.numel() for p in model.parameters())}), flush=True)
with torch.inference_mode():
    for line in sys.stdin:
        threads, calls = (int(v) for v in line.split())
        torch.set_num_threads(threads)
        for _ in range(20): model(x)
        t0 = time.perf_counter()
        for _ in range(calls): model(x)
        print((time.perf_counter() - t0) / calls * 1000, flush=True)
`;

interface Torch {
  version: string;
  params: number;
  /** Mean ms per forward pass over `calls` calls at `threads` threads. */
  time(threads: number, calls: number): Promise<number>;
  close(): void;
}

async function startTorch(): Promise<Torch | null> {
  const py = spawn('/usr/bin/python3', ['-u', '-c', TORCH_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const failed = new Promise<never>((_, reject) => {
    py.on('error', reject);
    py.on('exit', (code) => reject(new Error(`python3 exited with code ${code}`)));
  });
  failed.catch(() => {});
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const read = async (): Promise<string> => {
    const r = await Promise.race([lines.next(), failed]);
    if (r.done) throw new Error('python3 closed its output');
    return r.value as string;
  };
  try {
    const info = JSON.parse(await read()) as { torch: string; params: number };
    return {
      version: info.torch,
      params: info.params,
      time: async (threads, calls) => {
        py.stdin.write(`${threads} ${calls}\n`);
        return Number(await read());
      },
      close: () => {
        py.removeAllListeners('exit');
        py.stdin.end();
      },
    };
  } catch (e) {
    console.warn(`PyTorch not measured: ${(e as Error).message.split('\n')[0]}`);
    py.kill();
    return null;
  }
}

tf.enableProdMode();
const rng = createRng(2025);
const features = Float32Array.from({ length: FRAMES * MELS }, () => rng.normal() * 2 - 4);
const rows: Row[] = [];

await tf.setBackend('cpu');
const model = crnn({ seed: 1 });
const runtime = compileCrnn(model);

// ── tfjs-layers (10-1000× slower than the rest: plain rounds) ──
const parity: Record<string, number> = {};
for (const backend of ['cpu', 'wasm']) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const input = tf.tensor3d(features, [1, FRAMES, MELS]);
  const predict = () => {
    const out = model.predict(input) as tf.Tensor;
    const values = out.dataSync();
    out.dispose();
    return values;
  };
  const ours = runtime.predict(features, FRAMES);
  const ref = predict();
  parity[backend] = Math.max(...Array.from(ours, (v, i) => Math.abs(v - (ref[i] as number))));
  const ms = backend === 'cpu' ? time(predict, 3, 7) : time(predict, 20);
  rows.push({ method: `tfjs-layers model.predict (${backend})`, msPerClip: ms });
  input.dispose();
}

// ── runtime vs PyTorch, alternating rounds ──
const torch = await startTorch();
const samples: { runtime: number[]; torch1: number[]; torch2: number[] } = {
  runtime: [],
  torch1: [],
  torch2: [],
};
for (let i = 0; i < INNER; i++) runtime.predict(features, FRAMES);
if (torch) {
  await torch.time(1, INNER);
  await torch.time(2, INNER);
}
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  for (let i = 0; i < INNER; i++) runtime.predict(features, FRAMES);
  samples.runtime.push((performance.now() - t0) / INNER);
  if (torch) {
    samples.torch1.push(await torch.time(1, INNER));
    samples.torch2.push(await torch.time(2, INNER));
  }
}
torch?.close();
const ours: Row = { method: 'kws-kit compileCrnn → predict', msPerClip: median(samples.runtime) };
rows.push(ours);
const torch1: Row | null = torch
  ? { method: 'PyTorch CRNN, 1 thread', msPerClip: median(samples.torch1) }
  : null;
const torch2: Row | null = torch
  ? { method: 'PyTorch CRNN, 2 threads', msPerClip: median(samples.torch2) }
  : null;
if (torch1 && torch2) rows.push(torch1, torch2);

// ── streaming: cost per conv step (8 frames = 80 ms of audio) once the window is full ──
const stride = runtime.stride[0];
const streamFrames = 4000;
const stream = Float32Array.from({ length: streamFrames * MELS }, () => rng.normal() * 2 - 4);
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
    msPerClip: time(stepOnce, 400),
    note: `per ${stride} new frames (one conv step, one output)`,
  });
}

const fastestTorch = torch1 && torch2 ? Math.min(torch1.msPerClip, torch2.msPerClip) : null;
const tfjsCpu = rows[0] as Row;
const tfjsWasm = rows[1] as Row;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  model: {
    architecture:
      'crnn() defaults: conv 8 × [20 frames, 5 mels] stride [8, 2], GRU 64 × 2, attention 64, 12 classes',
    params: model.countParams(),
    torchParams: torch?.params ?? null,
  },
  input: `1 × ${FRAMES} × ${MELS} (batch 1)`,
  torch: torch?.version ?? null,
  maxAbsLogitDiffVsTfjs: parity,
  rows,
  interleavedSamplesMs: samples,
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
