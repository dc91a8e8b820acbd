/**
 * What every kws-kit plot shares: option checks, scales (linear and log₁₀), tick placement,
 * compact number formatting, XML escaping and the axes frame. Plots are SVG text built from
 * strings, so they run anywhere (no DOM) and the same input always gives the same bytes.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkBoolean, checkInt, checkNumber, checkOptions } from '../validate.js';

/** A vertical event line (e.g. a detection) at data coordinate `x`. */
export interface PlotMarker {
  /** Position on the x axis, in data units. */
  x: number;
  /** Text drawn at the top of the line. */
  label: string;
}

/** A shaded span of the x axis (e.g. where a keyword truly is). */
export interface PlotBand {
  /** Start on the x axis, in data units. */
  from: number;
  /** End on the x axis, in data units (> from). */
  to: number;
  /** Text drawn at the bottom of the band. */
  label?: string;
}

/** Options shared by every plot. */
export interface PlotOptions {
  /** Title above the plot. Default none. */
  title?: string;
  /** Label of the x axis. Default none. */
  xLabel?: string;
  /** Label of the y axis. Default none. */
  yLabel?: string;
  /** Width of the SVG in px, an integer in [120, 8000]. Default 720. */
  width?: number;
  /** Height of the SVG in px, an integer in [120, 8000]. Default 360 (heatmap: see its docs). */
  height?: number;
  /** Log₁₀ x axis (every x must then be > 0). Default false. */
  xLog?: boolean;
  /**
   * Fixed y range `[low, high]` (low < high). Values outside are drawn at the nearest edge.
   * Default: the data's range, widened to round tick values.
   */
  yRange?: [number, number];
  /** Vertical event lines. Default none. */
  markers?: PlotMarker[];
  /** Shaded spans of the x axis. Default none. */
  bands?: PlotBand[];
}

/** {@link PlotOptions} checked, with their defaults filled in. */
export interface ResolvedPlotOptions {
  title: string | undefined;
  xLabel: string | undefined;
  yLabel: string | undefined;
  width: number;
  height: number;
  xLog: boolean;
  yRange: [number, number] | undefined;
  markers: PlotMarker[];
  bands: PlotBand[];
}

/** Default SVG width in px. */
export const DEFAULT_WIDTH = 720;
/** Default SVG height in px. */
export const DEFAULT_HEIGHT = 360;

/** Space around the plot area of line and scatter plots, in px. */
export const PLOT_MARGIN: Readonly<{ left: number; right: number; top: number; bottom: number }> =
  Object.freeze({ left: 64, right: 16, top: 36, bottom: 48 });

/** Series colours, in order (cycled); chosen to stay apart for common colour-vision deficiencies. */
export const PALETTE: readonly string[] = Object.freeze([
  '#1f5fa8',
  '#d9731a',
  '#2e8b57',
  '#b23a48',
  '#7b5ea7',
  '#8c6d31',
  '#d45f9e',
  '#5f6b73',
]);

const FONT = 'font-family="sans-serif"';
/** Approximate width of one character of an 11 px tick label, in px. */
const TICK_CHAR_WIDTH = 6.2;

/** Maps a data value to a pixel coordinate. */
export interface Scale {
  /** Pixel coordinate of data value `v`. */
  (v: number): number;
  /** The data interval mapped, `[low, high]`. */
  readonly domain: readonly [number, number];
  /** Whether the mapping is log₁₀. */
  readonly log: boolean;
}

/** The rectangle the data is drawn in, in px. */
export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The plot area of a `width` × `height` line or scatter plot ({@link PLOT_MARGIN} inside it). */
export function plotArea(width: number, height: number): PlotArea {
  return {
    left: PLOT_MARGIN.left,
    right: width - PLOT_MARGIN.right,
    top: PLOT_MARGIN.top,
    bottom: height - PLOT_MARGIN.bottom,
  };
}

/**
 * A linear scale mapping `domain[0] → range[0]` and `domain[1] → range[1]` (the range may be
 * reversed, as y axes are).
 *
 * @throws KwsError `INVALID_ARGUMENT` for a non-finite or empty domain.
 */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (!Number.isFinite(d0) || !Number.isFinite(d1) || !(d1 > d0)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `a scale domain must be finite with low < high; got [${d0}, ${d1}]`,
    );
  }
  const k = (r1 - r0) / (d1 - d0);
  return Object.assign((v: number) => r0 + (v - d0) * k, { domain: [d0, d1] as const, log: false });
}

