/**
 * Markdown rendering of quantization results: sizes, per-weight errors, and per-layer SQNR with
 * the layers that lose the most.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt, checkOptions } from '../validate.js';
import type { ExportedModel } from './export.js';
import type { QuantizedModel, WeightQuantReport } from './ptq.js';
import type { LayerSqnr, LayerSqnrReport } from './sqnr.js';

/** What {@link formatQuantReport} renders; every part is optional. */
export interface QuantReportParts {
  /** Heading text. Default `'Quantization report'`. */
  title?: string;
  /** Weight quantization (sizes and per-weight errors). */
  weights?: QuantizedModel;
  /** Files written (sizes on disk). */
  exported?: ExportedModel;
  /** Per-layer SQNR. */
  sqnr?: LayerSqnrReport;
  /** How many layers to list as the worst (largest SQNR drop). Default 5. */
  worst?: number;
  /** Whether the weight table also lists weights kept in float32. Default false. */
  allWeights?: boolean;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function db(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  if (v === Number.POSITIVE_INFINITY) return '∞';
  if (v === Number.NEGATIVE_INFINITY) return '−∞';
  return v.toFixed(1);
}

function num(v: number): string {
  return v === 0 ? '0' : v.toPrecision(3);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function weightRow(r: WeightQuantReport): string {
  const pc =
    r.perChannel === undefined ? '' : `${db(r.perChannel.sqnrDb)} (max ${num(r.perChannel.maxAbsError)})`;
  return `| ${cell(r.name)} | ${cell(r.className)} | [${r.shape.join(', ')}] | ${r.scheme} | ${r.dtype} | ${count(
    r.bytesBefore,
  )} → ${count(r.bytesAfter)} | ${num(r.maxAbsError)} | ${db(r.sqnrDb)} | ${pc} |`;
}

function weightSection(q: QuantizedModel, all: boolean): string[] {
  const t = q.totals;
  const storage = q.perChannelStorage === null ? '' : `, stored as ${q.perChannelStorage}`;
  const lines = [
    `Weights: scheme **${q.scheme}**${storage}; ${t.quantized} of ${t.weights} tensors quantized; ${count(
      t.bytesBefore,
    )} → ${count(t.bytesAfter)} bytes (${t.ratio.toFixed(2)}× smaller); SQNR ${db(t.sqnrDb)} dB; max |error| ${num(
      t.maxAbsError,
    )}.`,
    '',
    '| weight | layer class | shape | scheme | stored | bytes | max \\|error\\| | SQNR dB | per-channel int8 SQNR dB |',
    '| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of q.report) if (all || r.scheme !== 'none') lines.push(weightRow(r));
  return lines;
}

function layerRow(l: LayerSqnr): string {
  return `| ${cell(l.name)} | ${cell(l.className)} | ${db(l.sqnrDb)} | ${db(l.dropDb)} | ${num(l.maxAbsError)} |`;
}

function sqnrSection(s: LayerSqnrReport, worst: number): string[] {
  const agreement =
    s.output.top1Agreement === null ? '' : `; top-1 agreement ${(100 * s.output.top1Agreement).toFixed(1)} %`;
  const lines = [
    `### Layer SQNR (${count(s.samples)} examples)`,
    '',
    `Model output: SQNR ${db(s.output.sqnrDb)} dB, max |error| ${num(s.output.maxAbsError)}${agreement}.`,
    '',
  ];
  const ranked = s.layers
    .filter((l) => l.dropDb !== null && Number.isFinite(l.dropDb))
    .sort((a, b) => (b.dropDb as number) - (a.dropDb as number))
    .slice(0, worst);
  if (ranked.length > 0) {
    lines.push(`Largest SQNR drops: ${ranked.map((l) => `${l.name} (${db(l.dropDb)} dB)`).join(', ')}.`, '');
  }
  lines.push('| layer | class | SQNR dB | drop dB | max \\|error\\| |', '| --- | --- | ---: | ---: | ---: |');
  for (const l of s.layers) lines.push(layerRow(l));
  if (s.unmatched.length > 0) lines.push('', `Not compared (no counterpart): ${s.unmatched.join(', ')}.`);
  return lines;
}

/**
 * Renders quantization results as markdown: a size line (and files on disk), a table of the
 * quantized weights (scheme, stored dtype, bytes, max error, SQNR, per-channel SQNR), and the
 * per-layer SQNR table with the layers that lose the most SQNR listed first.
 *
 * @throws KwsError `INVALID_ARGUMENT` if no part is given or a part is malformed.
 */
export function formatQuantReport(parts: QuantReportParts): string {
  const p = checkOptions('parts', parts);
  const worst = checkInt('parts.worst', p.worst ?? 5, 0);
  if (p.weights === undefined && p.exported === undefined && p.sqnr === undefined) {
    throw new KwsError('INVALID_ARGUMENT', 'formatQuantReport needs at least one of weights, exported, sqnr');
  }
  const weights = p.weights ?? p.exported?.quantized;
  if (weights !== undefined && (typeof weights !== 'object' || !Array.isArray(weights.report))) {
    throw new KwsError('INVALID_ARGUMENT', 'parts.weights must be the result of quantizeWeights');
  }
  if (p.sqnr !== undefined && (typeof p.sqnr !== 'object' || !Array.isArray(p.sqnr.layers))) {
    throw new KwsError('INVALID_ARGUMENT', 'parts.sqnr must be the result of layerSqnr');
  }
  const lines = [`## ${p.title ?? 'Quantization report'}`, ''];
  if (p.exported !== undefined) {
    const e = p.exported;
    lines.push(
      `On disk (${e.dir}): model.json ${count(e.modelJsonBytes)} B + weights ${count(e.weightBytes)} B = ${count(
        e.bytesOnDisk,
      )} B; the float32 weights take ${count(e.floatWeightBytes)} B (${e.sizeRatio.toFixed(2)}× larger).`,
      '',
    );
  }
  if (weights !== undefined) lines.push(...weightSection(weights, p.allWeights === true), '');
  if (p.sqnr !== undefined) lines.push(...sqnrSection(p.sqnr, worst), '');
  return lines.join('\n').trimEnd();
}
