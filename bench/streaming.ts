/**
 * Streaming cost per hop, window mode vs stateful CRNN mode, in one run, on 60 s of generated
 * audio (quiet noise with tones) and the default CRNN (101 × 40 log-mels, 12 classes):
 *   - model only: the inference mode fed precomputed `center: false` log-mels one hop (8 frames
 *     = 80 ms) at a time: `WindowMode` with `runtime: 'tfjs'` (tfjs-layers `predict` on the wasm
 *     backend, one window of 101 frames per hop) and with its default compiled runtime
 *     (`compileCrnn`, plain TS), vs `CrnnStatefulMode` (compiled plain-TS CRNN, GRU state carried);
 *   - end to end: `StreamingKWS.push` of 80 ms chunks of 16 kHz audio (front end, inference,
 *     smoothing, detection), window mode on both runtimes and stateful mode at hopMs 80, and the
 *     front end alone for reference.
 * Real-time factor = processing time / audio duration (lower is better).
 * Each figure is the median of ROUNDS passes over the whole 60 s; the passes of the methods
 * compared are interleaved (round r runs every method once), so load changes hit them alike.
 *
 * Then a causal BC-ResNet-1 (`bcResNet({ causal: true })`, 101 × 40, 12 classes), on the wasm and
 * the cpu backend in the same run, per hop of 10 ms (1 frame) and 100 ms (10 frames):
 *   - full recompute: `model.predict` on one 101-frame window (what any hop costs without state);
 *   - window mode: `WindowMode.step` with one hop of new frames (ring buffer + one window), with
 *     `runtime: 'tfjs'` (`predict` on the backend) and with the compiled runtime
 *     (`compileConvNet`, plain TS: the same on every backend), hop by hop interleaved;
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
 * Smoke test (a few seconds of audio, few hops, a 5 s stream; writes to the OS temp directory
 * unless STREAMING_BENCH_OUT is set, never over the committed results):
 *   BENCH_QUICK=1 node --expose-gc --import tsx/esm bench/streaming.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { logMelSpectrogram, type Spectrogram, StreamingFeatureExtractor } from '../src/features/index.js';
import { bcResNet, crnn, profile } from '../src/models/index.js';
import { createRng } from '../src/random.js';
import { ConvStatefulMode } from '../src/streaming/conv-stateful-mode.js';
import {
  CrnnStatefulMode,
  type InferenceMode,
  StreamingKWS,
  type StreamingKwsOptions,
  WindowMode,
} from '../src/streaming/index.js';

/** A smoke-test run: tiny sizes, results written outside bench/results. */
const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = QUICK ? 4 : 60;
const SR = 16000;
const HOP_FRAMES = 8;
const CHUNK = (HOP_FRAMES * SR) / 100; // 80 ms of audio
const ROUNDS = QUICK ? 1 : 5;
const OUT =
  process.env.STREAMING_BENCH_OUT ??
  (QUICK ? join(tmpdir(), 'kws-kit-streaming-quick.json') : 'bench/results/streaming.json');
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

/** A timed method: median ms over the rounds, and hops per pass. */
interface Timed {
  ms: number;
  hops: number;
}

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

/**
 * Median wall time of ROUNDS runs of each of `fns` (after one warm-up run each), in ms; round r
 * runs every function once, in order, so that the methods compared share the machine's load.
 */
async function timeRuns(fns: readonly (() => Promise<number>)[]): Promise<Timed[]> {
  const hops: number[] = [];
  for (const fn of fns) hops.push(await fn());
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      samples[i]?.push(performance.now() - t0);
    }
  }
  return samples.map((s, i) => ({ ms: median(s), hops: hops[i] as number }));
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
const STREAM_SECONDS = Number(process.env.STREAM_SECONDS ?? (QUICK ? 5 : 3600));
/** Hops timed per (method, hop) for the per-hop latency distribution. */
const LATENCY_HOPS = QUICK ? ({ wasm: 10, cpu: 3 } as const) : ({ wasm: 200, cpu: 40 } as const);

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
  return (await interleavedHopLatencies(hops, [step]))[0] as number[];
}

/**
 * Per-hop latencies (ms) of `hops` calls of each of `steps`, after 5 warm-up calls each; hop k
 * of every step runs before hop k + 1 of any, so that the methods share the machine's load.
 */
