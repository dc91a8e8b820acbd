/**
 * The compression experiment's outputs as pure functions of its measurements: the
 * `compression.json` document (issue 4's shape plus ratios), the target check, the best student,
 * the markdown page and the two scatter plots (accuracy vs MACs, accuracy vs bytes on disk).
 */
import { paretoFront, scatterPlot } from '../../src/plot/index.js';

/** What the experiment measured for one model (the baseline or a setting). */
export interface ModelMeasurement {
  /** Setting name, e.g. `small-crnn-kd-int8`. */
  name: string;
  /** One line: what was done. */
  description: string;
  /** Validation accuracy of the exported model as loaded from disk, a fraction. */
  accuracy: number;
  /** Parameters (profile(), moving statistics included). */
  params: number;
  /** Multiply-accumulates of one 1 s clip (profile()). */
  macs: number;
  /** model.json + weight shards as written, bytes. */
  bytes: number;
  /** Weight storage of the export, e.g. `float32`, `float16`, `int8 (uint8 grid)`. */
  format: string;
  /** Teacher folder and kind, when distilled. */
  teacher?: string;
  /** Training recipe (epochs, optimizer, loss...). */
  recipe?: Record<string, unknown>;
  /** Wall-clock seconds of this setting's training (0 for a pure export). */
  seconds?: number;
  /** Mean seconds per training epoch, when it trained. */
  secondsPerEpoch?: number;
  /** Epoch whose weights were kept (best validation accuracy), when it trained. */
  bestEpoch?: number | null;
  /** Folder of the exported model. */
  exportDir: string;
  /** Pretrained name when this model ships in the package. */
  shipped?: string;
}

/** One entry of `compression.json`'s `settings`. */
export interface SettingEntry {
  name: string;
  accuracy: number;
  macs: number;
  bytes: number;
  latencyMs: number;
  shipped?: string;
  description: string;
  params: number;
  format: string;
  teacher?: string;
  /** Ratios against the baseline: `macs`, `bytes`, `params` as baseline / setting (× fewer). */
  ratios: { macs: number; bytes: number; params: number; latency: number };
  /** Accuracy minus the baseline's, percentage points. */
  accuracyDeltaPp: number;
  meetsTarget: boolean;
  recipe?: Record<string, unknown>;
  seconds?: number;
  secondsPerEpoch?: number;
  bestEpoch?: number | null;
  exportDir: string;
}

/** The `compression.json` document. */
export interface CompressionReport {
  baseline: {
    name: string;
    accuracy: number;
    macs: number;
    bytes: number;
    shipped?: string;
    params: number;
    latencyMs: number;
    format: string;
    exportDir: string;
  };
  settings: SettingEntry[];
  targets: TargetCheck;
  teachers: Record<string, { accuracy: number; params: number; macs: number }>;
  data: Record<string, unknown>;
  /** The chosen student (see {@link bestStudent}), or null. */
  best: string | null;
  smoke: boolean;
}

/** The issue's two targets. */
export interface TargetCheck {
  /** Least MAC and byte reduction, × (10). */
  minRatio: number;
  /** Largest allowed accuracy loss, percentage points (1). */
  maxLossPp: number;
  /** Settings with ≥ minRatio× fewer MACs and bytes and ≤ maxLossPp lost. */
  compressedStudents: string[];
  compressedMet: boolean;
  /** Distilled student vs the same architecture trained alone (names and accuracies), if both ran. */
  distillation: { student: string; alone: string; studentAccuracy: number; aloneAccuracy: number } | null;
  distillationMet: boolean | null;
}

