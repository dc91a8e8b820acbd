/**
 * The streaming demonstration on real speech (issue 5): StreamingKWS over glued gsc-dev
 * validation clips. Not part of the test suite (it needs the data and a trained model).
 *
 *   npx tsx scripts/stream-gsc.ts [dataDir] --model <model dir> [--minutes 5] [--seed 0]
 *     [--out bench/results/streaming-gsc.json] [--svg docs/img/streaming-demo.svg]
 *     [--backend wasm|cpu] [--chunk-ms 20] [--noise-gain 0.5] [--after-ms 500] [--labels a,b,...]
 *
 * 1. Demo track: two 10–20 s background excerpts with a validation keyword clip between them
 *    (seeded choice), streamed in `--chunk-ms` chunks; writes an SVG of the keyword's smoothed
 *    probability over time with the threshold, the keyword's true span and the detections.
 * 2. Long stream (`--minutes`): validation keyword clips separated by background noise (scaled
 *    by `--noise-gain`: a quiet room), other words (`_unknown_`) and gaps, with ground-truth
 *    spans. For each mode StreamingKWS supports with the model (`window`; `stateful` when it
 *    accepts the model), one pass gives the best keyword and its smoothed score per model run;
 *    from those the detector is replayed at every threshold (exact, see bestKeywordSequence) to
 *    score hits (right label within [start, end + after-ms] of a keyword clip), misses and false
 *    alarms per hour, and the FRR at 1 and 10 false alarms per hour. The default StreamingKWS
 *    settings are REFERENCE.md's naive recipe (1 s window every 100 ms, mean of the last 3
 *    windows, threshold 0.8, 1 s refractory), reported for comparison with its ~71 % recall.
 *
 * dataDir defaults to /tmp/gsc-dev-wav-datahelper. Labels come from the model's kws-kit metadata,
 * else `--labels`, else the v2-12 labels (training checkpoints carry no metadata).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { V2_12_LABELS } from '../src/data/index.js';
import { KwsError } from '../src/errors.js';
import { decodeWav } from '../src/features/index.js';
import { loadModel, readKwsMetadata } from '../src/models/index.js';
import { linePlot, type PlotSeries } from '../src/plot/index.js';
import { createRng } from '../src/random.js';
import {
  type Detection,
  detectKeywords,
  FILLER_LABELS,
  StreamingKWS,
  type StreamingMode,
} from '../src/streaming/index.js';
import {
  bestKeywordSequence,
  frrAtFalseAlarmRate,
  type KeywordSpan,
  scoreDetections,
  sweepThresholds,
  type ThresholdPoint,
} from '../src/streaming/stream-score.js';
import { buildGluedStream, type Clip, demoTrack } from './glued-stream.js';
import { dataFolder, parseArgs, selectBackend } from './script-args.js';

const { positional, flags } = parseArgs(process.argv.slice(2), []);
const num = (key: string, fallback: number): number => (flags.has(key) ? Number(flags.get(key)) : fallback);
const dataDir = dataFolder(positional, 'stream-gsc.ts');
const modelDir = flags.get('model');
if (modelDir === undefined) {
  console.error(
    'usage: tsx scripts/stream-gsc.ts [dataDir] --model <model dir> [--minutes 5] [--seed 0] [--out file]',
  );
  process.exit(2);
}
const minutes = num('minutes', 5);
const seed = num('seed', 0);
const chunkMs = num('chunk-ms', 20);
const noiseGain = num('noise-gain', 0.5);
const afterMs = num('after-ms', 500);
const backend = flags.get('backend') ?? 'wasm';
const outFile = flags.get('out') ?? 'bench/results/streaming-gsc.json';
const svgFile = flags.get('svg') ?? 'docs/img/streaming-demo.svg';
const SAMPLE_RATE = 16000;
const NAIVE = { threshold: 0.8, refractoryMs: 1000 };
const MODES: StreamingMode[] = ['window', 'stateful'];

await selectBackend(backend);
const model = await loadModel(modelDir);
const modelJson = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
  userDefinedMetadata?: unknown;
};
const labels: string[] =
  readKwsMetadata(modelJson.userDefinedMetadata)?.labels ??
  (flags.has('labels') ? (flags.get('labels') as string).split(',') : [...V2_12_LABELS]);
const keywords = labels.filter((l) => !FILLER_LABELS.includes(l));
let checkpoint: unknown = null;
try {
  checkpoint = JSON.parse(readFileSync(join(modelDir, 'state.json'), 'utf8'));
} catch {
  // Not a training checkpoint: nothing to report.
}

// ---- data: validation clips only (speakers disjoint from training) ---------------------------
function readWav(path: string): Float32Array {
  const { sampleRate, channels } = decodeWav(readFileSync(path));
  if (sampleRate !== SAMPLE_RATE || channels.length !== 1) throw new Error(`${path}: expected 16 kHz mono`);
  return channels[0] as Float32Array;
}
const keywordClips: Clip[] = [];
const fillerClips: Clip[] = [];
for (const file of readFileSync(join(dataDir, 'validation_list.txt'), 'utf8').split('\n').filter(Boolean)) {
  const folder = file.split('/')[0] as string;
  if (folder === '_silence_' || folder === '_background_noise_') continue;
  const clip = {
    label: keywords.includes(folder) ? folder : '_unknown_',
    file,
    audio: readWav(join(dataDir, file)),
  };
  (clip.label === '_unknown_' ? fillerClips : keywordClips).push(clip);
}
const noiseDir = join(dataDir, '_background_noise_');
const noise = readdirSync(noiseDir)
  .filter((f) => f.endsWith('.wav'))
  .sort()
  .map((f) => readWav(join(noiseDir, f)));
console.error(
  `${keywordClips.length} keyword clips, ${fillerClips.length} other words, ${noise.length} noise files`,
);

// ---- streaming ---------------------------------------------------------------------------------
interface Pass {
  /** Best keyword per model run (StreamingKWS with threshold 0, refractory 0). */
  best: Detection[];
  /** Smoothed probability of `target` per model run, if asked. */
  target: Detection[];
  /** Detections with the default (naive) settings, if asked. */
  events: Detection[];
  seconds: number;
  /** The resolved settings of the spotters (hop, window, smoothing). */
  settings: Record<string, unknown>;
}