/**
 * A log₁₀ scale: `v ↦ r0 + (log10 v − log10 d0) · (r1 − r0) / (log10 d1 − log10 d0)`.
 *
 * @throws KwsError `INVALID_ARGUMENT` unless 0 < domain[0] < domain[1] (finite).
 */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  if (!(d0 > 0) || !Number.isFinite(d1) || !(d1 > d0)) {
    throw new KwsError('INVALID_ARGUMENT', `a log scale needs 0 < low < high; got [${d0}, ${d1}]`);
  }
  const inner = linearScale([Math.log10(d0), Math.log10(d1)], range);
  return Object.assign((v: number) => inner(Math.log10(v)), { domain: [d0, d1] as const, log: true });
}

/**
 * Rounds a pixel coordinate (or any value) to 2 decimals and prints it without trailing zeros:
 * `12.5`, `3`, `-0.25`; never `-0`.
 */
export function formatNumber(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/**
 * A tick label: `v` with as many decimals as the tick step needs (at most 12), in exponent form
 * (`1e-5`, `2.5e+6`) for magnitudes below 1e-4 or from 1e6 on.
 */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return Number(v.toPrecision(3)).toExponential().replace('.0e', 'e');
  const decimals = Math.min(12, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  const s = v.toFixed(decimals);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** The `1, 2, 5 × 10^k` step that cuts `span` into about `count` intervals. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1.5 ? 1 : m <= 3 ? 2 : m <= 7 ? 5 : 10) * power;
}

/** Multiples of {@link niceStep} inside `[low, high]` (about `count` of them). */
export function niceTicks(low: number, high: number, count = 6): number[] {
  const step = niceStep(high - low, count);
  const ticks: number[] = [];
  // Counting in whole steps (not adding step repeatedly) keeps 0.1·3 from becoming 0.30000000000000004.
  for (let i = Math.ceil(low / step - 1e-9); i * step <= high + step * 1e-9; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks;
}

/** `[low, high]` widened outward to multiples of its {@link niceStep}. */
export function niceDomain(low: number, high: number, count = 6): [number, number] {
  const step = niceStep(high - low, count);
  return [
    Number((Math.floor(low / step + 1e-9) * step).toPrecision(12)),
    Number((Math.ceil(high / step - 1e-9) * step).toPrecision(12)),
  ];
}

/** Ticks of a log₁₀ axis: the powers of ten inside `[low, high]`, plus 2× and 5× when fewer than 3. */
export function logTicks(low: number, high: number): number[] {
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const inside = (v: number): boolean => v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9);
  const powers: number[] = [];
  for (let k = first; k <= last; k++) powers.push(Number((10 ** k).toPrecision(12)));
  let ticks = powers.filter(inside);
  if (ticks.length < 3) {
    ticks = powers.flatMap((p) => [p, p * 2, p * 5].map((v) => Number(v.toPrecision(12)))).filter(inside);
  }
  return ticks;
}

