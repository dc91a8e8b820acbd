/**
 * The search's report: Pareto fronts of accuracy against parameters, MACs and bytes, the
 * results table as JSON rows and as markdown, and the SVG of accuracy against MACs with the
 * front drawn.
 *
 * @packageDocumentation
 */
import { paretoFront, scatterPlot } from '../../plot/index.js';
import type { ParamValue, TrialConfig } from './search-space.js';
import type { TrialStatus } from './tune-journal.js';

/** Whether a trial is on the front of accuracy (maximised) against each cost (minimised). */
export interface ParetoMarks {
  params: boolean;
  macs: boolean;
  bytes: boolean;
}

/** The fields of a trial the report reads (a {@link TrialRecord} fits). */
export interface ReportTrial {
  id: string;
  config: TrialConfig;
  status: TrialStatus;
  epochs: number;
  accuracy: number | null;
  params?: number;
  macs?: number;
  bytes?: number;
  reason?: string;
  seconds: number;
  front: ParetoMarks;
}

/**
 * Sets `front` of every trial: among trials that trained and have the cost, those no other
 * trial beats on both accuracy (higher) and that cost (lower), by `paretoFront` of the plot
 * module. Trials that did not train are never on a front.
 */
export function markParetoFronts(trials: ReportTrial[]): void {
  for (const t of trials) t.front = { params: false, macs: false, bytes: false };
  for (const cost of ['params', 'macs', 'bytes'] as const) {
    const candidates = trials.filter(
      (t) => t.status === 'ok' && t.accuracy !== null && typeof t[cost] === 'number',
    );
    const front = paretoFront(candidates.map((t) => ({ x: t[cost] as number, y: t.accuracy as number })));
    for (const i of front) (candidates[i] as ReportTrial).front[cost] = true;
  }
}

/** One row of the results table (JSON). */
export interface TuneTableRow {
  id: string;
  status: TrialStatus;
  epochs: number;
  accuracy: number | null;
  params: number | null;
  macs: number | null;
  bytes: number | null;
  /** Fronts the trial is on: any of 'params', 'macs', 'bytes'. */
  front: string[];
  config: TrialConfig;
  reason?: string;
  seconds: number;
}

/** The results table, in trial order, as plain JSON-ready rows. */
export function tuneTable(trials: readonly ReportTrial[]): TuneTableRow[] {
  return trials.map((t) => ({
    id: t.id,
    status: t.status,
    epochs: t.epochs,
    accuracy: t.accuracy,
    params: t.params ?? null,
    macs: t.macs ?? null,
    bytes: t.bytes ?? null,
    front: (['params', 'macs', 'bytes'] as const).filter((k) => t.front[k]),
    config: t.config,
    ...(t.reason === undefined ? {} : { reason: t.reason }),
    seconds: t.seconds,
  }));
}

function showValue(v: ParamValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(3)));
  return String(v);
}

/** Options searched (values that differ between trials) and options fixed for all of them. */
function splitOptions(trials: readonly ReportTrial[]): { varied: string[]; fixed: TrialConfig } {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.config)))].sort();
  const varied: string[] = [];
  const fixed: TrialConfig = {};
  for (const n of names) {
    const values = new Set(trials.map((t) => JSON.stringify(t.config[n] ?? null)));
    if (values.size > 1) varied.push(n);
    else fixed[n] = trials[0]?.config[n] ?? null;
  }
  return { varied, fixed };
}

/**
 * The results as a markdown table sorted by accuracy (trained trials first, then pruned and
 * invalid ones), with the searched options as columns and a front marker (`P` params, `M`
 * MACs, `B` bytes). Options equal in every trial are listed once above the table.
 */
export function tuneMarkdown(trials: readonly ReportTrial[]): string {
  const { varied, fixed } = splitOptions(trials);
  const order = [...trials].sort((a, b) => {
    const ra = a.status === 'ok' ? 0 : 1;
    const rb = b.status === 'ok' ? 0 : 1;
    return (
      ra - rb || b.epochs - a.epochs || (b.accuracy ?? -1) - (a.accuracy ?? -1) || a.id.localeCompare(b.id)
    );
  });
  const head = ['trial', 'status', 'epochs', 'accuracy', 'params', 'MACs', 'bytes', 'front', ...varied];
  const rows = order.map((t) => [
    t.id,
    t.status,
    String(t.epochs),
    t.accuracy === null ? '' : `${(100 * t.accuracy).toFixed(2)}%`,
    t.params === undefined ? '' : String(t.params),
    t.macs === undefined ? '' : `${(t.macs / 1e6).toFixed(3)} M`,
    t.bytes === undefined ? '' : String(t.bytes),
    `${t.front.params ? 'P' : ''}${t.front.macs ? 'M' : ''}${t.front.bytes ? 'B' : ''}`,
    ...varied.map((n) => showValue(t.config[n])),
  ]);
  const fixedLine =
    Object.keys(fixed).length === 0
      ? ''
      : `Fixed in every trial: ${Object.entries(fixed)
          .map(([k, v]) => `${k} = ${showValue(v)}`)
          .join(', ')}.\n\n`;
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return `${fixedLine}${[line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')}\n`;
}

/** A point drawn next to the trials, e.g. a hand-written recipe to compare with. */
export interface ReferencePoint {
  label: string;
  macs: number;
  accuracy: number;
}

/** Options of {@link tuneParetoSvg}. */
export interface TuneParetoSvgOptions {
  /** Title. Default 'Validation accuracy vs MACs'. */
  title?: string;
  /** Extra labelled points (not part of the front). */
  reference?: readonly ReferencePoint[];
}

/**
 * SVG text of validation accuracy (%) against MACs per example (log axis) for the trials that
 * trained, the MACs front highlighted and connected, by `scatterPlot` of the plot module.
 */
export function tuneParetoSvg(trials: readonly ReportTrial[], options?: TuneParetoSvgOptions): string {
  const points = trials
    .filter((t) => t.status === 'ok' && t.accuracy !== null && t.macs !== undefined)
    .map((t) => ({
      x: t.macs as number,
      y: 100 * (t.accuracy as number),
      ...(t.front.macs ? { label: t.id } : {}),
      highlight: t.front.macs,
    }));
  for (const r of options?.reference ?? []) {
    points.push({ x: r.macs, y: 100 * r.accuracy, label: r.label, highlight: false });
  }
  return scatterPlot(points, {
    title: options?.title ?? 'Validation accuracy vs MACs',
    xLabel: 'MACs per example',
    yLabel: 'validation accuracy (%)',
    xLog: true,
    connectFront: true,
  });
}