/** Streams `samples` in chunkMs chunks through one or more spotters sharing a model; null if the mode is refused. */
async function stream(
  m: LayersModel,
  mode: StreamingMode,
  samples: Float32Array,
  extra: { target?: string; events?: boolean },
): Promise<Pass | { skipped: string }> {
  const spotters: StreamingKWS[] = [];
  try {
    spotters.push(await StreamingKWS.create({ model: m, labels, mode, threshold: 0, refractoryMs: 0 }));
    if (extra.target !== undefined) {
      spotters.push(
        await StreamingKWS.create({
          model: m,
          labels,
          mode,
          keywords: [extra.target],
          threshold: 0,
          refractoryMs: 0,
        }),
      );
    }
    if (extra.events === true) spotters.push(await StreamingKWS.create({ model: m, labels, mode, ...NAIVE }));
  } catch (e) {
    for (const s of spotters) s.dispose();
    if (e instanceof KwsError) return { skipped: `${e.code}: ${e.message}` };
    throw e;
  }
  const results: Detection[][] = spotters.map(() => []);
  const chunk = Math.round((chunkMs * SAMPLE_RATE) / 1000);
  const start = performance.now();
  for (let at = 0; at < samples.length; at += chunk) {
    const piece = samples.subarray(at, Math.min(samples.length, at + chunk));
    for (const [i, s] of spotters.entries()) (results[i] as Detection[]).push(...(await s.push(piece)));
  }
  for (const [i, s] of spotters.entries()) (results[i] as Detection[]).push(...(await s.flush()));
  const seconds = (performance.now() - start) / 1000;
  const { hopMs, windowMs, windowFrames, smoothingMs, smoothingHops } = (spotters[0] as StreamingKWS).config;
  for (const s of spotters) s.dispose();
  const [best = [], ...rest] = results;
  return {
    best,
    target: extra.target === undefined ? [] : (rest.shift() ?? []),
    events: extra.events === true ? (rest.shift() ?? []) : [],
    seconds,
    settings: { mode, hopMs, windowMs, windowFrames, smoothingMs, smoothingHops },
  };
}