/** Options of {@link buildReport}. */
export interface ReportInput {
  baseline: ModelMeasurement;
  settings: ModelMeasurement[];
  /** Median wasm batch-1 latency by model name (baseline included), ms. */
  latencyMs: Record<string, number>;
  teachers: Record<string, { accuracy: number; params: number; macs: number }>;
  data: Record<string, unknown>;
  /** [distilled, alone] setting names compared for the distillation target. */
  distillationPair: [string, string];
  smoke: boolean;
  minRatio?: number;
  maxLossPp?: number;
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Whether `s` reaches `minRatio`× fewer MACs and bytes than `base` losing at most `maxLossPp` points. */
export function meetsTarget(
  base: { accuracy: number; macs: number; bytes: number },
  s: { accuracy: number; macs: number; bytes: number },
  minRatio = 10,
  maxLossPp = 1,
): boolean {
  return (
    base.macs / s.macs >= minRatio &&
    base.bytes / s.bytes >= minRatio &&
    (base.accuracy - s.accuracy) * 100 <= maxLossPp + 1e-9
  );
}

/**
 * The student to ship: the most accurate setting that meets the size target; when none does, the
 * most accurate setting with ≥ `minRatio`× fewer MACs and bytes; else null. Ties: fewer bytes.
 */
export function bestStudent(
  entries: readonly Pick<SettingEntry, 'name' | 'accuracy' | 'bytes' | 'meetsTarget' | 'ratios'>[],
  minRatio = 10,
): string | null {
  const pick = (pool: typeof entries): string | null => {
    const sorted = [...pool].sort((a, b) => b.accuracy - a.accuracy || a.bytes - b.bytes);
    return sorted[0]?.name ?? null;
  };
  const meeting = entries.filter((e) => e.meetsTarget);
  if (meeting.length > 0) return pick(meeting);
  return pick(entries.filter((e) => e.ratios.macs >= minRatio && e.ratios.bytes >= minRatio));
}

/** Builds the `compression.json` document from the measurements. */
export function buildReport(input: ReportInput): CompressionReport {
  const minRatio = input.minRatio ?? 10;
  const maxLossPp = input.maxLossPp ?? 1;
  const b = input.baseline;
  const baseLatency = input.latencyMs[b.name] ?? Number.NaN;
  const settings: SettingEntry[] = input.settings.map((s) => {
    const latency = input.latencyMs[s.name] ?? Number.NaN;
    const entry: SettingEntry = {
      name: s.name,
      accuracy: s.accuracy,
      macs: s.macs,
      bytes: s.bytes,
      latencyMs: round(latency, 4),
      ...(s.shipped === undefined ? {} : { shipped: s.shipped }),
      description: s.description,
      params: s.params,
      format: s.format,
      ...(s.teacher === undefined ? {} : { teacher: s.teacher }),
      ratios: {
        macs: round(b.macs / s.macs, 2),
        bytes: round(b.bytes / s.bytes, 2),
        params: round(b.params / s.params, 2),
        latency: round(baseLatency / latency, 2),
      },
      accuracyDeltaPp: round((s.accuracy - b.accuracy) * 100, 2),
      meetsTarget: meetsTarget(b, s, minRatio, maxLossPp),
      ...(s.recipe === undefined ? {} : { recipe: s.recipe }),
      ...(s.seconds === undefined ? {} : { seconds: Math.round(s.seconds) }),
      ...(s.secondsPerEpoch === undefined ? {} : { secondsPerEpoch: round(s.secondsPerEpoch, 1) }),
      ...(s.bestEpoch === undefined ? {} : { bestEpoch: s.bestEpoch }),
      exportDir: s.exportDir,
    };
    return entry;
  });
  const [kdName, aloneName] = input.distillationPair;
  const kd = settings.find((s) => s.name === kdName);
  const alone = settings.find((s) => s.name === aloneName);
  const distillation =
    kd === undefined || alone === undefined
      ? null
      : { student: kd.name, alone: alone.name, studentAccuracy: kd.accuracy, aloneAccuracy: alone.accuracy };
  const compressedStudents = settings.filter((s) => s.meetsTarget).map((s) => s.name);
  return {
    baseline: {
      name: b.name,
      accuracy: b.accuracy,
      macs: b.macs,
      bytes: b.bytes,
      ...(b.shipped === undefined ? {} : { shipped: b.shipped }),
      params: b.params,
      latencyMs: round(baseLatency, 4),
      format: b.format,
      exportDir: b.exportDir,
    },
    settings,
    targets: {
      minRatio,
      maxLossPp,
      compressedStudents,
      compressedMet: compressedStudents.length > 0,
      distillation,
      distillationMet:
        distillation === null ? null : distillation.studentAccuracy > distillation.aloneAccuracy,
    },
    teachers: input.teachers,
    data: input.data,
    best: bestStudent(settings, minRatio),
    smoke: input.smoke,
  };
}

const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)}×` : '–');
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');

/**
 * The two plots as SVG text: accuracy (%) against MACs and against bytes on disk, log x. Points
 * are labelled with their row number in the markdown table (`base` for the baseline), since
 * settings that share an architecture share an x.
 */
export function reportPlots(report: CompressionReport): { macs: string; bytes: string } {
  const models = [
    { ...report.baseline, label: 'base' },
    ...report.settings.map((s, i) => ({ ...s, label: `${i + 1}` })),
  ];
  const plot = (key: 'macs' | 'bytes', title: string, xLabel: string): string => {
    const xy = models.map((m) => ({ x: m[key], y: m.accuracy * 100 }));
    const front = new Set(paretoFront(xy));
    return scatterPlot(
      models.map((m, i) => ({ x: m[key], y: m.accuracy * 100, label: m.label, highlight: front.has(i) })),
      {
        title,
        xLabel,
        yLabel: 'validation accuracy (%)',
        xLog: true,
        connectFront: true,
        width: 820,
        height: 440,
      },
    );
  };
  return {
    macs: plot('macs', 'Accuracy vs MACs per 1 s clip (gsc-dev, 12 classes)', 'MACs per clip (log)'),
    bytes: plot('bytes', 'Accuracy vs model size on disk (gsc-dev, 12 classes)', 'bytes on disk (log)'),
  };
}

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** The command line that produced the report. */
  command: string;
  /** Image paths relative to the page. */
  images: { macs: string; bytes: string };
  /** Free text appended (notes on anything not reached, timing). */
  notes?: string[];
}

/** `docs/compression.md`: recipe, table, plots, targets. */
export function renderMarkdown(report: CompressionReport, options: MarkdownOptions): string {
  const b = report.baseline;
  const t = report.targets;
  const lines: string[] = [];
  lines.push('# Compression: distillation, quantization and pruning on gsc-dev');
  lines.push('');
  if (report.smoke) {
    lines.push(
      '> **Smoke run** (tiny subsets, one epoch): these figures only show that every setting runs; they say nothing about the methods.',
    );
    lines.push('');
  }
  lines.push(
    `Produced by \`${options.command}\` (\`npm run bench:compress\`); raw figures in \`bench/results/compression.json\`.`,
  );
  lines.push(
    'Accuracy is on the validation split of the model **as exported and loaded back from disk** (quantized weights included); bytes are `model.json` plus weight shards as written (with the kws-kit metadata: labels and front end); MACs and parameters come from `profile()`; latency is the median `predict` time for one clip on the wasm backend, measured for every model in the same loop at the end of the run.',
  );
  lines.push('');
  lines.push(
    `Baseline: **${b.name}**, ${int(b.params)} parameters, ${int(b.macs)} MACs, ${int(b.bytes)} bytes (${b.format}), ${pct(b.accuracy)} validation accuracy, ${ms(b.latencyMs)} ms.`,
  );
  const teacherNames = Object.entries(report.teachers);
  if (teacherNames.length > 0) {
    lines.push('');
    lines.push('Teachers:');
    for (const [name, m] of teacherNames) {
      lines.push(
        `- ${name}: ${int(m.params)} parameters, ${int(m.macs)} MACs, ${pct(m.accuracy)} validation accuracy`,
      );
    }
  }
  lines.push('');
  lines.push(
    '| # | setting | what | accuracy | Δ pp | params | MACs | MACs ÷ | bytes | bytes ÷ | latency ms | target |',
  );
  lines.push('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|');
  lines.push(
    `| base | ${b.name} (baseline) | ${b.format} | ${pct(b.accuracy)} | – | ${int(b.params)} | ${int(b.macs)} | 1× | ${int(b.bytes)} | 1× | ${ms(b.latencyMs)} | |`,
  );
  for (const [i, s] of report.settings.entries()) {
    const name = s.name === report.best ? `**${s.name}**` : s.name;
    lines.push(
      `| ${i + 1} | ${name} | ${s.description} | ${pct(s.accuracy)} | ${s.accuracyDeltaPp >= 0 ? '+' : ''}${s.accuracyDeltaPp.toFixed(1)} | ${int(s.params)} | ${int(s.macs)} | ${times(s.ratios.macs)} | ${int(s.bytes)} | ${times(s.ratios.bytes)} | ${ms(s.latencyMs)} | ${s.meetsTarget ? '✓' : ''} |`,
    );
  }
  lines.push('');
  lines.push(`![accuracy vs MACs](${options.images.macs})`);
  lines.push('');
  lines.push(`![accuracy vs bytes on disk](${options.images.bytes})`);
  lines.push('');
  lines.push(
    'Points are numbered as the rows of the table; filled points joined by the line are the Pareto front (no other model is both smaller and more accurate).',
  );
  lines.push('');
  lines.push('## Targets');
  lines.push('');
  lines.push(
    `1. A student with ≥ ${t.minRatio}× fewer MACs **and** ≥ ${t.minRatio}× fewer bytes than the baseline, losing ≤ ${t.maxLossPp} pp: ` +
      (t.compressedMet
        ? `**met** by ${t.compressedStudents.join(', ')}.`
        : `**not met** in this run${report.best === null ? '' : ` (closest: ${report.best})`}.`),
  );
  if (t.distillation === null) {
    lines.push('2. A distilled student that beats the same architecture trained alone: not run.');
  } else {
    const d = t.distillation;
    lines.push(
      `2. A distilled student that beats the same architecture trained alone: ${t.distillationMet ? '**met**' : '**not met**'} (${d.student} ${pct(d.studentAccuracy)} vs ${d.alone} ${pct(d.aloneAccuracy)}).`,
    );
  }
  if (report.best !== null) {
    const best = report.settings.find((s) => s.name === report.best) as SettingEntry;
    lines.push('');
    lines.push(
      `Best student: **${best.name}**: ${times(best.ratios.macs)} fewer MACs, ${times(best.ratios.bytes)} fewer bytes, ${times(best.ratios.params)} fewer parameters, ${best.accuracyDeltaPp >= 0 ? '+' : ''}${best.accuracyDeltaPp.toFixed(1)} pp accuracy, latency ${times(best.ratios.latency)} faster.`,
    );
  }
  if (options.notes !== undefined && options.notes.length > 0) {
    lines.push('');
    lines.push('## Notes');
    lines.push('');
    for (const n of options.notes) lines.push(`- ${n}`);
  }
  lines.push('');
  return lines.join('\n');
}