async function interleavedHopLatencies(
  hops: number,
  steps: readonly ((k: number) => Promise<unknown>)[],
): Promise<number[][]> {
  for (let k = 0; k < 5; k++) for (const step of steps) await step(k);
  const out: number[][] = steps.map(() => []);
  for (let k = 0; k < hops; k++) {
    for (const [i, step] of steps.entries()) {
      const t0 = performance.now();
      await step(k + 5);
      out[i]?.push(performance.now() - t0);
    }
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
    const windowTfjs = new WindowMode({ model, windowFrames: 101, hopFrames, runtime: 'tfjs' });
    const windowCompiled = new WindowMode({ model, windowFrames: 101, hopFrames, runtime: 'compiled' });
    for (const mode of [windowTfjs, windowCompiled]) await mode.step({ data: window, frames: 101, bins });
    const [tfjsMs, compiledMs] = await interleavedHopLatencies(hops, [
      (k) => windowTfjs.step(hopFramesAt(k)),
      (k) => windowCompiled.step(hopFramesAt(k)),
    ]);
    windowTfjs.dispose();
    windowCompiled.dispose();
    row('window mode (tfjs predict)', hopMs, tfjsMs as number[], full.macs, full.normMacs);
    row('window mode (compiled, plain TS)', hopMs, compiledMs as number[], full.macs, full.normMacs);
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
      /** Window mode per-hop median, tfjs predict over the compiled runtime. */
      windowCompiledSpeedup:
        at(backend, 'window mode (tfjs', hopMs).medianMs /
        at(backend, 'window mode (compiled', hopMs).medianMs,
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

  const windowMode = new WindowMode({ model, windowFrames: 101, hopFrames: HOP_FRAMES, runtime: 'tfjs' });
  const windowCompiled = new WindowMode({
    model,
    windowFrames: 101,
    hopFrames: HOP_FRAMES,
    runtime: 'compiled',
  });
  const statefulMode = new CrnnStatefulMode({ model, hopFrames: HOP_FRAMES });
  const [modelWindow, modelWindowCompiled, modelStateful] = (await timeRuns([
    () => feedFrames(windowMode, spec),
    () => feedFrames(windowCompiled, spec),
    () => feedFrames(statefulMode, spec),
  ])) as [Timed, Timed, Timed];

  const extractor = new StreamingFeatureExtractor({ output: 'log-mel' });
  const [features] = (await timeRuns([
    async () => {
      extractor.reset();
      for (let i = 0; i < audio.length; i += CHUNK) extractor.push(audio.subarray(i, i + CHUNK));
      return 0;
    },
  ])) as [Timed];
  const create = (options: Partial<StreamingKwsOptions>) =>
    StreamingKWS.create({ model, labels: LABELS, hopMs: 80, ...options });
  const kwsWindow = await create({ mode: 'window', runtime: 'tfjs' });
  const kwsWindowCompiled = await create({ mode: 'window', runtime: 'compiled' });
  const kwsStateful = await create({ mode: 'stateful' });
  const [e2eWindow, e2eWindowCompiled, e2eStateful] = (await timeRuns([
    () => pushAudio(kwsWindow, audio),
    () => pushAudio(kwsWindowCompiled, audio),
    () => pushAudio(kwsStateful, audio),
  ])) as [Timed, Timed, Timed];
  kwsWindow.dispose();
  kwsWindowCompiled.dispose();
  kwsStateful.dispose();
  windowMode.dispose();
  windowCompiled.dispose();
  statefulMode.dispose();
  model.dispose();

  const audioMs = SECONDS * 1000;
  const rows = [
    { what: 'model only: window mode (tfjs predict, wasm)', ms: modelWindow.ms, hops: modelWindow.hops },
    {
      what: 'model only: window mode (compiled CRNN, plain TS)',
      ms: modelWindowCompiled.ms,
      hops: modelWindowCompiled.hops,
    },
    { what: 'model only: stateful CRNN mode (plain TS)', ms: modelStateful.ms, hops: modelStateful.hops },
    {
      what: 'end to end: StreamingKWS window (tfjs predict), hop 80 ms',
      ms: e2eWindow.ms,
      hops: modelWindow.hops,
    },
    {
      what: 'end to end: StreamingKWS window (compiled CRNN), hop 80 ms',
      ms: e2eWindowCompiled.ms,
      hops: modelWindowCompiled.hops,
    },
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
    /** Window mode, tfjs predict over the compiled runtime (same windows, same run). */
    compiledWindowSpeedupModelOnly: modelWindow.ms / modelWindowCompiled.ms,
    compiledWindowSpeedupEndToEnd: e2eWindow.ms / e2eWindowCompiled.ms,
    quick: QUICK,
    bcResNet: bc,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${OUT}${QUICK ? ' (BENCH_QUICK: smoke-test sizes, not for the docs)' : ''}`);

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
    `stateful vs window (tfjs): ${result.statefulSpeedupModelOnly.toFixed(0)}× (model only), ` +
      `${result.statefulSpeedupEndToEnd.toFixed(1)}× (end to end)`,
  );
  console.log(
    `window mode, compiled vs tfjs: ${result.compiledWindowSpeedupModelOnly.toFixed(1)}× (model only), ` +
      `${result.compiledWindowSpeedupEndToEnd.toFixed(1)}× (end to end)`,
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
        `${r.latencyRatio.toFixed(1)}× faster than full recompute; compiled window mode is ` +
        `${r.windowCompiledSpeedup.toFixed(1)}× faster than tfjs window mode`,
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
