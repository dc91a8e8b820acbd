/**
 * `docs/benchmarks.md` as a pure function of the benchmark result files: a headline table of
 * every target the issues set (with REFERENCE.md's figures where they supersede the issues'),
 * the measured figure, its ratio to the target and an honest verdict, then one section per
 * result file. Files that do not exist are reported as not run yet; nothing is filled in.
 */

/** Parsed `bench/results/*.json` files, keyed by file name (e.g. `features.json`). */
export type BenchResults = Readonly<Record<string, unknown>>;

/** Verdict of one target. */
export type Verdict = 'met' | 'not met' | 'not run yet';

/** One row of the headline table. */
export interface TargetCheck {
  /** What is asked, in words. */
  target: string;
  /** Where the target comes from (issue number or REFERENCE.md). */
  source: string;
  /** Result file the figure is read from. */
  file: string;
  /** The measured figure in words, or null when not run. */
  measured: string | null;
  /**
   * Measured over required, oriented so that ≥ 1 means the target is met (for "at most"
   * targets, required over measured); null for yes/no targets and missing results.
   */
  ratio: number | null;
  verdict: Verdict;
}

/** Options of {@link renderBenchmarksDoc}. */
export interface RenderOptions {
  /** Detailed generated pages that exist, relative to `docs/` (e.g. `compression.md`). */
  pages: readonly string[];
  /** Command that regenerates the page, quoted in its header. */
  command: string;
}

/** gsc-dev REFERENCE.md figures (PyTorch 1.13 / torchaudio 0.13.1 on 2 cores). */
export const REFERENCE = {
  bcResNet1ValidationAccuracy: 0.894,
  crnnValidationAccuracy: 0.867,
  /** BC-ResNet-1 batch-1 inference, ms (range by machine load). */
  bcResNet1LatencyMs: [2.8, 3.4] as const,
  /** Naive windowed BC-ResNet-1 recall on glued tracks (threshold 0.8). */
  naiveStreamingRecall: 0.71,
} as const;

/** The result files the page knows, in page order, with the detailed page of each. */
export const KNOWN_RESULTS: readonly { file: string; title: string; page?: string }[] = [
  { file: 'features.json', title: 'Front end (log-mel)', page: 'benchmarks-features.md' },
  { file: 'models.json', title: 'Models: size, cost and inference latency', page: 'benchmarks-models.md' },
  { file: 'crnn-inference.json', title: 'CRNN inference against PyTorch' },
  { file: 'bc-resnet-inference.json', title: 'BC-ResNet-1 inference against PyTorch' },
  { file: 'train-step.json', title: 'Training step throughput' },
  { file: 'train-parallel.json', title: 'Training with parallel workers' },
  { file: 'train-gsc-*.json', title: 'Training on gsc-dev' },
  { file: 'streaming.json', title: 'Streaming cost per hop' },
  { file: 'streaming-gsc*.json', title: 'Streaming detection on glued gsc-dev tracks' },
  { file: 'compression.json', title: 'Compression', page: 'compression.md' },
  { file: 'tuning.json', title: 'Architecture and recipe search', page: 'tuning.md' },
];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a finite number, else null. */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function get(v: unknown, ...path: (string | number)[]): unknown {
  let at = v;
  for (const key of path) {
    if (typeof key === 'number') at = Array.isArray(at) ? at[key] : undefined;
    else at = isObject(at) ? at[key] : undefined;
  }
  return at;
}

