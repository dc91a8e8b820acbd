/**
 * The demo's report: `report.md` (data, model table, streaming events, timings), `report.json`
 * (the {@link DemoReport} itself) and four SVG plots (accuracy vs MACs, accuracy vs bytes,
 * probability over time with the events, confusion matrix of the final model). Everything is
 * rendered from the report object alone, so the files say exactly what `runDemo` returned.
 *
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  heatmap,
  linePlot,
  type PlotSeries,
  paretoFront,
  type ScatterPoint,
  scatterPlot,
} from '../plot/index.js';
import type { DemoModelRow, DemoReport } from './demo-report.js';

/** Accuracy as the report prints it: a percentage with one decimal, e.g. `87.5 %`. */
export function formatAccuracy(accuracy: number): string {
  return `${(100 * accuracy).toFixed(1)} %`;
}

/** Counts (parameters, MACs, bytes) as the report prints them: `12,345`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

/** Scatter points of accuracy against one cost, with the Pareto front highlighted. */
function costPoints(models: readonly DemoModelRow[], cost: (m: DemoModelRow) => number): ScatterPoint[] {
  const points = models.map((m) => ({ x: cost(m), y: 100 * m.accuracy, label: m.name }));
  const front = new Set(paretoFront(points));
  return points.map((p, i) => ({ ...p, highlight: front.has(i) }));
}

/** The four SVG documents, by file name (the names in `report.files`). */
export function demoSvgs(report: DemoReport): Record<string, string> {
  const { files, models, stream, confusion } = report;
  const accuracyAxis = {
    yLabel: 'test accuracy (%)',
    yRange: [0, 100] as [number, number],
    connectFront: true,
  };
  const series: PlotSeries[] = stream.series
    .filter((s) => s.timeMs.length > 0)
    .map((s) => ({ name: `p(${s.label})`, x: s.timeMs.map((t) => t / 1000), y: s.probability }));
  series.push({
    name: `threshold ${stream.threshold}`,
    x: [0, stream.durationMs / 1000],
    y: [stream.threshold, stream.threshold],
  });
  return {
    [files.accuracyVsMacs]: scatterPlot(
      costPoints(models, (m) => m.macs),
      { ...accuracyAxis, title: 'Accuracy vs compute', xLabel: 'MACs per 1 s clip (log)', xLog: true },
    ),
    [files.accuracyVsBytes]: scatterPlot(
      costPoints(models, (m) => m.weightBytes),
      { ...accuracyAxis, title: 'Accuracy vs size', xLabel: 'weight bytes (log)', xLog: true },
    ),
    [files.stream]: linePlot(series, {
      title: `StreamingKWS (${stream.model}) on the glued track`,
      xLabel: 'time (s)',
      yLabel: 'smoothed probability',
      yRange: [0, 1],
      width: 900,
      bands: stream.parts.map((p) => ({ from: p.startMs / 1000, to: p.endMs / 1000, label: p.label })),
      markers: stream.events.map((e) => ({ x: e.timeMs / 1000, label: `${e.label} ${e.score.toFixed(2)}` })),
    }),
    [files.confusion]: heatmap(confusion.matrix, confusion.labels, confusion.labels, {
      title: `Confusion matrix of ${report.finalModel} (test split)`,
      xLabel: 'predicted',
      yLabel: 'true',
    }),
  };
}