/** Escapes `& < > " '` so that `text` is safe in XML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

function checkText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a string; got ${typeof value}`);
  }
  return value;
}

function checkArray<T>(name: string, value: unknown): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new KwsError('INVALID_ARGUMENT', `${name} must be an array`);
  return value as T[];
}

/** Throws `NON_FINITE_INPUT` (NaN, ±Infinity) or `INVALID_ARGUMENT` (not a number) for `value`. */
export function checkFiniteValue(name: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a number; got ${typeof value}`);
  }
  if (!Number.isFinite(value)) {
    throw new KwsError('NON_FINITE_INPUT', `${name} is ${value}; plotted values must be finite`);
  }
  return value;
}

/**
 * Validates {@link PlotOptions} and fills in the defaults (`defaultHeight` lets a plot choose
 * its own).
 *
 * @throws KwsError `INVALID_ARGUMENT` for a bad option, `NON_FINITE_INPUT` for a NaN/±Infinity
 *   marker or band position.
 */
export function resolvePlotOptions(
  options: PlotOptions | undefined,
  defaultHeight = DEFAULT_HEIGHT,
): ResolvedPlotOptions {
  const o = checkOptions('options', options);
  let yRange: [number, number] | undefined;
  if (o.yRange !== undefined) {
    if (!Array.isArray(o.yRange) || o.yRange.length !== 2) {
      throw new KwsError('INVALID_ARGUMENT', 'yRange must be [low, high]');
    }
    const low = checkNumber('yRange[0]', o.yRange[0]);
    const high = checkNumber('yRange[1]', o.yRange[1]);
    if (!(high > low))
      throw new KwsError('INVALID_ARGUMENT', `yRange must have low < high; got [${low}, ${high}]`);
    yRange = [low, high];
  }
  const markers = checkArray<PlotMarker>('markers', o.markers).map((m, i) => {
    if (m === null || typeof m !== 'object')
      throw new KwsError('INVALID_ARGUMENT', `markers[${i}] must be an object`);
    return {
      x: checkFiniteValue(`markers[${i}].x`, m.x),
      label: checkText(`markers[${i}].label`, m.label) ?? '',
    };
  });
  const bands = checkArray<PlotBand>('bands', o.bands).map((b, i) => {
    if (b === null || typeof b !== 'object')
      throw new KwsError('INVALID_ARGUMENT', `bands[${i}] must be an object`);
    const from = checkFiniteValue(`bands[${i}].from`, b.from);
    const to = checkFiniteValue(`bands[${i}].to`, b.to);
    if (!(to > from))
      throw new KwsError('INVALID_ARGUMENT', `bands[${i}] must have from < to; got ${from}, ${to}`);
    const label = checkText(`bands[${i}].label`, b.label);
    return label === undefined ? { from, to } : { from, to, label };
  });
  return {
    title: checkText('title', o.title),
    xLabel: checkText('xLabel', o.xLabel),
    yLabel: checkText('yLabel', o.yLabel),
    width: checkInt('width', o.width ?? DEFAULT_WIDTH, 120, 8000),
    height: checkInt('height', o.height ?? defaultHeight, 120, 8000),
    xLog: checkBoolean('xLog', o.xLog ?? false),
    yRange,
    markers,
    bands,
  };
}

/** The extent `[min, max]` of `values`, widened when empty or a single value so it can be scaled. */
export function extent(values: Iterable<number>, log: boolean): [number, number] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  if (!(low <= high)) return log ? [1, 10] : [0, 1];
  if (low === high)
    return log
      ? [low / 10, low * 10]
      : low === 0
        ? [-1, 1]
        : [low - Math.abs(low) / 10, high + Math.abs(high) / 10];
  return [low, high];
}

/**
 * The `<svg>` document around `body`, with a white background and a `<title>` (the plot's title,
 * or "plot") so that screen readers and image viewers can name it.
 */
export function svgDocument(width: number, height: number, body: string[], title?: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${escapeXml(title ?? 'plot')}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** A `<text>` element with escaped content. */
export function text(x: number, y: number, content: string, attributes = ''): string {
  const extra = attributes === '' ? '' : ` ${attributes}`;
  return `<text x="${formatNumber(x)}" y="${formatNumber(y)}"${extra}>${escapeXml(content)}</text>`;
}

/** The title, centred above the plot area. */
export function titleElement(title: string | undefined, width: number): string[] {
  return title === undefined
    ? []
    : [text(width / 2, 22, title, 'class="title" text-anchor="middle" font-size="15" font-weight="bold"')];
}

/**
 * Grid lines, ticks, tick labels and axis labels of a plot area, plus the bands (under the data)
 * and markers (over it) of the options; returns `[under, over]` element lists.
 */
export function axes(area: PlotArea, x: Scale, y: Scale, o: ResolvedPlotOptions): [string[], string[]] {
  const under: string[] = [];
  const over: string[] = [];
  const [x0, x1] = x.domain;
  const [y0, y1] = y.domain;
  const xTicks = x.log
    ? logTicks(x0, x1)
    : niceTicks(x0, x1, Math.max(2, Math.round((area.right - area.left) / 80)));
  const yTicks = y.log
    ? logTicks(y0, y1)
    : niceTicks(y0, y1, Math.max(2, Math.round((area.bottom - area.top) / 50)));
  const xStep = xTicks.length > 1 ? (xTicks[1] as number) - (xTicks[0] as number) : 1;
  const yStep = yTicks.length > 1 ? (yTicks[1] as number) - (yTicks[0] as number) : 1;
  const f = formatNumber;
  under.push(`<g class="grid" stroke="#e3e3e3" stroke-width="1">`);
  for (const t of xTicks)
    under.push(`<line x1="${f(x(t))}" y1="${f(area.top)}" x2="${f(x(t))}" y2="${f(area.bottom)}"/>`);
  for (const t of yTicks)
    under.push(`<line x1="${f(area.left)}" y1="${f(y(t))}" x2="${f(area.right)}" y2="${f(y(t))}"/>`);
  under.push('</g>');
  for (const b of o.bands) {
    const from = Math.max(area.left, Math.min(area.right, x(b.from)));
    const to = Math.max(area.left, Math.min(area.right, x(b.to)));
    if (!(to > from)) continue;
    under.push(
      `<rect class="band" x="${f(from)}" y="${f(area.top)}" width="${f(to - from)}" height="${f(area.bottom - area.top)}" fill="#f2c14e" fill-opacity="0.25"/>`,
    );
    if (b.label !== undefined)
      under.push(
        text((from + to) / 2, area.bottom - 6, b.label, 'text-anchor="middle" font-size="11" fill="#7a5a00"'),
      );
  }
  over.push(
    `<rect class="frame" x="${f(area.left)}" y="${f(area.top)}" width="${f(area.right - area.left)}" height="${f(area.bottom - area.top)}" fill="none" stroke="#444444"/>`,
  );
  for (const t of xTicks) {
    const px = x(t);
    over.push(
      `<line x1="${f(px)}" y1="${f(area.bottom)}" x2="${f(px)}" y2="${f(area.bottom + 5)}" stroke="#444444"/>`,
    );
    const label = x.log ? formatTick(t, t) : formatTick(t, xStep);
    // A label centred on the last tick would stick out of the right margin: end it there instead.
    const overflows = px + (label.length * TICK_CHAR_WIDTH) / 2 > area.right + PLOT_MARGIN.right - 2;
    over.push(
      text(
        overflows ? area.right + PLOT_MARGIN.right - 2 : px,
        area.bottom + 18,
        label,
        `text-anchor="${overflows ? 'end' : 'middle'}" font-size="11"`,
      ),
    );
  }
  for (const t of yTicks) {
    const py = y(t);
    over.push(
      `<line x1="${f(area.left - 5)}" y1="${f(py)}" x2="${f(area.left)}" y2="${f(py)}" stroke="#444444"/>`,
    );
    over.push(
      text(
        area.left - 8,
        py + 4,
        y.log ? formatTick(t, t) : formatTick(t, yStep),
        'text-anchor="end" font-size="11"',
      ),
    );
  }
  if (o.xLabel !== undefined)
    over.push(
      text((area.left + area.right) / 2, area.bottom + 38, o.xLabel, 'class="x-label" text-anchor="middle"'),
    );
  if (o.yLabel !== undefined) {
    const cy = (area.top + area.bottom) / 2;
    over.push(
      text(16, cy, o.yLabel, `class="y-label" text-anchor="middle" transform="rotate(-90 16 ${f(cy)})"`),
    );
  }
  for (const m of o.markers) {
    const px = x(m.x);
    if (px < area.left - 1e-9 || px > area.right + 1e-9) continue;
    over.push(
      `<line class="marker" x1="${f(px)}" y1="${f(area.top)}" x2="${f(px)}" y2="${f(area.bottom)}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
    if (m.label !== '') over.push(text(px + 3, area.top + 12, m.label, 'font-size="11" fill="#c0392b"'));
  }
  return [under, over];
}