function rows(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

const fixed = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (v: number): string => `${fixed(100 * v, 1)} %`;
const ms = (v: number): string => `${fixed(v, v < 10 ? 2 : 1)} ms`;
const times = (v: number): string => `${fixed(v, v < 10 ? 2 : 1)}×`;
const count = (v: number): string => Math.round(v).toLocaleString('en-US');

/** Markdown table: header, alignment row and body rows; `|` in cells is escaped. */
function table(
  header: readonly string[],
  body: readonly (readonly string[])[],
  right: readonly number[] = [],
) {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const align = header.map((_, i) => (right.includes(i) ? '---:' : '---'));
  return [header, align, ...body].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

/** A check whose figure exists: the verdict follows from `met`. */
function measuredCheck(
  base: Omit<TargetCheck, 'measured' | 'ratio' | 'verdict'>,
  measured: string,
  ratio: number | null,
  met: boolean,
): TargetCheck {
  return { ...base, measured, ratio, verdict: met ? 'met' : 'not met' };
}

function missing(base: Omit<TargetCheck, 'measured' | 'ratio' | 'verdict'>): TargetCheck {
  return { ...base, measured: null, ratio: null, verdict: 'not run yet' };
}

function findRow(list: Json[], test: (r: Json) => boolean): Json | undefined {
  return list.find(test);
}

function frontEndChecks(results: BenchResults): TargetCheck[] {
  const file = 'features.json';
  const speed = {
    target: 'Pure-TS log-mel at least as fast as torchaudio (1 thread), batch 1',
    source: 'issue 2',
    file,
  };
  const realTime = { target: 'Pure-TS log-mel ≥ 3000× real time', source: 'issue 2', file };
  const doc = results[file];
  if (doc === undefined) return [missing(speed), missing(realTime)];
  const list = rows(get(doc, 'rows'));
  const ours = findRow(list, (r) => String(r.method).includes('pure-TS') && r.batch === 1);
  const torch = findRow(list, (r) => String(r.method).startsWith('torchaudio') && r.batch === 1);
  const oursMs = num(ours?.msPerClip);
  const torchMs = num(torch?.msPerClip);
  const oursRt = num(ours?.realTime);
  const out: TargetCheck[] = [];
  out.push(
    oursMs === null || torchMs === null
      ? missing(speed)
      : measuredCheck(
          speed,
          `${ms(oursMs)} vs torchaudio ${ms(torchMs)} per 1 s clip`,
          torchMs / oursMs,
          oursMs <= torchMs,
        ),
  );
  out.push(
    oursRt === null
      ? missing(realTime)
      : measuredCheck(realTime, `${count(oursRt)}× real time`, oursRt / 3000, oursRt >= 3000),
  );
  return out;
}

/** The `train-gsc-*.json` file names, sorted. */
function trainGscFiles(results: BenchResults): string[] {
  return Object.keys(results)
    .filter((f) => /^train-gsc-.+\.json$/.test(f))
    .sort();
}

/** The `streaming-gsc*.json` file names (one per model), sorted. */
function streamingGscFiles(results: BenchResults): string[] {
  return Object.keys(results)
    .filter((f) => /^streaming-gsc(-.+)?\.json$/.test(f))
    .sort();
}

/** Files a KNOWN_RESULTS entry stands for (a pattern with `*` matches several). */
function filesOf(known: string, results: BenchResults): string[] {
  if (known === 'train-gsc-*.json') return trainGscFiles(results);
  if (known === 'streaming-gsc*.json') return streamingGscFiles(results);
  return results[known] === undefined ? [] : [known];
}

/**
 * REFERENCE.md gives accuracies to 0.1 pp; a run meets one when it shows the same figure or more
 * at that precision. On gsc-dev's 592 validation clips each figure stands for one clip count
 * (86.7 % is 513 clips, 86.655 %; 514 clips would read 86.8 %), so this compares clip counts.
 */
function meetsReference(accuracy: number, required: number): boolean {
  return Math.round(accuracy * 1000) >= Math.round(required * 1000);
}

/** The PyTorch reference CRNN's own runs on this split (`reference-crnn-torch.json`), as a clause. */
function referenceCrnnRuns(results: BenchResults): string {
  const runs = rows(get(results['reference-crnn-torch.json'], 'runs'));
  const text = runs
    .map((r) => ({ seed: num(r.seed), acc: num(r.bestValidationAccuracy) }))
    .filter((r) => r.seed !== null && r.acc !== null)
    .map((r) => `seed ${String(r.seed)} ${pct(r.acc as number)}`);
  return text.length === 0
    ? ''
    : `; the reference CRNN trained here in PyTorch (scripts/torch-train-gsc.py, same split and recipe): ${text.join(', ')}`;
}

function accuracyChecks(results: BenchResults): TargetCheck[] {
  const files = trainGscFiles(results);
  const accuracy = (f: string): number => num(get(results[f], 'bestValidationAccuracy')) ?? -1;
  /** Every matching run, best first (several seeds or recipes of one model may be committed). */
  const matching = (test: (f: string, doc: unknown) => boolean): string[] =>
    files.filter((f) => test(f, results[f])).sort((a, b) => accuracy(b) - accuracy(a));
  const specs: {
    target: string;
    required: number;
    find: (f: string, doc: unknown) => boolean;
    file: string;
    /** Extra context for the measured cell (the PyTorch reference's own runs, say). */
    context?: string;
  }[] = [
    {
      target: `BC-ResNet-1 best validation accuracy on gsc-dev ≥ ${pct(REFERENCE.bcResNet1ValidationAccuracy)}`,
      required: REFERENCE.bcResNet1ValidationAccuracy,
      find: (f) => f === 'train-gsc-bc-resnet-1.json',
      file: 'train-gsc-bc-resnet-1.json',
    },
    {
      target: `Causal BC-ResNet-1 (stateful streaming) best validation accuracy on gsc-dev ≥ ${pct(REFERENCE.bcResNet1ValidationAccuracy)}`,
      required: REFERENCE.bcResNet1ValidationAccuracy,
      find: (f) => f === 'train-gsc-bc-resnet-1-causal.json',
      file: 'train-gsc-bc-resnet-1-causal.json',
    },
    {
      target: `CRNN best validation accuracy on gsc-dev ≥ ${pct(REFERENCE.crnnValidationAccuracy)}`,
      required: REFERENCE.crnnValidationAccuracy,
      find: (f, doc) => f.startsWith('train-gsc-crnn') || get(doc, 'model') === 'crnn',
      file: 'train-gsc-crnn.json',
      context: referenceCrnnRuns(results),
    },
  ];
  return specs.map((s) => {
    const runs = matching(s.find);
    const best = runs[0];
    const base = {
      target: s.target,
      source: 'REFERENCE.md (supersedes issue 3)',
      file: best ?? s.file,
    };
    const acc = best === undefined ? null : num(get(results[best], 'bestValidationAccuracy'));
    if (best === undefined || acc === null) return missing(base);
    const epochs = num(get(results[best], 'recipe', 'epochs'));
    const others =
      runs.length > 1 ? `; best of ${runs.length} runs: ${runs.map((f) => pct(accuracy(f))).join(', ')}` : '';
    const clips = num(get(results[best], 'data', 'validation'));
    const correct = clips === null ? '' : `, ${count(Math.round(acc * clips))} of ${count(clips)} clips`;
    return measuredCheck(
      base,
      `${pct(acc)}${epochs === null ? '' : ` (${count(epochs)} epochs${correct})`}${others}${s.context ?? ''}`,
      acc / s.required,
      meetsReference(acc, s.required),
    );
  });
}

/**
 * The training-speed target: `train()` on wasm against PyTorch on 2 threads, measured side by
 * side in bench/train-parallel.ts. The configuration that counts is the one a user of this 2-core
 * machine runs (two gradient workers, the default compiled engine); one thread and the tfjs
 * engine are listed next to it. (bench/train-step.ts keeps the older tfjs-gradients comparison,
 * shown in its own section.)
 */
function trainingSpeedChecks(results: BenchResults): TargetCheck[] {
  const check = {
    target: 'train() on wasm ≥ 0.5× PyTorch 2 threads, examples/s (BC-ResNet-1, batch 100, same run)',
    source: 'issue 3',
    file: 'train-parallel.json',
  };
  const par = results['train-parallel.json'];
  const torchEps = num(get(par, 'summary', 'pytorchExamplesPerSecond'));
  const eps = (key: string): number | null => num(get(par, 'summary', key));
  const workers2 = eps('examplesPerSecondWorkers2');
  if (workers2 === null || torchEps === null || torchEps <= 0) return [missing(check)];
  // Two workers and PyTorch's two threads already load a 2-core machine by ~2; well above that,
  // other jobs decided the figures and a ratio cannot count as meeting the target.
  const load = get(par, 'loadAverage');
  const load1 = Array.isArray(load) ? num(load[0]) : null;
  const loaded = load1 !== null && load1 > 3;
  const ratio = workers2 / torchEps;
  const others: string[] = [];
  for (const [label, key] of [
    ['one thread', 'examplesPerSecondCompiled1'],
    ['tfjs engine, one thread', 'examplesPerSecondTfjs1'],
  ]) {
    const v = eps(key as string);
    if (v !== null) others.push(`${label} ${fixed(v, 1)} (${times(v / torchEps)})`);
  }
  const perRound = get(par, 'summary', 'workers2OverPytorchPerRound');
  const rounds = Array.isArray(perRound)
    ? ` (per round ${perRound.map((x) => times(x as number)).join(', ')})`
    : '';
  return [
    measuredCheck(
      check,
      `2 workers ${fixed(workers2, 1)} vs PyTorch ${fixed(torchEps, 1)} examples/s: ${times(ratio)}${rounds}` +
        (others.length > 0 ? `; ${others.join(', ')}` : '') +
        (loaded
          ? ` — measured at load average ${fixed(load1 as number, 1)}, not valid until re-run on an idle machine`
          : ''),
      ratio / 0.5,
      ratio >= 0.5 && !loaded,
    ),
  ];
}

/** A PyTorch batch-1 latency of BC-ResNet-1 measured in the same run, if models.json has one. */
function torchLatencyInRow(row: Json | undefined): number | null {
  const timings = get(row, 'ms');
  if (!isObject(timings)) return null;
  for (const [key, value] of Object.entries(timings)) {
    if (/torch/i.test(key) && /b1|batch 1/.test(key) && num(value) !== null) return value as number;
  }
  return null;
}

/**
 * BC-ResNet-1 batch-1 latency of kws-kit's fastest path against PyTorch at 2 threads (the
 * reference's setting) in the same run (`bc-resnet-inference.json`); null without that file.
 * A run on a loaded machine (1-minute load average above 2.5 on 2 cores: PyTorch's two threads
 * then fight for the cores) is reported but never counted as met.
 */
function bcResNetSameRunCheck(results: BenchResults): TargetCheck | null {
  const file = 'bc-resnet-inference.json';
  const doc = results[file];
  if (doc === undefined) return null;
  const base = {
    target: "BC-ResNet-1 batch-1 latency in Node ≤ 0.5× PyTorch's (2 threads, same run)",
    source: 'issue 3',
    file,
  };
  const list = rows(get(doc, 'rows'));
  const runtime = num(findRow(list, (r) => String(r.method).includes('compileConvNet'))?.msPerClip);
  const wasm = num(findRow(list, (r) => String(r.method).includes('(wasm)'))?.msPerClip);
  const torch1 = num(findRow(list, (r) => String(r.method).includes('1 thread'))?.msPerClip);
  const torch2 = num(findRow(list, (r) => String(r.method).includes('2 threads'))?.msPerClip);
  if (runtime === null || torch2 === null) return missing(base);
  const load1 = num(get(doc, 'machine', 'loadAverage1m'));
  const loaded = load1 !== null && load1 > 2.5;
  const parts = [`kws-kit plain-TS runtime ${ms(runtime)}`];
  if (wasm !== null) parts.push(`tfjs wasm ${ms(wasm)}`);
  parts.push(`PyTorch 2 threads ${ms(torch2)}`);
  if (torch1 !== null) parts.push(`1 thread ${ms(torch1)}`);
  const text =
    `${parts.join(', ')}: ${times(runtime / torch2)} PyTorch's` +
    (loaded
      ? ` — measured at load average ${fixed(load1, 1)}, not valid until re-run on an idle machine`
      : '');
  const ratio = (0.5 * torch2) / runtime;
  return measuredCheck(base, text, ratio, ratio >= 1 && !loaded);
}

function latencyChecks(results: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  // The same-run comparison supersedes the one against REFERENCE.md's figures when it exists.
  const sameRun = bcResNetSameRunCheck(results);
  if (sameRun !== null) out.push(sameRun);
  const bcr = {
    target: "BC-ResNet-1 wasm batch-1 latency ≤ 0.5× PyTorch's",
    source: 'issue 3',
    file: 'models.json',
  };
  const models = results['models.json'];
  const row = findRow(rows(get(models, 'rows')), (r) => r.model === 'BC-ResNet-1');
  const wasm = num(get(row, 'ms', 'wasm b1'));
  if (sameRun !== null) {
    // reported above
  } else if (wasm === null) out.push(missing(bcr));
  else {
    const sameRun = torchLatencyInRow(row);
    // Without a PyTorch row in the same run, the slowest reference figure is the most lenient bar.
    const torch = sameRun ?? REFERENCE.bcResNet1LatencyMs[1];
    const ratio = (0.5 * torch) / wasm;
    const against =
      sameRun === null
        ? `REFERENCE.md's ${REFERENCE.bcResNet1LatencyMs[0]}–${REFERENCE.bcResNet1LatencyMs[1]} ms (not the same run)`
        : `PyTorch ${ms(sameRun)} (same run)`;
    out.push(
      measuredCheck(bcr, `${ms(wasm)} vs ${against}: ${times(wasm / torch)} PyTorch's`, ratio, ratio >= 1),
    );
  }
  const crnnCheck = {
    target: "CRNN latency on wasm/Node ≤ PyTorch's (batch 1, same run)",
    source: 'issue 3',
    file: 'crnn-inference.json',
  };
  const crnnDoc = results['crnn-inference.json'];
  const list = rows(get(crnnDoc, 'rows'));
  const runtime = num(findRow(list, (r) => String(r.method).includes('compileCrnn'))?.msPerClip);
  const torch1 = num(findRow(list, (r) => String(r.method).includes('PyTorch CRNN, 1 thread'))?.msPerClip);
  const torch2 = num(findRow(list, (r) => String(r.method).includes('PyTorch CRNN, 2 threads'))?.msPerClip);
  const torchBest = [torch1, torch2].filter((v): v is number => v !== null).sort((a, b) => a - b)[0];
  if (runtime === null || torchBest === undefined) out.push(missing(crnnCheck));
  else {
    const parts = [`kws-kit plain-TS runtime ${ms(runtime)}`];
    if (torch1 !== null) parts.push(`PyTorch 1 thread ${ms(torch1)}`);
    if (torch2 !== null) parts.push(`2 threads ${ms(torch2)}`);
    out.push(measuredCheck(crnnCheck, parts.join(', '), torchBest / runtime, runtime <= torchBest));
  }
  return out;
}

function streamingChecks(results: BenchResults): TargetCheck[] {
  const file = 'streaming.json';
  const doc = results[file];
  const base = (target: string) => ({ target, source: 'issue 5', file });
  const macs = base('Stateful per-hop MACs ≥ 20× below full recompute, 10 ms hop (BC-ResNet-1)');
  const latency = base('Stateful per-hop latency ≥ 10× below full recompute, 10 ms hop (wasm)');
  const rtf = base('Real-time factor ≤ 0.01 at the 100 ms hop (wasm, stateful)');
  const tensors = base('numTensors constant over a 1-hour stream (20 ms chunks)');
  const heap = base('Heap growth < 1 MB over the 1-hour stream');
  if (doc === undefined) return [macs, latency, rtf, tensors, heap].map(missing);
  const out: TargetCheck[] = [];
  const ratio = findRow(rows(get(doc, 'bcResNet', 'ratios')), (r) => r.backend === 'wasm' && r.hopMs === 10);
  const macsRatio = num(ratio?.macsRatio);
  out.push(
    macsRatio === null
      ? missing(macs)
      : measuredCheck(macs, `${times(macsRatio)} fewer`, macsRatio / 20, macsRatio >= 20),
  );
  const latencyRatio = num(ratio?.latencyRatio);
  out.push(
    latencyRatio === null
      ? missing(latency)
      : measuredCheck(
          latency,
          `${times(latencyRatio)} faster (median)`,
          latencyRatio / 10,
          latencyRatio >= 10,
        ),
  );
  const stateful = findRow(
    rows(get(doc, 'bcResNet', 'rows')),
    (r) => r.backend === 'wasm' && r.hopMs === 100 && String(r.method).startsWith('stateful'),
  );
  const factor = num(stateful?.realTimeFactor);
  out.push(
    factor === null || factor <= 0
      ? missing(rtf)
      : measuredCheck(rtf, `${fixed(factor, 4)} (model step, median)`, 0.01 / factor, factor <= 0.01),
  );
  const stream = get(doc, 'bcResNet', 'stream');
  const before = num(get(stream, 'numTensorsBefore'));
  const after = num(get(stream, 'numTensorsAfter'));
  out.push(
    before === null || after === null
      ? missing(tensors)
      : measuredCheck(tensors, `${count(before)} → ${count(after)}`, null, before === after),
  );
  const heapBefore = num(get(stream, 'heapBeforeBytes'));
  const heapAfter = num(get(stream, 'heapAfterBytes'));
  if (heapBefore === null || heapAfter === null) out.push(missing(heap));
  else {
    const growth = heapAfter - heapBefore;
    const gc = get(stream, 'gcExposed') === true ? ', after GC' : '';
    out.push(
      measuredCheck(
        heap,
        `${growth >= 0 ? '+' : '−'}${fixed(Math.abs(growth) / 1e6, 2)} MB${gc}`,
        growth > 0 ? 1e6 / growth : null,
        growth < 1e6,
      ),
    );
  }
  return out;
}

function streamingRecallCheck(results: BenchResults): TargetCheck {
  const base = {
    target: `Keyword recall on glued tracks above the naive reference's ${pct(REFERENCE.naiveStreamingRecall)} (threshold 0.8)`,
    source: 'REFERENCE.md',
    file: 'streaming-gsc.json',
  };
  let best: { file: string; mode: string; recall: number; falseAlarms: number | null } | null = null;
  // The reference is a BC-ResNet-1, so its BC-ResNet-1 runs are the comparison: best recall,
  // ties to the fewer false alarms.
  for (const file of streamingGscFiles(results)) {
    const modes = get(results[file], 'modes');
    if (!isObject(modes) || !/bcresnet1/.test(String(get(results[file], 'model')))) continue;
    for (const [mode, m] of Object.entries(modes)) {
      const recall = num(get(m, 'naive', 'recall'));
      const falseAlarms = num(get(m, 'naive', 'falseAlarmsPerHour'));
      if (recall === null) continue;
      const better =
        best === null ||
        recall > best.recall ||
        (recall === best.recall && (falseAlarms ?? Infinity) < (best.falseAlarms ?? Infinity));
      if (better) best = { file, mode, recall, falseAlarms };
    }
  }
  if (best === null) return missing(base);
  base.file = best.file;
  const fa = best.falseAlarms === null ? '' : `, ${fixed(best.falseAlarms, 0)} false alarms/h`;
  return measuredCheck(
    base,
    `${pct(best.recall)} (${best.mode}${fa})`,
    best.recall / REFERENCE.naiveStreamingRecall,
    best.recall > REFERENCE.naiveStreamingRecall,
  );
}

function compressionCheck(results: BenchResults): TargetCheck {
  const base = {
    target: 'A student with ≥ 10× fewer MACs and ≥ 10× fewer bytes than the CRNN, ≤ 1 pp accuracy lost',
    source: 'issue 4',
    file: 'compression.json',
  };
  const doc = results['compression.json'];
  if (doc === undefined) return missing(base);
  const settings = rows(get(doc, 'settings'));
  const met = get(doc, 'targets', 'compressedMet') === true;
  const names = get(doc, 'targets', 'compressedStudents');
  const metName = Array.isArray(names) && typeof names[0] === 'string' ? names[0] : null;
  const small = settings.filter(
    (s) => (num(get(s, 'ratios', 'macs')) ?? 0) >= 10 && (num(get(s, 'ratios', 'bytes')) ?? 0) >= 10,
  );
  const chosen =
    (metName === null ? undefined : settings.find((s) => s.name === metName)) ??
    small.sort((a, b) => (num(b.accuracyDeltaPp) ?? -1e9) - (num(a.accuracyDeltaPp) ?? -1e9))[0];
  if (chosen === undefined) {
    return {
      ...base,
      measured: 'no setting reached 10× fewer MACs and bytes',
      ratio: null,
      verdict: 'not met',
    };
  }
  const delta = num(chosen.accuracyDeltaPp);
  const text =
    `${String(chosen.name)}: ${times(num(get(chosen, 'ratios', 'macs')) ?? 0)} fewer MACs, ` +
    `${times(num(get(chosen, 'ratios', 'bytes')) ?? 0)} fewer bytes, ` +
    `${delta === null ? '?' : `${delta >= 0 ? '+' : '−'}${fixed(Math.abs(delta), 1)}`} pp` +
    (get(doc, 'smoke') === true ? ' (smoke run)' : '');
  return measuredCheck(base, text, null, met);
}

function distillationCheck(results: BenchResults): TargetCheck {
  const base = {
    target: 'A distilled student beats the same architecture trained without a teacher',
    source: 'issue 4',
    file: 'compression.json',
  };
  const doc = results['compression.json'];
  const d = doc === undefined ? undefined : get(doc, 'targets', 'distillation');
  if (d === undefined) return missing(base);
  const student = num(get(d, 'studentAccuracy'));
  const alone = num(get(d, 'aloneAccuracy'));
  if (student === null || alone === null) return missing(base);
  return measuredCheck(
    base,
    `${String(get(d, 'student'))} ${pct(student)} vs ${String(get(d, 'alone'))} ${pct(alone)}`,
    student / alone,
    get(doc, 'targets', 'distillationMet') === true,
  );
}

/** Every headline target, in page order, checked against `results`. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  return [
    ...frontEndChecks(results),
    ...accuracyChecks(results),
    ...trainingSpeedChecks(results),
    ...latencyChecks(results),
    ...streamingChecks(results),
    streamingRecallCheck(results),
    compressionCheck(results),
    distillationCheck(results),
  ];
}

/** "date, machine" line of a result file, from whatever it recorded. */
function provenance(doc: unknown): string {
  const date = get(doc, 'date');
  const machine = get(doc, 'machine');
  const parts: string[] = [];
  parts.push(typeof date === 'string' ? `measured ${date}` : 'date not recorded');
  const cpu = get(machine, 'model') ?? get(doc, 'cpu');
  const cpus = get(machine, 'cpus');
  const node = get(machine, 'node') ?? get(doc, 'node');
  const bits = [
    typeof cpus === 'number' ? `${cpus} CPUs` : null,
    typeof cpu === 'string' ? cpu : null,
    typeof node === 'string' ? `Node ${node}` : null,
  ].filter((s): s is string => s !== null);
  if (bits.length > 0) parts.push(bits.join(', '));
  const load = get(doc, 'loadAverage');
  if (Array.isArray(load)) parts.push(`load average ${load.map(String).join(' / ')}`);
  const backend = get(doc, 'backend');
  if (typeof backend === 'string') parts.push(`backend ${backend}`);
  return `_${parts.join('; ')}._`;
}

const fmtMs = (v: unknown): string => (num(v) === null ? '—' : ms(num(v) as number));
const fmtNum = (v: unknown, digits = 0): string => (num(v) === null ? '—' : fixed(num(v) as number, digits));

function featuresSection(doc: unknown): string[] {
  return [
    table(
      ['method', 'batch', 'ms per 1 s clip', '× real time'],
      rows(get(doc, 'rows')).map((r) => [
        String(r.method),
        fmtNum(r.batch),
        fmtMs(r.msPerClip),
        fmtNum(r.realTime),
      ]),
      [1, 2, 3],
    ),
  ];
}

function modelsSection(doc: unknown): string[] {
  const list = rows(get(doc, 'rows'));
  const keys = [...new Set(list.flatMap((r) => (isObject(r.ms) ? Object.keys(r.ms) : [])))];
  return [
    table(
      ['model', 'params', 'MACs', 'weight bytes', ...keys.map((k) => `${k} (ms)`)],
      list.map((r) => [
        String(r.model),
        fmtNum(r.params),
        fmtNum(r.macs),
        fmtNum(r.weightBytes),
        ...keys.map((k) => fmtNum(get(r, 'ms', k), 2)),
      ]),
      [1, 2, 3, ...keys.map((_, i) => 4 + i)],
    ),
  ];
}

function methodMsSection(doc: unknown): string[] {
  return [
    table(
      ['method', 'ms per clip', 'note'],
      rows(get(doc, 'rows')).map((r) => [String(r.method), fmtNum(r.msPerClip, 3), String(r.note ?? '')]),
      [1],
    ),
  ];
}

function trainStepSection(doc: unknown): string[] {
  const out: string[] = [];
  const model = get(doc, 'model');
  if (typeof model === 'string') out.push(`Model: ${model}; optimizer ${String(get(doc, 'optimizer'))}.`, '');
  out.push(
    table(
      ['backend', 'path', 'batch', 'ms per step', 'examples/s', 'note'],
      rows(get(doc, 'rows')).map((r) => [
        String(r.backend),
        String(r.path),
        fmtNum(r.batch),
        fmtNum(r.msPerStep),
        fmtNum(r.examplesPerSecond),
        String(r.error ?? ''),
      ]),
      [2, 3, 4],
    ),
  );
  return out;
}

/** Where a 2-worker step's time goes, when the results have the breakdown. */
function breakdownLine(b: unknown): string[] {
  if (num(get(b, 'roundTripMs')) === null) return [];
  const at = (key: string): string => {
    const v = num(get(b, key));
    return v === null ? '—' : `${fixed(v, 1)} ms`;
  };
  const plain =
    num(get(b, 'plainWorkerMs')) === null
      ? ''
      : ` (the same step in a thread that does nothing else: ${at('plainWorkerMs')})`;
  return [
    `One 2-worker step of 100 examples: ${at('roundTripMs')} from posting the shards to the last reply; ` +
      `each worker's own compute ${at('worker0Ms')} and ${at('worker1Ms')} for its 50 examples${plain}; ` +
      `messaging ${at('messagingMs')}; reading weights ${at('packMs')}; combining ${at('combineMs')}.`,
    '',
  ];
}

function trainParallelSection(doc: unknown): string[] {
  const ratios = (key: string): string => {
    const v = get(doc, 'summary', key);
    return Array.isArray(v) && v.length > 0 ? v.map((x) => times(x as number)).join(', ') : '—';
  };
  return [
    `Per round, in the same run: compiled over tfjs engine (one thread) ${ratios('compiledOverTfjsPerRound')}; ` +
      `2 workers over one (compiled) ${ratios('speedupWorkers2PerRound')}; ` +
      `compiled one thread over PyTorch ${ratios('compiled1OverPytorchPerRound')}; ` +
      `2 workers over PyTorch ${ratios('workers2OverPytorchPerRound')}.`,
    '',
    ...breakdownLine(get(doc, 'stepBreakdownWorkers2')),
    table(
      ['configuration', 'round', 'examples/s', 'ms per step', 'CPU ms per example'],
      rows(get(doc, 'rows')).map((r) => [
        String(r.config),
        fmtNum(r.round),
        fmtNum(r.examplesPerSecond, 1),
        fmtNum(r.msPerStep),
        fmtNum(r.cpuMsPerExample, 1),
      ]),
      [1, 2, 3, 4],
    ),
  ];
}

function trainGscSection(results: BenchResults): string[] {
  const files = trainGscFiles(results);
  return [
    table(
      [
        'file',
        'model',
        'params',
        'MACs',
        'epochs',
        'best epoch',
        'best validation',
        'examples/s',
        'training time',
      ],
      files.map((f) => {
        const d = results[f];
        const seconds = num(get(d, 'trainingSeconds'));
        return [
          f,
          String(get(d, 'model') ?? ''),
          fmtNum(get(d, 'parameters', 'trainable') ?? get(d, 'parameters', 'all')),
          fmtNum(get(d, 'parameters', 'macs')),
          fmtNum(get(d, 'recipe', 'epochs')),
          fmtNum(get(d, 'bestEpoch')),
          num(get(d, 'bestValidationAccuracy')) === null
            ? '—'
            : pct(get(d, 'bestValidationAccuracy') as number),
          fmtNum(get(d, 'meanExamplesPerSecond'), 1),
          seconds === null ? '—' : `${fixed(seconds / 60, 1)} min`,
        ];
      }),
      [2, 3, 4, 5, 6, 7, 8],
    ),
    ...files.flatMap((f) => {
      const notes = get(results[f], 'notes');
      return typeof notes === 'string' ? ['', `\`${f}\`: ${notes}`] : [];
    }),
  ];
}

function streamingSection(doc: unknown): string[] {
  const out: string[] = [];
  const model = get(doc, 'bcResNet', 'model');
  if (typeof model === 'string') out.push(`BC-ResNet-1 per hop: ${model}.`, '');
  out.push(
    table(
      ['backend', 'method', 'hop', 'median', 'p99', 'MACs per hop', 'real-time factor'],
      rows(get(doc, 'bcResNet', 'rows')).map((r) => [
        String(r.backend),
        String(r.method),
        `${fmtNum(r.hopMs)} ms`,
        fmtMs(r.medianMs),
        fmtMs(r.p99Ms),
        fmtNum(r.macsPerHop),
        fmtNum(r.realTimeFactor, 4),
      ]),
      [2, 3, 4, 5, 6],
    ),
  );
  const stream = get(doc, 'bcResNet', 'stream');
  const seconds = num(get(stream, 'seconds'));
  if (seconds !== null) {
    out.push(
      '',
      `Simulated stream: ${fixed(seconds / 3600, 2)} h pushed in ${fmtNum(get(stream, 'chunkMs'))} ms chunks, ` +
        `end-to-end real-time factor ${fmtNum(get(stream, 'realTimeFactor'), 4)}, numTensors ` +
        `${fmtNum(get(stream, 'numTensorsBefore'))} → ${fmtNum(get(stream, 'numTensorsAfter'))}, heap ` +
        `${fmtNum(num(get(stream, 'heapBeforeBytes')) === null ? null : (get(stream, 'heapBeforeBytes') as number) / 1e6, 2)} → ` +
        `${fmtNum(num(get(stream, 'heapAfterBytes')) === null ? null : (get(stream, 'heapAfterBytes') as number) / 1e6, 2)} MB.`,
    );
  }
  const crnnRows = rows(get(doc, 'rows'));
  if (crnnRows.length > 0) {
    out.push('', `CRNN, ${String(get(doc, 'model') ?? '')}, hop ${String(get(doc, 'hopMs'))} ms:`, '');
    out.push(
      table(
        ['what', 'ms per hop', 'real-time factor'],
        crnnRows.map((r) => [String(r.what), fmtNum(r.msPerHop, 3), fmtNum(r.realTimeFactor, 4)]),
        [1, 2],
      ),
    );
  }
  return out;
}

/** One table over every `streaming-gsc*.json`: a row per model and mode. */
function streamingGscSection(results: BenchResults): string[] {
  const rowsOut: string[][] = [];
  for (const file of streamingGscFiles(results)) {
    const doc = results[file];
    const modes = get(doc, 'modes');
    if (!isObject(modes)) continue;
    for (const [mode, m] of Object.entries(modes)) {
      if (num(get(m, 'naive', 'recall')) === null) continue; // mode not available for the model
      rowsOut.push([
        `\`${file}\``,
        String(get(doc, 'model') ?? '—'),
        mode,
        pct(get(m, 'naive', 'recall') as number),
        fmtNum(get(m, 'naive', 'misses')),
        fmtNum(get(m, 'naive', 'falseAlarms')),
        fmtNum(get(m, 'naive', 'falseAlarmsPerHour')),
        fmtNum(get(m, 'realTimeFactor'), 4),
      ]);
    }
  }
  if (rowsOut.length === 0) return ['(no `modes` in the files)'];
  return [
    table(
      [
        'file',
        'model',
        'mode',
        'recall (naive settings)',
        'misses',
        'false alarms',
        'false alarms/h',
        'real-time factor',
      ],
      rowsOut,
      [3, 4, 5, 6, 7],
    ),
  ];
}

function compressionSection(doc: unknown): string[] {
  const b = get(doc, 'baseline');
  const out = [
    `Baseline ${String(get(b, 'name'))}: ${num(get(b, 'accuracy')) === null ? '—' : pct(get(b, 'accuracy') as number)}, ` +
      `${fmtNum(get(b, 'macs'))} MACs, ${fmtNum(get(b, 'bytes'))} bytes.`,
    '',
  ];
  out.push(
    table(
      [
        'setting',
        'validation',
        'Δ pp',
        'MACs',
        '× fewer MACs',
        'bytes',
        '× fewer bytes',
        'latency',
        'meets target',
      ],
      rows(get(doc, 'settings')).map((s) => [
        String(s.name),
        num(s.accuracy) === null ? '—' : pct(s.accuracy as number),
        fmtNum(s.accuracyDeltaPp, 1),
        fmtNum(s.macs),
        fmtNum(get(s, 'ratios', 'macs'), 1),
        fmtNum(s.bytes),
        fmtNum(get(s, 'ratios', 'bytes'), 1),
        fmtMs(s.latencyMs),
        s.meetsTarget === true ? 'yes' : 'no',
      ]),
      [1, 2, 3, 4, 5, 6, 7],
    ),
  );
  return out;
}

function tuningSection(doc: unknown): string[] {
  const best = get(doc, 'best');
  const trials = get(doc, 'trials');
  const out = [
    `${Array.isArray(trials) ? trials.length : '?'} trials (${String(get(doc, 'strategy') ?? '?')}).`,
  ];
  if (isObject(best)) {
    out.push(
      '',
      `Best: ${String(best.id ?? best.trial)}: accuracy ${num(best.accuracy) === null ? '—' : pct(best.accuracy as number)}, ` +
        `${fmtNum(best.params)} params, ${fmtNum(best.macs)} MACs, ${fmtNum(best.epochs)} epochs.`,
    );
  }
  return out;
}

function section(file: string, results: BenchResults): string[] {
  const doc = results[file];
  switch (file) {
    case 'features.json':
      return featuresSection(doc);
    case 'models.json':
      return modelsSection(doc);
    case 'crnn-inference.json':
    case 'bc-resnet-inference.json':
      return methodMsSection(doc);
    case 'train-step.json':
      return trainStepSection(doc);
    case 'train-parallel.json':
      return trainParallelSection(doc);
    case 'streaming.json':
      return streamingSection(doc);
    case 'compression.json':
      return compressionSection(doc);
    case 'tuning.json':
      return tuningSection(doc);
    default:
      return [];
  }
}

function verdictCell(v: Verdict): string {
  return v === 'met' ? '✅ met' : v === 'not met' ? '❌ not met' : '⏳ not run yet';
}

/** The whole `docs/benchmarks.md`. */
export function renderBenchmarksDoc(results: BenchResults, options: RenderOptions): string {
  const checks = checkTargets(results);
  const met = checks.filter((c) => c.verdict === 'met').length;
  const notMet = checks.filter((c) => c.verdict === 'not met').length;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`${options.command}\` from \`bench/results/*.json\`; do not edit by hand. ` +
      'Each figure is what the result file recorded, on the machine and date given in its section; ' +
      'a benchmark without a result file is listed as not run yet.',
    '',
    '## Targets',
    '',
    `${met} of ${checks.length} targets met, ${notMet} not met, ${checks.length - met - notMet} not run yet. ` +
      'Ratio: the measured figure over the target, oriented so that ≥ 1 meets it. Targets follow the issues; ' +
      "gsc-dev's REFERENCE.md figures supersede the older ones quoted in issue 3; its accuracies are given to 0.1 pp, so a run meets one when it shows that figure or more (on 592 validation clips, a clip count).",
    '',
    table(
      ['target', 'from', 'measured', 'ratio', 'verdict', 'result file'],
      checks.map((c) => [
        c.target,
        c.source,
        c.measured ?? '—',
        c.ratio === null ? '—' : fixed(c.ratio, 2),
        verdictCell(c.verdict),
        `\`${c.file}\``,
      ]),
      [3],
    ),
    '',
  ];
  const notRun: string[] = [];
  for (const known of KNOWN_RESULTS) {
    const present = filesOf(known.file, results).length > 0;
    if (!present) {
      notRun.push(`\`${known.file}\` (${known.title})`);
      continue;
    }
    lines.push(`## ${known.title}`, '');
    if (known.file === 'train-gsc-*.json') {
      lines.push('_Per-run files; dates not recorded in them._', '', ...trainGscSection(results), '');
    } else if (known.file === 'streaming-gsc*.json') {
      lines.push('_One file per model; seeded streams, identical across files._', '');
      lines.push(...streamingGscSection(results), '');
    } else {
      lines.push(`From \`bench/results/${known.file}\`; ${provenance(results[known.file])}`, '');
      lines.push(...section(known.file, results), '');
    }
    if (known.page !== undefined && options.pages.includes(known.page)) {
      lines.push(`Details: [${known.page}](${known.page}).`, '');
    }
  }
  lines.push('## Not run yet', '');
  lines.push(
    notRun.length === 0 ? 'Every known benchmark has a result file.' : notRun.map((n) => `- ${n}`).join('\n'),
  );
  lines.push('');
  return lines.join('\n');
}
