/**
 * Streaming cost per hop, window mode vs stateful CRNN mode, in one run, on 60 s of generated
 * audio (quiet noise with tones) and the default CRNN (101 × 40 log-mels, 12 classes):
 *   - model only: the inference mode fed precomputed `center: false` log-mels one hop (8 frames
 *     = 80 ms) at a time: `WindowMode` (tfjs-layers `predict` on the wasm backend, one window of
 *     101 frames per hop) vs `CrnnStatefulMode` (compiled plain-TS CRNN, GRU state carried);
 *   - end to end: `StreamingKWS.push` of 80 ms chunks of 16 kHz audio (front end, inference,
 *     smoothing, detection), both modes at hopMs 80, and the front end alone for reference.
 * Real-time factor = processing time / audio duration (lower is better).
 * Each figure is the median of ROUNDS passes over the whole 60 s.
 *
 * Then a causal BC-ResNet-1 (`bcResNet({ causal: true })`, 101 × 40, 12 classes), on the wasm and
 * the cpu backend in the same run, per hop of 10 ms (1 frame) and 100 ms (10 frames):
 *   - full recompute: `model.predict` on one 101-frame window (what any hop costs without state);
 *   - window mode: `WindowMode.step` with one hop of new frames (ring buffer + predict);
 *   - stateful: `ConvStatefulMode.step` (the `toStreaming` runtime, plain TS: the same on every
 *     backend).
 * For each: per-hop latency median and p99 over many hops, MACs per hop (convolution and matrix
 * products; normalisation apart) and real-time factor = median latency / hop duration. Finally a
 * simulated stream of STREAM_SECONDS (default 3600 s = 1 h) of audio pushed to
 * `StreamingKWS({ mode: 'stateful' })` in 20 ms chunks, with numTensors and heap (after a forced GC
 * when node runs with --expose-gc) before and after.
 * Writes bench/results/streaming.json and prints markdown tables.
 *
 * Run: node --expose-gc --import tsx/esm bench/streaming.ts   (npm run bench:streaming)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { logMelSpectrogram, type Spectrogram, StreamingFeatureExtractor } from '../src/features/index.js';
import { bcResNet, crnn, profile } from '../src/models/index.js';
import { createRng } from '../src/random.js';
import { ConvStatefulMode } from '../src/streaming/conv-stateful-mode.js';
import { CrnnStatefulMode, type InferenceMode, StreamingKWS, WindowMode } from '../src/streaming/index.js';

const SECONDS = 60;
const SR = 16000;
const HOP_FRAMES = 8;
const CHUNK = (HOP_FRAMES * SR) / 100; // 80 ms of audio
const ROUNDS = 5;
const LABELS = [
  '_silence_',
  '_unknown_',
  'yes',
  'no',
  'up',
  'down',
  'left',
  'right',
  'on',
  'off',
  'stop',
  'go',
];

function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Quiet noise with a 0.4 s tone (200–4000 Hz) every 1.5 s. */
function makeAudio(seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(SECONDS * SR);
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    const k = Math.floor(t / 1.5);
    const hz = 200 + ((k * 937) % 3800);
    const tone = t - k * 1.5 < 0.4 ? 0.3 * Math.sin(2 * Math.PI * hz * t) : 0;
    x[i] = tone + 0.001 * rng.normal();
  }
  return x;
}

/** Median wall time of ROUNDS runs of `fn` (after one warm-up run), in ms. */
async function timeRuns(fn: () => Promise<number>): Promise<{ ms: number; hops: number }> {
  const hops = await fn();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), hops };
}

/** Feeds the spectrogram one hop at a time through a fresh stream of `mode`; returns the hop count. */
async function feedFrames(mode: InferenceMode, spec: Spectrogram): Promise<number> {
  mode.reset();
  let hops = 0;
  for (let t = 0; t < spec.frames; t += HOP_FRAMES) {
    const n = Math.min(HOP_FRAMES, spec.frames - t);
    const frames = {
      data: spec.data.subarray(t * spec.bins, (t + n) * spec.bins),
      frames: n,
      bins: spec.bins,
    };
    hops += (await mode.step(frames)).length;
  }
  return hops;
}

