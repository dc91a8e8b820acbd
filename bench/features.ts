/**
 * Front-end speed, side by side in one run: ms per 1 s clip (16 kHz) and × real time for
 *   - the pure-TS log-mel (`logMelSpectrogram`, DEFAULT_FRONT_END: 480/160, 40 mels),
 *   - the tfjs op (`LogMelOp`) on the cpu and wasm backends, batch 1 and batch 64,
 *   - Meyda computing 40 mel bands over the same 101 frames (512-sample frames: Meyda needs a
 *     power-of-two buffer),
 *   - torchaudio's MelSpectrogram at 1 thread, if /usr/bin/python3 has it (+ ln(x + 1e-6)).
 * Writes bench/results/features.json and docs/benchmarks-features.md.
 *
 * Run: npm run bench:features
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import Meyda from 'meyda';
import { DEFAULT_FRONT_END, LogMelOp, logMelSpectrogram } from '../src/features/index.js';
import { createRng } from '../src/random.js';

const SAMPLE_RATE = 16000;
const rng = createRng(2024);
const clip = Float32Array.from({ length: SAMPLE_RATE }, (_, i) => {
  const env = Math.max(0, Math.sin((Math.PI * i) / SAMPLE_RATE));
  return env * 0.5 * Math.sin((2 * Math.PI * (200 + i / 40) * i) / SAMPLE_RATE) + 0.02 * rng.normal();
});

interface Row {
  method: string;
  batch: number;
  msPerClip: number;
  realTime: number;
  note?: string;
}

/** Median over `rounds` of the mean time of `inner` calls, after warm-up; in ms per call. */
async function time(fn: () => unknown | Promise<unknown>, inner: number, rounds = 7): Promise<number> {
  for (let i = 0; i < Math.max(3, inner); i++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    samples.push((performance.now() - t0) / inner);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)] as number;
}

function row(method: string, batch: number, msPerCall: number, note?: string): Row {
  const msPerClip = msPerCall / batch;
  return { method, batch, msPerClip, realTime: 1000 / msPerClip, ...(note ? { note } : {}) };
}

const rows: Row[] = [];

// Pure TS.
rows.push(row('kws-kit pure-TS logMelSpectrogram', 1, await time(() => logMelSpectrogram(clip), 300)));

// tfjs op on cpu and wasm.
tf.enableProdMode();
for (const backend of ['cpu', 'wasm']) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const op = new LogMelOp();
  for (const batch of [1, 64]) {
    const input = tf.tensor2d(
      Array.from({ length: batch }, () => Array.from(clip)),
      [batch, SAMPLE_RATE],
    );
    const ms = await time(
      async () => {
        const out = op.apply(input);
        await out.data();
        out.dispose();
      },
      batch === 1 ? 30 : 3,
      5,
    );
    rows.push(row(`kws-kit LogMelOp (tfjs ${backend})`, batch, ms));
    input.dispose();
  }
  op.dispose();
}

// Meyda: 40 mel bands per frame over the same centred 101 frames, 512-sample frames.
{
  Meyda.bufferSize = 512;
  Meyda.sampleRate = SAMPLE_RATE;
  Meyda.melBands = 40;
  Meyda.windowingFunction = 'hanning';
  const pad = 256;
  const padded = new Float32Array(SAMPLE_RATE + 2 * pad);
  padded.set(clip, pad);
  const frames = 101;
  const ms = await time(() => {
    for (let t = 0; t < frames; t++) Meyda.extract('melBands', padded.subarray(t * 160, t * 160 + 512));
  }, 20);
  rows.push(row('Meyda 5 melBands (40 bands, 512-sample frames)', 1, ms, 'log(x + 1) of mel power'));
}

// torchaudio at 1 thread, same clip, same process run.
let torchaudioVersion: string | null = null;
try {
  const dir = mkdtempSync(join(tmpdir(), 'kws-bench-'));
  const clipPath = join(dir, 'clip.f32');
  writeFileSync(clipPath, Buffer.from(clip.buffer));
  const script = `
import json, sys, time, numpy as np, torch, torchaudio
torch.set_num_threads(1)
x = torch.from_numpy(np.fromfile(sys.argv[1], dtype=np.float32))
mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=480, win_length=480, hop_length=160, n_mels=40)
def run(batch, inner, rounds=7):
    xb = x.repeat(batch, 1)
    with torch.inference_mode():
        for _ in range(max(3, inner)): torch.log(mel(xb) + 1e-6)
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(inner): torch.log(mel(xb) + 1e-6)
            samples.append((time.perf_counter() - t0) / inner * 1000)
    samples.sort()
    return samples[rounds // 2]
print(json.dumps({"version": torchaudio.__version__, "torch": torch.__version__, "b1": run(1, 300), "b64": run(64, 10)}))
`;
  const out = execFileSync('/usr/bin/python3', ['-c', script, clipPath], { encoding: 'utf8' });
  const result = JSON.parse(out.trim().split('\n').pop() as string);
  torchaudioVersion = `torchaudio ${result.version} / torch ${result.torch}`;
  rows.push(row('torchaudio MelSpectrogram + log (1 thread)', 1, result.b1));
  rows.push(row('torchaudio MelSpectrogram + log (1 thread)', 64, result.b64));
} catch (e) {
  console.warn(`torchaudio not measured: ${(e as Error).message.split('\n')[0]}`);
}

const pure = rows[0] as Row;
const torch1 = rows.find((r) => r.method.startsWith('torchaudio') && r.batch === 1);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  frontEnd: DEFAULT_FRONT_END,
  clip: '1 s at 16 kHz (chirp + noise, seeded)',
  torchaudio: torchaudioVersion,
  rows,
  targets: {
    pureTsRealTime: pure.realTime,
    pureTsAtLeast3000x: pure.realTime >= 3000,
    pureTsVsTorchaudio1Thread: torch1 ? torch1.msPerClip / pure.msPerClip : null,
    pureTsAtLeastAsFastAsTorchaudio: torch1 ? pure.msPerClip <= torch1.msPerClip : null,
  },
};

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/features.json', `${JSON.stringify(result, null, 2)}\n`);
const table = [
  '| method | batch | ms per 1 s clip | × real time |',
  '|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.batch} | ${r.msPerClip.toFixed(3)} | ${Math.round(r.realTime).toLocaleString('en')} |`,
  ),
].join('\n');
const markdown = `# Front-end benchmark

Measured by \`npm run bench:features\` on ${result.date.slice(0, 10)}, ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}${torchaudioVersion ? `, ${torchaudioVersion}` : ''}. All rows come from the same run.
Log-mel of a 1 s, 16 kHz clip: nFft = winLength = 480, hop 160, 40 mels, centred (101 frames), ln(x + 1e-6). Each figure is the median of 7 rounds after warm-up.

${table}

Pure-TS log-mel vs torchaudio (1 thread, batch 1): ${torch1 ? `${(torch1.msPerClip / pure.msPerClip).toFixed(2)}× torchaudio's speed` : 'torchaudio not available'}. Target ≥ 3000× real time: ${pure.realTime >= 3000 ? 'met' : `not met (${Math.round(pure.realTime)}×)`}.
`;
writeFileSync('docs/benchmarks-features.md', markdown);
console.log(markdown);
