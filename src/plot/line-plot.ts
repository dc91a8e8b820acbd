/**
 * Line plots as SVG text: one or more series of (x, y) values drawn as lines, steps or points,
 * with optional event markers and shaded bands (e.g. a keyword's probability over time, with the
 * detections and the spans where the keyword truly is).
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import {
  axes,
  checkFiniteValue,
  escapeXml,
  extent,
  formatNumber,
  legend,
  linearScale,
  logScale,
  niceDomain,
  PALETTE,
  type PlotOptions,
  plotArea,
  resolvePlotOptions,
  type Scale,
  svgDocument,
  titleElement,
} from './svg.js';

/** One series of a {@link linePlot}. */
export interface PlotSeries {
  /** Name shown in the legend. */
  name: string;
  /** X values (same length as `y`, at least one). Lines join the points in the given order. */
  x: ArrayLike<number>;
  /** Y values. */
  y: ArrayLike<number>;
  /**
   * `'line'` (default): straight segments; `'step'`: each y holds until the next x (step after);
   * `'points'`: a dot per value.
   */
  kind?: 'line' | 'step' | 'points';
}

interface CheckedSeries {
  name: string;
  x: number[];
  y: number[];
  kind: 'line' | 'step' | 'points';
}

function checkSeries(series: unknown, xLog: boolean): CheckedSeries[] {
  if (!Array.isArray(series)) throw new KwsError('INVALID_ARGUMENT', 'series must be an array of PlotSeries');
  if (series.length === 0) throw new KwsError('EMPTY_INPUT', 'series is empty; give at least one series');
  return series.map((s: PlotSeries, i) => {
    if (s === null || typeof s !== 'object')
      throw new KwsError('INVALID_ARGUMENT', `series[${i}] must be an object`);
    if (typeof s.name !== 'string')
      throw new KwsError('INVALID_ARGUMENT', `series[${i}].name must be a string`);
    const kind = s.kind ?? 'line';
    if (kind !== 'line' && kind !== 'step' && kind !== 'points') {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `series[${i}].kind must be 'line', 'step' or 'points'; got ${String(kind)}`,
      );
    }
    const isList = (v: unknown): v is ArrayLike<number> =>
      v !== null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number';
    if (!isList(s.x) || !isList(s.y)) {
      throw new KwsError('INVALID_ARGUMENT', `series[${i}] (${s.name}) needs x and y arrays of numbers`);
    }
    if (s.x.length !== s.y.length) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `series[${i}] (${s.name}) has ${s.x.length} x values and ${s.y.length} y values; they must match`,
      );
    }
    if (s.x.length === 0) throw new KwsError('EMPTY_INPUT', `series[${i}] (${s.name}) has no points`);
    const x = Array.from(s.x, (v, j) => checkFiniteValue(`series[${i}].x[${j}]`, v));
    const y = Array.from(s.y, (v, j) => checkFiniteValue(`series[${i}].y[${j}]`, v));
    if (xLog) {
      const bad = x.findIndex((v) => !(v > 0));
      if (bad >= 0) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `series[${i}].x[${bad}] is ${x[bad]}; a log x axis needs x > 0`,
        );
      }
    }
    return { name: s.name, x, y, kind };
  });
}

function pathOf(s: CheckedSeries, x: Scale, y: (v: number) => number): string {
  const f = formatNumber;
  const parts: string[] = [];
  for (let i = 0; i < s.x.length; i++) {
    const px = f(x(s.x[i] as number));
    const py = f(y(s.y[i] as number));
    if (i === 0) parts.push(`M${px} ${py}`);
    else if (s.kind === 'step') parts.push(`H${px}V${py}`);
    else parts.push(`L${px} ${py}`);
  }
  return parts.join('');
}

/**
 * Draws series of (x, y) values as an SVG line plot.
 *
 * Axes: x spans exactly the data's x range (log₁₀ with `xLog`); y spans `yRange` or the data's
 * range widened to round ticks. Y values outside `yRange` are drawn at its edge. Bands are drawn
 * under the data, markers over it; a legend names the series (colours from {@link PALETTE} in
 * order). Elements carry classes for tooling: `series` paths (with `data-name`), `point`
 * circles, `marker` lines, `band` rects.
 *
 * @returns the SVG document as text (deterministic for a given input).
 * @throws KwsError `EMPTY_INPUT` for no series or a series without points, `SHAPE_MISMATCH` when
 *   a series' x and y lengths differ, `NON_FINITE_INPUT` for a NaN/±Infinity value,
 *   `INVALID_ARGUMENT` for a bad option or x ≤ 0 on a log axis.
 */
export function linePlot(series: PlotSeries[], options?: PlotOptions): string {
  const o = resolvePlotOptions(options);
  const checked = checkSeries(series, o.xLog);
  const area = plotArea(o.width, o.height);
  const xDomain = extent(
    checked.flatMap((s) => s.x),
    o.xLog,
  );
  const x = o.xLog
    ? logScale(xDomain, [area.left, area.right])
    : linearScale(xDomain, [area.left, area.right]);
  const [yLow, yHigh] = extent(
    checked.flatMap((s) => s.y),
    false,
  );
  const yScale = linearScale(o.yRange ?? niceDomain(yLow, yHigh), [area.bottom, area.top]);
  const [y0, y1] = yScale.domain;
  const y = (v: number): number => yScale(Math.min(y1, Math.max(y0, v)));
  const [under, over] = axes(area, x, yScale, o);
  const body: string[] = [...titleElement(o.title, o.width), ...under];
  checked.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const name = escapeXml(s.name);
    if (s.kind === 'points') {
      body.push(`<g class="series" data-name="${name}" fill="${color}">`);
      for (let j = 0; j < s.x.length; j++) {
        body.push(
          `<circle class="point" cx="${formatNumber(x(s.x[j] as number))}" cy="${formatNumber(y(s.y[j] as number))}" r="2.5"/>`,
        );
      }
      body.push('</g>');
    } else {
      body.push(
        `<path class="series" data-name="${name}" d="${pathOf(s, x, y)}" fill="none" stroke="${color}" stroke-width="1.75" stroke-linejoin="round"/>`,
      );
    }
  });
  body.push(...over);
  body.push(
    ...legend(
      area,
      checked.map((s, i) => ({
        name: s.name,
        color: PALETTE[i % PALETTE.length] as string,
        kind: s.kind === 'points' ? 'point' : 'line',
      })),
    ),
  );
  return svgDocument(o.width, o.height, body, o.title);
}