/** `report.md` as text. */
export function demoMarkdown(report: DemoReport): string {
  const { data, models, stream, files } = report;
  const lines: string[] = ['# kws-kit demo report', ''];
  if (data.synthetic) {
    lines.push(
      '> **Synthetic data.** espeak-ng was not used: the clips come from the built-in formant generator,',
      '> word-like patterns that are not speech. The numbers below show the pipeline working, not',
      '> keyword-spotting accuracy on real speech. Install espeak-ng, or pass `--data <Speech Commands folder>`.',
      '',
    );
  }
  lines.push(
    `Seed ${report.seed}, tfjs backend ${report.backend}${report.quick ? ', quick mode' : ''}; ` +
      `${report.totalSeconds.toFixed(1)} s in all.`,
    '',
    '## Data',
    '',
    data.description,
    '',
    `Folder: \`${data.dir}\`. Classes (${data.labels.length}): ${data.labels.join(', ')}.`,
    '',
    '| split | examples |',
    '|---|---:|',
    `| train | ${data.examples.train} |`,
    `| validation | ${data.examples.validation} |`,
    `| test | ${data.examples.test} |`,
    '',
  );
  if (data.speakers !== null) {
    lines.push('| speaker | split | voice |', '|---|---|---|');
    for (const s of data.speakers) lines.push(`| ${s.id} | ${s.split} | ${s.description} |`);
    lines.push('');
  }
  if (data.warnings.length > 0) {
    lines.push('Loader warnings:', '', ...data.warnings.map((w) => `- ${w}`), '');
  }
  const teacher = report.teacher;
  const student = report.student;
  lines.push(
    '## Models',
    '',
    teacher.pretrained === null
      ? `Teacher: BC-ResNet-1 trained from scratch, ${teacher.epochs} epoch(s), ${teacher.optimizer} lr ${teacher.learningRate}.`
      : `Teacher: the shipped pretrained \`${teacher.pretrained}\` fine-tuned ${teacher.epochs} epoch(s), ${teacher.optimizer} lr ${teacher.learningRate}.`,
    `Student: the teacher pruned to ${student.width} of its channels (L1 structured pruning), distilled ${student.epochs} epoch(s) (${student.optimizer} lr ${student.learningRate}) with α·CE + (1−α)·KD ` +
      `(α = ${student.alpha}, T = ${student.temperature}; no augmentation, so the teacher's logits are computed once per clip), then quantized. Accuracy is on the test split ` +
      `(${data.examples.test} examples, speakers unseen in training).`,
    '',
    '| model | what | parameters | MACs | weight bytes | bytes on disk | test accuracy |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...models.map(
      (m) =>
        `| ${m.name} | ${m.description} | ${formatCount(m.params)} | ${formatCount(m.macs)} | ` +
        `${formatCount(m.weightBytes)} | ${formatCount(m.bytes)} | ${formatAccuracy(m.accuracy)} |`,
    ),
    '',
    `Final model: **${report.finalModel}**. Quantized models have the student's parameters and MACs ` +
      '(tfjs dequantizes weights on load); what changes is the download size. Bytes on disk include ' +
      'model.json (topology and kws-kit metadata), the same for every variant of one architecture.',
    '',
    `![accuracy vs MACs](${files.accuracyVsMacs})`,
    '',
    `![accuracy vs bytes](${files.accuracyVsBytes})`,
    '',
    '## Streaming',
    '',
    `\`${stream.wav}\` (${seconds(stream.durationMs)} s): ` +
      stream.parts.map((p) => `${p.label} at ${seconds(p.startMs)}–${seconds(p.endMs)} s`).join(', ') +
      ', on background noise.',
    `StreamingKWS with ${stream.model}, window mode: a model run every ${stream.hopMs} ms, probabilities ` +
      `averaged over ${stream.smoothingMs} ms, threshold ${stream.threshold}.`,
    '',
    `Result: ${stream.hits} hit(s), ${stream.misses} miss(es), ${stream.falseAlarms} false alarm(s) ` +
      '(a hit is an event of the right keyword between its start and 500 ms after its end).',
    '',
  );
  if (stream.events.length > 0) {
    lines.push('| time (s) | keyword | score |', '|---:|---|---:|');
    for (const e of stream.events)
      lines.push(`| ${seconds(e.timeMs)} | ${e.label} | ${e.score.toFixed(3)} |`);
    lines.push('');
  } else {
    lines.push('No event crossed the threshold.', '');
  }
  lines.push(
    `![probability over time](${files.stream})`,
    '',
    `## Confusion matrix (${report.finalModel}, test split)`,
    '',
    `![confusion matrix](${files.confusion})`,
    '',
    '## Timings',
    '',
    '| step | seconds |',
    '|---|---:|',
    ...report.timings.map((t) => `| ${t.step} | ${t.seconds.toFixed(1)} |`),
    `| **total** | ${report.totalSeconds.toFixed(1)} |`,
    '',
    `The whole record is in \`${files.json}\`.`,
    '',
  );
  return lines.join('\n');
}

/** Writes `report.md`, `report.json` and the SVGs into `report.out`. */
export function writeDemoReport(report: DemoReport): void {
  for (const [name, svg] of Object.entries(demoSvgs(report))) writeFileSync(join(report.out, name), svg);
  writeFileSync(join(report.out, report.files.json), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(report.out, report.files.report), demoMarkdown(report));
}