/** A legend box in the top-right corner of the plot area: one swatch and name per named entry. */
export function legend(
  area: PlotArea,
  allEntries: { name: string; color: string; kind: 'line' | 'point' }[],
): string[] {
  const entries = allEntries.filter((e) => e.name !== '');
  if (entries.length === 0) return [];
  const longest = Math.max(...entries.map((e) => e.name.length));
  const boxWidth = 34 + longest * 6.6;
  const left = area.right - boxWidth - 8;
  const top = area.top + 8;
  const f = formatNumber;
  const out = [
    `<g class="legend">`,
    `<rect x="${f(left)}" y="${f(top)}" width="${f(boxWidth)}" height="${f(8 + 16 * entries.length)}" fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb"/>`,
  ];
  entries.forEach((e, i) => {
    const cy = top + 12 + 16 * i;
    out.push(
      e.kind === 'line'
        ? `<line x1="${f(left + 6)}" y1="${f(cy)}" x2="${f(left + 24)}" y2="${f(cy)}" stroke="${e.color}" stroke-width="2"/>`
        : `<circle cx="${f(left + 15)}" cy="${f(cy)}" r="3" fill="${e.color}"/>`,
    );
    out.push(text(left + 30, cy + 4, e.name, 'font-size="11"'));
  });
  out.push('</g>');
  return out;
}
