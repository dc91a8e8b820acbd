/**
 * Same-process A/B of the pure-TS log-mel front end: the frozen reference implementation in
 * `bench/baseline/` (the code before the speed work of issue 2) against `src/features/`, on the
 * same 1 s clip with DEFAULT_FRONT_END (480/160, 40 mels, 101 frames). The two are timed in
 * alternating blocks and the ratio is taken per adjacent pair of blocks, so load from other
 * processes (which changes slowly) cancels out of the ratio even when absolute times are noisy.
 * Blocks are timed in CPU time of this process (`process.cpuUsage`), not wall time: on a busy
 * machine a block of a few ms is preempted at random, which wall time would count and CPU time
 * does not.
 *
 * Prints ms per clip (median block) for each, the median paired speed-up, and the largest
 * difference between the two outputs (both must agree to well within the parity tolerances).
 *
 * Run: node --import tsx/esm bench/front-end-ab.ts [rounds]
 */

import { logMelSpectrogram } from '../src/features/front-end.js';
import { createRng } from '../src/random.js';
import { logMelSpectrogram as baselineLogMel } from './baseline/front-end.js';

const SAMPLE_RATE = 16000;
const rng = createRng(2024);
// The clip of bench/features.ts: a chirp under a half-sine envelope plus a little noise.
const clip = Float32Array.from({ length: SAMPLE_RATE }, (_, i) => {
  const env = Math.max(0, Math.sin((Math.PI * i) / SAMPLE_RATE));
  return env * 0.5 * Math.sin((2 * Math.PI * (200 + i / 40) * i) / SAMPLE_RATE) + 0.02 * rng.normal();
});

const rounds = Number(process.argv[2] ?? 200);
const clipsPerBlock = 40;
const warmupRounds = 20;

const reference = baselineLogMel(clip);
const current = logMelSpectrogram(clip);
let maxDiff = 0;
for (let i = 0; i < reference.data.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs((reference.data[i] as number) - (current.data[i] as number)));
}

/** User + system CPU time of this process, in ms. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

let sink = 0;
function block(fn: (x: Float32Array) => { data: Float32Array }): number {
  const t0 = cpuMs();
  for (let i = 0; i < clipsPerBlock; i++) sink += fn(clip).data[i] as number;
  return (cpuMs() - t0) / clipsPerBlock;
}

const baseTimes: number[] = [];
const newTimes: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < warmupRounds + rounds; r++) {
  // Alternate which side goes first so neither always runs right after the other's garbage.
  let base: number;
  let next: number;
  if (r % 2 === 0) {
    base = block(baselineLogMel);
    next = block(logMelSpectrogram);
  } else {
    next = block(logMelSpectrogram);
    base = block(baselineLogMel);
  }
  if (r < warmupRounds) continue;
  baseTimes.push(base);
  newTimes.push(next);
  ratios.push(base / next);
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};
const median = (values: number[]): number => quantile(values, 0.5);
const ratio = median(ratios);
console.log(
  `clips: ${rounds} blocks × ${clipsPerBlock} per implementation (after ${warmupRounds} warm-up blocks)`,
);
console.log(`baseline (bench/baseline): ${median(baseTimes).toFixed(4)} ms CPU per 1 s clip`);
console.log(`current  (src/features):   ${median(newTimes).toFixed(4)} ms CPU per 1 s clip`);
console.log(
  `median paired speed-up: ${ratio.toFixed(3)}× (quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}; ≥ 1.42× takes 2,122× real time to 3000×)`,
);
console.log(`max |Δ log-mel| between the two: ${maxDiff.toExponential(2)} nats`);
if (!Number.isFinite(sink)) console.log('(non-finite checksum)');
