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
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet } from '../src/models/bc-resnet.js';
import { compileConvNet } from '../src/models/conv-runtime.js';
import { profile } from '../src/models/profile.js';
import { createRng } from '../src/random.js';

const FRAMES = 101;
const MELS = 40;
const ROUNDS = 15;
/** Wall time of one round of each method, ms. */
const ROUND_MS = 300;

interface Row {
  method: string;
  msPerClip: number;
  note?: string;
}

function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Mean ms per call of `fn` over calls filling about `ms` of wall time (at least 3 calls). */
function timeRound(fn: () => unknown, ms: number): number {
  let calls = 0;
  const t0 = performance.now();
  let now = t0;
  while (calls < 3 || now - t0 < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (now - t0) / calls;
}

// ── PyTorch: one long-lived process answering "threads milliseconds" lines with ms per call ──
const TORCH_SCRIPT = `
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
class SubSpectralNorm(nn.Module):
    def __init__(self, channels, bands):
        super().__init__()
        self.bands = bands
        self.bn = nn.BatchNorm2d(channels * bands)
    def forward(self, x):
        b, c, f, t = x.shape
        return self.bn(x.reshape(b, c * self.bands, f // self.bands, t)).reshape(b, c, f, t)
class BcResBlock(nn.Module):
    def __init__(self, cin, cout, stride, dilation):
        super().__init__()
        self.transition = cin != cout
        self.identity = cin == cout and stride == 1
        if self.transition:
            self.pw_in = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        self.freq = nn.Conv2d(cout, cout, (3, 1), stride=(stride, 1), padding=(1, 0), groups=cout, bias=False)
        self.ssn = SubSpectralNorm(cout, 5)
        self.time = nn.Conv2d(cout, cout, (1, 3), padding=(0, dilation), dilation=(1, dilation), groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pw = nn.Conv2d(cout, cout, 1, bias=False)
        self.drop = nn.Dropout2d(0.1)
    def forward(self, x):
        h = self.pw_in(x) if self.transition else x
        f2 = self.ssn(self.freq(h))
        f1 = self.drop(self.pw(F.silu(self.bn(self.time(f2.mean(2, keepdim=True))))))
        y = f2 + f1
        if self.identity:
            y = y + x
        return F.relu(y)
class BcResNet(nn.Module):
    def __init__(self, width=1, classes=12):
        super().__init__()
        c = [round(width * v) for v in (16, 8, 12, 16, 20, 32)]
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 5, stride=(2, 1), padding=2, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU())
        blocks, cin = [], c[0]
        for s, (n, stride, d) in enumerate([(2, 1, 1), (2, 2, 2), (4, 2, 4), (4, 1, 8)]):
            for b in range(n):
                blocks.append(BcResBlock(cin, c[s + 1], stride if b == 0 else 1, d))
                cin = c[s + 1]
        self.blocks = nn.Sequential(*blocks)
        self.dw = nn.Conv2d(cin, cin, 5, padding=(0, 2), groups=cin, bias=False)
        self.pw = nn.Sequential(nn.Conv2d(cin, c[5], 1, bias=False), nn.BatchNorm2d(c[5]), nn.ReLU())
        self.fc = nn.Conv2d(c[5], classes, 1)
    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = self.pw(self.dw(x).mean(2, keepdim=True)).mean(3, keepdim=True)
        return self.fc(x).flatten(1)
torch.manual_seed(0)
model = BcResNet().eval()
x = torch.randn(1, 1, 40, 101)
print(json.dumps({"torch": torch.__version__, "params": sum(p.numel() for p in model.parameters())}), flush=True)
with torch.inference_mode():
    for line in sys.stdin:
        threads, ms = (float(v) for v in line.split())
        torch.set_num_threads(int(threads))
        for _ in range(3): model(x)
        calls = 0
        t0 = time.perf_counter()
        now = t0
        while calls < 3 or (now - t0) * 1000 < ms:
            model(x)
            calls += 1
            now = time.perf_counter()
        print((now - t0) / calls * 1000, flush=True)
`;

interface Torch {
  version: string;
  params: number;
  /** Mean ms per forward pass over about `ms` of calls at `threads` threads. */
  time(threads: number, ms: number): Promise<number>;
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
      time: async (threads, ms) => {
        py.stdin.write(`${threads} ${ms}\n`);
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

/**
 * Gives the random model trained-looking normalisation statistics, so that folding them is
 * exercised: moving means ~ N(0, 0.5²), variances in [0.3, 2], γ ~ 1 ± 0.3, β ~ ±0.2.
 */
function randomStatistics(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  for (const w of model.weights) {
    const name = w.originalName;
    const values = Float32Array.from(w.read().dataSync() as Float32Array);
    for (let i = 0; i < values.length; i++) {
      if (name.endsWith('moving_mean')) values[i] = 0.5 * rng.normal();
      else if (name.endsWith('moving_variance')) values[i] = rng.uniform(0.3, 2);
      else if (name.endsWith('gamma')) values[i] = 1 + 0.3 * rng.normal();
      else if (name.endsWith('beta') || name.endsWith('bias')) values[i] = 0.2 * rng.normal();
    }
    const t = tf.tensor(values, w.shape as number[]);
    w.write(t);
    t.dispose();
  }
}

tf.enableProdMode();
const rng = createRng(2025);
const features = Float32Array.from({ length: FRAMES * MELS }, () => rng.normal() * 2 - 4);
const rows: Row[] = [];

await tf.setBackend('cpu');
const model = bcResNet({ width: 1, seed: 1 });
randomStatistics(model, 2);
const profiled = profile(model).total;
const runtime = compileConvNet(model);
const logits = new Float32Array(runtime.numClasses);

// ── tfjs-layers predict; parity of the runtime against both backends ──
const parity: Record<string, number> = {};
const tfjsPredict: Record<string, () => Float32Array> = {};
const inputs: tf.Tensor[] = [];
for (const backend of ['cpu', 'wasm']) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const input = tf.tensor3d(features, [1, FRAMES, MELS]);
  inputs.push(input);
  const predict = (): Float32Array => {
    const out = model.predict(input) as tf.Tensor;
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  };
  const ref = predict();
  const ours = runtime.predict(features);
  parity[backend] = Math.max(...Array.from(ours, (v, i) => Math.abs(v - (ref[i] as number))));
  tfjsPredict[backend] = predict;
}
// The cpu backend is 10–30× slower than the rest: plain rounds, before the interleaved ones.
await tf.setBackend('cpu');
const cpuSamples: number[] = [];
const cpuPredict = tfjsPredict.cpu as () => Float32Array;
for (let i = 0; i < 3; i++) cpuPredict();
for (let r = 0; r < 7; r++) cpuSamples.push(timeRound(cpuPredict, ROUND_MS));
await tf.setBackend('wasm');
const wasmPredict = tfjsPredict.wasm as () => Float32Array;

// ── runtime, tfjs wasm and PyTorch, alternating rounds ──
const torch = await startTorch();
const samples: { runtime: number[]; wasm: number[]; torch1: number[]; torch2: number[] } = {
  runtime: [],
  wasm: [],
  torch1: [],
  torch2: [],
};
const runOnce = (): Float32Array => runtime.predict(features, logits);
timeRound(runOnce, 500);
timeRound(wasmPredict, 300);
if (torch) {
  await torch.time(1, 300);
  await torch.time(2, 300);
}
for (let r = 0; r < ROUNDS; r++) {
  samples.runtime.push(timeRound(runOnce, ROUND_MS));
  samples.wasm.push(timeRound(wasmPredict, ROUND_MS));
  if (torch) {
    samples.torch1.push(await torch.time(1, ROUND_MS));
    samples.torch2.push(await torch.time(2, ROUND_MS));
  }
}
torch?.close();
for (const t of inputs) t.dispose();

const ours: Row = { method: 'kws-kit compileConvNet → predict', msPerClip: median(samples.runtime) };
const wasm: Row = { method: 'tfjs-layers model.predict (wasm)', msPerClip: median(samples.wasm) };
const cpu: Row = {
  method: 'tfjs-layers model.predict (cpu)',
  msPerClip: median(cpuSamples),
  note: 'plain rounds',
};
const torch1: Row | null = torch
  ? { method: 'PyTorch BC-ResNet-1, 1 thread', msPerClip: median(samples.torch1) }
  : null;
const torch2: Row | null = torch
  ? { method: 'PyTorch BC-ResNet-1, 2 threads', msPerClip: median(samples.torch2) }
  : null;
rows.push(ours, wasm, cpu);
if (torch1 && torch2) rows.push(torch1, torch2);

const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    loadAverage1m: loadavg()[0],
  },
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
  input: `1 × ${FRAMES} × ${MELS} (batch 1)`,
  torch: torch?.version ?? null,
  maxAbsLogitDiffVsTfjs: parity,
  rows,
  interleavedSamplesMs: samples,
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