/** Detections of the detector replayed on the best-keyword sequence (exact for one shared threshold). */
function replay(best: Detection[], threshold: number, refractoryMs: number): Detection[] {
  return detectKeywords(bestKeywordSequence(best, labels.length), {
    labels,
    keywords,
    threshold,
    refractoryMs,
  });
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

// ---- 1. demo track ------------------------------------------------------------------------------
const demoRng = createRng(seed);
const demoClip = keywordClips[demoRng.int(keywordClips.length)] as Clip;
const demo = demoTrack(noise, demoClip, SAMPLE_RATE, noiseGain, demoRng);
const demoDurationMs = (1000 * demo.samples.length) / SAMPLE_RATE;
console.error(
  `demo: "${demoClip.label}" (${demoClip.file}) at ${(demo.span.startMs / 1000).toFixed(2)} s of ${(demoDurationMs / 1000).toFixed(1)} s`,
);
const demoResults: Record<string, unknown> = {};
const series: PlotSeries[] = [];
const markers: { x: number; label: string }[] = [];
for (const mode of MODES) {
  const pass = await stream(model, mode, demo.samples, { target: demoClip.label, events: true });
  if ('skipped' in pass) {
    demoResults[mode] = pass;
    continue;
  }
  const replayed = replay(pass.best, NAIVE.threshold, NAIVE.refractoryMs);
  const same = JSON.stringify(replayed) === JSON.stringify(pass.events);
  if (!same) console.error(`WARNING: ${mode}: replayed detections differ from StreamingKWS's own`);
  demoResults[mode] = {
    events: pass.events.map(({ label, score, timeMs }) => ({ label, score, timeMs })),
    replayMatchesStreamingKws: same,
    settings: pass.settings,
    peak: Math.max(...pass.target.map((d) => d.score)),
    seconds: pass.seconds,
  };
  series.push({
    name: `p(${demoClip.label}), ${mode} mode`,
    x: pass.target.map((d) => d.timeMs / 1000),
    y: pass.target.map((d) => d.score),
  });
  for (const d of pass.events) {
    markers.push({
      x: d.timeMs / 1000,
      label: `${MODES.length > 1 && mode !== 'window' ? `${mode}: ` : ''}${d.label} ${d.score.toFixed(2)}`,
    });
  }
}
series.push({
  name: `threshold ${NAIVE.threshold}`,
  x: [0, demoDurationMs / 1000],
  y: [NAIVE.threshold, NAIVE.threshold],
});
mkdirSync(dirname(svgFile), { recursive: true });
writeFileSync(
  svgFile,
  linePlot(series, {
    title: `StreamingKWS on a glued track: "${demoClip.label}" between two background excerpts`,
    xLabel: 'time (s)',
    yLabel: `smoothed probability of "${demoClip.label}"`,
    yRange: [0, 1],
    bands: [
      { from: demo.span.startMs / 1000, to: demo.span.endMs / 1000, label: `"${demoClip.label}" clip` },
    ],
    markers,
  }),
);
console.error(`wrote ${svgFile}`);

// ---- 2. long stream -----------------------------------------------------------------------------
const glued = buildGluedStream({
  keywords: keywordClips,
  fillers: fillerClips,
  noise,
  sampleRate: SAMPLE_RATE,
  durationMs: minutes * 60_000,
  noiseGain,
  gapMs: [1000, 3000],
  fillerProbability: 0.5,
  rng: createRng(seed + 1),
});
const durationMs = (1000 * glued.samples.length) / SAMPLE_RATE;
const spans: KeywordSpan[] = glued.spans;
console.error(
  `long stream: ${(durationMs / 60000).toFixed(1)} min, ${spans.length} keywords, ` +
    `${glued.parts.length - spans.length} other words`,
);
const thresholds = [
  ...Array.from({ length: 95 }, (_, i) => Number((0.02 + 0.01 * i).toFixed(2))),
  0.965,
  0.97,
  0.975,
  0.98,
  0.985,
  0.99,
  0.993,
  0.995,
  0.997,
  0.998,
  0.999,
  0.9995,
  0.9999,
];
const REPORTED = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
const modeResults: Record<string, unknown> = {};
const rows: string[] = [];
for (const mode of MODES) {
  const pass = await stream(model, mode, glued.samples, {});
  if ('skipped' in pass) {
    modeResults[mode] = pass;
    rows.push(`| ${mode} | skipped: ${pass.skipped.split(':')[0]} | | | | | | |`);
    continue;
  }
  const scoreOptions = { durationMs, afterMs };
  const curve: ThresholdPoint[] = sweepThresholds(bestKeywordSequence(pass.best, labels.length), spans, {
    labels,
    keywords,
    thresholds,
    refractoryMs: NAIVE.refractoryMs,
    ...scoreOptions,
  });
  const naive = scoreDetections(replay(pass.best, NAIVE.threshold, NAIVE.refractoryMs), spans, scoreOptions);
  const at = (t: number): ThresholdPoint | undefined => curve.find((p) => p.threshold === t);
  const frr1 = frrAtFalseAlarmRate(curve, 1);
  const frr10 = frrAtFalseAlarmRate(curve, 10);
  const { hitBy: _h, falseAlarmIndices: _f, ...naiveCounts } = naive;
  modeResults[mode] = {
    settings: pass.settings,
    modelRuns: pass.best.length,
    seconds: pass.seconds,
    realTimeFactor: pass.seconds / (durationMs / 1000),
    naive: naiveCounts,
    frrAt1FaPerHour: frr1,
    frrAt10FaPerHour: frr10,
    curve: curve.filter((p) => REPORTED.includes(p.threshold)),
    fullCurve: curve,
  };
  const frrText = (r: typeof frr1): string =>
    r === null
      ? 'not reached'
      : `${pct(r.falseRejectionRate)} (θ ${r.threshold}; interp. ${pct(r.interpolatedFrr)})`;
  const p05 = at(0.5);
  rows.push(
    `| ${mode} | ${naive.hits}/${naive.keywords} (${pct(naive.recall)}) | ${naive.misses} | ${naive.falseAlarms} ` +
      `(${naive.confusions} confusions) | ${naive.falseAlarmsPerHour.toFixed(0)} | ` +
      `${p05 === undefined ? '' : `${pct(p05.recall)}, ${p05.falseAlarmsPerHour.toFixed(0)} FA/h`} | ${frrText(frr1)} | ${frrText(frr10)} |`,
  );
}

const result = {
  script: 'scripts/stream-gsc.ts',
  model: modelDir,
  checkpoint,
  labels,
  backend,
  seed,
  chunkMs,
  noiseGain,
  scoring: { afterMs, beforeMs: 0, falseAlarmsPerHourOf: 'whole stream duration' },
  naiveSettings: { windowMs: 1030, hopMs: 100, smoothingMs: 300, ...NAIVE },
  reference: {
    naiveRecall: 0.71,
    naiveRecallAtThreshold05: 0.79,
    source: 'gsc-dev REFERENCE.md (BC-ResNet-1, PyTorch)',
  },
  demo: {
    clip: demoClip.file,
    label: demoClip.label,
    span: demo.span,
    durationMs: demoDurationMs,
    svg: svgFile,
    ...demoResults,
  },
  stream: {
    durationMs,
    keywords: spans.length,
    otherWords: glued.parts.length - spans.length,
    gapMs: [1000, 3000],
    fillerProbability: 0.5,
  },
  modes: modeResults,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(result, null, 1)}\n`);
console.error(`wrote ${outFile}`);

console.log(
  `\nStreaming accuracy on ${(durationMs / 60000).toFixed(1)} min of glued gsc-dev validation speech ` +
    `(${spans.length} keywords, ${glued.parts.length - spans.length} other words; model ${modelDir}).\n` +
    'Default StreamingKWS settings at threshold 0.8, 1 s refractory; in window mode these are the reference naive ' +
    'setting (1 s window every 100 ms, mean of the last 3 windows; reference BC-ResNet-1: ~71 % recall). ' +
    'Stateful mode runs at its own default hop (see the JSON).\n',
);
console.log(
  '| mode | θ 0.8: hits (recall) | misses | false alarms | FA/h | at θ 0.5: recall, FA/h | FRR at 1 FA/h | FRR at 10 FA/h |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