async function pushAudio(kws: StreamingKWS, audio: Float32Array): Promise<number> {
  kws.reset();
  for (let i = 0; i < audio.length; i += CHUNK) await kws.push(audio.subarray(i, i + CHUNK));
  await kws.flush();
  return 0;
}

/** Seconds of audio in the long-stream memory check. */
const STREAM_SECONDS = Number(process.env.STREAM_SECONDS ?? 3600);
/** Hops timed per (method, hop) for the per-hop latency distribution. */
const LATENCY_HOPS = { wasm: 200, cpu: 40 } as const;

function percentile(values: readonly number[], p: number): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

interface HopRow {
  backend: string;
  method: string;
  hopMs: number;
  medianMs: number;
  p99Ms: number;
  macsPerHop: number;
  normMacsPerHop: number;
  realTimeFactor: number;
}

/** Per-hop latencies (ms) of `hops` calls of `step`, after 5 warm-up calls. */
async function hopLatencies(hops: number, step: (k: number) => Promise<unknown>): Promise<number[]> {
  for (let k = 0; k < 5; k++) await step(k);
  const out: number[] = [];
  for (let k = 0; k < hops; k++) {
    const t0 = performance.now();
    await step(k + 5);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Per-hop rows of full recompute, window mode and stateful mode on the current backend. */
async function bcResNetHops(
  model: LayersModel,
  spec: Spectrogram,
  backend: 'wasm' | 'cpu',
): Promise<HopRow[]> {
  const full = profile(model).total;
  const hops = LATENCY_HOPS[backend];
  const bins = spec.bins;
  const window = spec.data.slice(0, 101 * bins);
  const rows: HopRow[] = [];
  const row = (method: string, hopMs: number, ms: number[], macs: number, normMacs: number): void => {
    const median = percentile(ms, 0.5);
    rows.push({
      backend,
      method,
      hopMs,
      medianMs: median,
      p99Ms: percentile(ms, 0.99),
      macsPerHop: macs,
      normMacsPerHop: normMacs,
      realTimeFactor: median / hopMs,
    });
  };
  const recompute = await hopLatencies(hops, async () => {
    const y = tf.tidy(() => model.predict(tf.tensor3d(window, [1, 101, bins])) as tf.Tensor);
    await y.data();
    y.dispose();
  });
  for (const hopMs of [10, 100]) {
    const hopFrames = hopMs / 10;
    /** Frames of hop k, cycling through the spectrogram after the first window. */
    const hopFramesAt = (k: number): Spectrogram => {
      const start = (101 + k * hopFrames) % (spec.frames - hopFrames);
      return { data: spec.data.subarray(start * bins, (start + hopFrames) * bins), frames: hopFrames, bins };
    };
    row('full recompute (model.predict, 101 frames)', hopMs, recompute, full.macs, full.normMacs);
    const windowMode = new WindowMode({ model, windowFrames: 101, hopFrames });
    await windowMode.step({ data: window, frames: 101, bins });
    const windowMs = await hopLatencies(hops, (k) => windowMode.step(hopFramesAt(k)));
    windowMode.dispose();
    row('window mode', hopMs, windowMs, full.macs, full.normMacs);
    const stateful = new ConvStatefulMode({ model, hopFrames });
    await stateful.step({ data: window, frames: 101, bins });
    // Plain TS: time many more hops than the tfjs paths (cheap, and a steadier p99).
    const statefulMs = await hopLatencies(hops * 10, (k) => stateful.step(hopFramesAt(k)));
    const net = stateful.net;
    row(
      'stateful (toStreaming, plain TS)',
      hopMs,
      statefulMs,
      hopFrames * net.macsPerFrame + net.headMacs,
      hopFrames * net.normMacsPerFrame,
    );
    stateful.dispose();
  }
  return rows;
}

/** 10 s of the test audio, looped to make a stream of any length without holding it. */
async function longStream(model: LayersModel, seconds: number) {
  const loop = makeAudio(2).subarray(0, 10 * SR);
  const chunk = (20 * SR) / 1000;
  const kws = await StreamingKWS.create({ model, labels: LABELS, mode: 'stateful', hopMs: 100 });
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = (): number => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  // Warm up 10 s (JIT, lazily built buffers) before the "before" reading.
  for (let i = 0; i + chunk <= loop.length; i += chunk) await kws.push(loop.subarray(i, i + chunk));
  const tensorsBefore = tf.memory().numTensors;
  const heapBefore = heap();
  let detections = 0;
  const chunks = Math.floor((seconds * SR) / chunk);
  const t0 = performance.now();
  for (let c = 0; c < chunks; c++) {
    const i = (c * chunk) % (loop.length - chunk + 1);
    detections += (await kws.push(loop.subarray(i, i + chunk))).length;
  }
  const elapsedMs = performance.now() - t0;
  const result = {
    seconds,
    chunkMs: 20,
    chunks,
    detections,
    elapsedMs,
    realTimeFactor: elapsedMs / (seconds * 1000),
    numTensorsBefore: tensorsBefore,
    numTensorsAfter: tf.memory().numTensors,
    heapBeforeBytes: heapBefore,
    heapAfterBytes: heap(),
    gcExposed: gc !== undefined,
  };
  kws.dispose();
  return result;
}

async function bcResNetBench() {
  const model = bcResNet({ causal: true, seed: 1 });
  const spec = logMelSpectrogram(makeAudio(3).subarray(0, 20 * SR), { center: false });
  const rows: HopRow[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
    await tf.ready();
    rows.push(...(await bcResNetHops(model, spec, backend)));
  }
  await tf.setBackend('wasm');
  const stream = await longStream(model, STREAM_SECONDS);
  const net = new ConvStatefulMode({ model }).net;
  const full = profile(model).total;
  model.dispose();
  const at = (backend: string, method: string, hopMs: number): HopRow =>
    rows.find((r) => r.backend === backend && r.method.startsWith(method) && r.hopMs === hopMs) as HopRow;
  const ratios = (['wasm', 'cpu'] as const).flatMap((backend) =>
    [10, 100].map((hopMs) => ({
      backend,
      hopMs,
      macsRatio: at(backend, 'full', hopMs).macsPerHop / at(backend, 'stateful', hopMs).macsPerHop,
      latencyRatio: at(backend, 'full', hopMs).medianMs / at(backend, 'stateful', hopMs).medianMs,
    })),
  );
  return {
    model: 'bcResNet({ causal: true, seed: 1 }): width 1, 101 × 40, 12 classes',
    fullMacs: full.macs,
    fullNormMacs: full.normMacs,
    macsPerFrame: net.macsPerFrame,
    normMacsPerFrame: net.normMacsPerFrame,
    headMacs: net.headMacs,
    stateValues: net.stateValues,
    receptiveField: net.receptiveField,
    rows,
    ratios,
    stream,
  };
}

async function main(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('wasm');
  await tf.ready();
  const model = crnn({ seed: 1 });
  const audio = makeAudio(1);
  const spec = logMelSpectrogram(audio, { center: false });

  const windowMode = new WindowMode({ model, windowFrames: 101, hopFrames: HOP_FRAMES });
  const statefulMode = new CrnnStatefulMode({ model, hopFrames: HOP_FRAMES });
  const modelWindow = await timeRuns(() => feedFrames(windowMode, spec));
  const modelStateful = await timeRuns(() => feedFrames(statefulMode, spec));

  const extractor = new StreamingFeatureExtractor({ output: 'log-mel' });
  const features = await timeRuns(async () => {
    extractor.reset();
    for (let i = 0; i < audio.length; i += CHUNK) extractor.push(audio.subarray(i, i + CHUNK));
    return 0;
  });
  const kwsWindow = await StreamingKWS.create({ model, labels: LABELS, mode: 'window', hopMs: 80 });
  const kwsStateful = await StreamingKWS.create({ model, labels: LABELS, mode: 'stateful', hopMs: 80 });
  const e2eWindow = await timeRuns(() => pushAudio(kwsWindow, audio));
  const e2eStateful = await timeRuns(() => pushAudio(kwsStateful, audio));
  kwsWindow.dispose();
  kwsStateful.dispose();
  windowMode.dispose();
  statefulMode.dispose();
  model.dispose();

  const audioMs = SECONDS * 1000;
  const rows = [
    { what: 'model only: window mode (tfjs predict, wasm)', ms: modelWindow.ms, hops: modelWindow.hops },
    { what: 'model only: stateful CRNN mode (plain TS)', ms: modelStateful.ms, hops: modelStateful.hops },
    { what: 'end to end: StreamingKWS window, hop 80 ms', ms: e2eWindow.ms, hops: modelWindow.hops },
    { what: 'end to end: StreamingKWS stateful, hop 80 ms', ms: e2eStateful.ms, hops: modelStateful.hops },
    { what: 'front end alone (StreamingFeatureExtractor)', ms: features.ms, hops: modelStateful.hops },
  ].map((r) => ({ ...r, msPerHop: r.ms / r.hops, realTimeFactor: r.ms / audioMs }));

  const bc = await bcResNetBench();
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    backend: tf.getBackend(),
    audioSeconds: SECONDS,
    hopMs: 80,
    model: 'crnn() default: 101×40, conv 8ch k[20,5] s[8,2], GRU 64×2, attention, 12 classes',
    rounds: ROUNDS,
    rows,
    statefulSpeedupModelOnly: modelWindow.ms / modelStateful.ms,
    statefulSpeedupEndToEnd: e2eWindow.ms / e2eStateful.ms,
    bcResNet: bc,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/streaming.json', `${JSON.stringify(result, null, 2)}\n`);

  console.log(
    `Streaming cost, ${SECONDS} s of 16 kHz audio, hop 80 ms (${rows[0]?.hops} hops), median of ${ROUNDS}`,
  );
  console.log('| what | total ms | ms per hop | real-time factor |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.what} | ${r.ms.toFixed(1)} | ${r.msPerHop.toFixed(3)} | ${r.realTimeFactor.toExponential(2)} |`,
    );
  }
  console.log(
    `stateful vs window: ${result.statefulSpeedupModelOnly.toFixed(0)}× (model only), ` +
      `${result.statefulSpeedupEndToEnd.toFixed(1)}× (end to end)`,
  );

  console.log(`\n${bc.model}: per hop, median / p99 over many hops`);
  console.log('| backend | method | hop ms | median ms | p99 ms | MACs per hop | real-time factor |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of bc.rows) {
    console.log(
      `| ${r.backend} | ${r.method} | ${r.hopMs} | ${r.medianMs.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ` +
        `${r.macsPerHop.toLocaleString('en-US')} | ${r.realTimeFactor.toExponential(2)} |`,
    );
  }
  for (const r of bc.ratios) {
    console.log(
      `${r.backend}, hop ${r.hopMs} ms: stateful uses ${r.macsRatio.toFixed(1)}× fewer MACs and is ` +
        `${r.latencyRatio.toFixed(1)}× faster than full recompute`,
    );
  }
  const s = bc.stream;
  console.log(
    `StreamingKWS stateful, ${s.seconds} s in ${s.chunkMs} ms chunks (wasm): real-time factor ` +
      `${s.realTimeFactor.toExponential(2)}, numTensors ${s.numTensorsBefore} → ${s.numTensorsAfter}, heap ` +
      `${(s.heapBeforeBytes / 1e6).toFixed(2)} → ${(s.heapAfterBytes / 1e6).toFixed(2)} MB` +
      (s.gcExposed ? '' : ' (no --expose-gc: heap readings include garbage)'),
  );
}

await main();
