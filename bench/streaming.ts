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
 * Writes bench/results/streaming.json and prints a markdown table.
 *
 * Run: node --import tsx/esm bench/streaming.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { logMelSpectrogram, type Spectrogram, StreamingFeatureExtractor } from '../src/features/index.js';
import { crnn } from '../src/models/index.js';
import { createRng } from '../src/random.js';
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
}

await main();
