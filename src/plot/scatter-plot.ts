/**
 * Scatter plots as SVG text, and the Pareto front of a point set: e.g. accuracy against model
 * size or latency, the models worth keeping highlighted and joined.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import {
  axes,
  checkFiniteValue,
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
  svgDocument,
  text,
  titleElement,
} from './svg.js';

/** One point of a {@link scatterPlot}. */
export interface ScatterPoint {
  /** X value (> 0 on a log x axis). */
  x: number;
  /** Y value. */
  y: number;
  /** Text drawn next to the point. Default none. */
  label?: string;
  /** Draw the point distinctly (e.g. it is on the Pareto front). Default false. */
  highlight?: boolean;
}

/** Options of {@link scatterPlot}. */
export interface ScatterPlotOptions extends PlotOptions {
  /** Join the highlighted points by a line, in x order (a Pareto front). Default false. */
  connectFront?: boolean;
}

function checkPoints(points: unknown, xLog: boolean): ScatterPoint[] {
  if (!Array.isArray(points)) throw new KwsError('INVALID_ARGUMENT', 'points must be an array of { x, y }');
  if (points.length === 0) throw new KwsError('EMPTY_INPUT', 'points is empty; give at least one point');
  return points.map((p: ScatterPoint, i) => {
    if (p === null || typeof p !== 'object')
      throw new KwsError('INVALID_ARGUMENT', `points[${i}] must be an object`);
    const x = checkFiniteValue(`points[${i}].x`, p.x);
    const y = checkFiniteValue(`points[${i}].y`, p.y);
    if (xLog && !(x > 0)) {
      throw new KwsError('INVALID_ARGUMENT', `points[${i}].x is ${x}; a log x axis needs x > 0`);
    }
    if (p.label !== undefined && typeof p.label !== 'string') {
      throw new KwsError('INVALID_ARGUMENT', `points[${i}].label must be a string`);
    }
    return { x, y, label: p.label, highlight: p.highlight === true };
  });
}

/**
 * The Pareto front of `points` when smaller x and larger y are better: the indices of the points
 * no other point dominates (q dominates p when q.x ≤ p.x and q.y ≥ p.y, one of them strictly),
 * sorted by x (ties: by index). Identical points are all kept. O(n log n).
 *
 * @returns indices into `points`; `[]` for no points.
 * @throws KwsError `NON_FINITE_INPUT` for a NaN/±Infinity coordinate, `INVALID_ARGUMENT` for a
 *   non-array or a point without numeric x and y.
 */
export function paretoFront(points: readonly { x: number; y: number }[]): number[] {
  if (!Array.isArray(points)) throw new KwsError('INVALID_ARGUMENT', 'points must be an array of { x, y }');
  points.forEach((p, i) => {
    if (p === null || typeof p !== 'object')
      throw new KwsError('INVALID_ARGUMENT', `points[${i}] must be an object`);
    checkFiniteValue(`points[${i}].x`, p.x);
    checkFiniteValue(`points[${i}].y`, p.y);
  });
  // By x, best y first among equal x: then a point is on the front iff its y beats every y
  // before it (or it repeats the last front point exactly).
  const order = points
    .map((_, i) => i)
    .sort((a, b) => {
      const pa = points[a] as { x: number; y: number };
      const pb = points[b] as { x: number; y: number };
      return pa.x - pb.x || pb.y - pa.y || a - b;
    });
  const front: number[] = [];
  let best = Number.NEGATIVE_INFINITY;
  let last: { x: number; y: number } | undefined;
  for (const i of order) {
    const p = points[i] as { x: number; y: number };
    if (p.y > best || (last !== undefined && p.x === last.x && p.y === last.y)) {
      front.push(i);
      best = p.y;
      last = p;
    }
  }
  return front;
}

/**
 * Draws points as an SVG scatter plot. Both axes span the data widened to round ticks (x on a
 * log₁₀ axis with `xLog`, widened to the enclosing powers of ten); `yRange` fixes y. Ordinary
 * points are hollow grey circles, highlighted ones filled and larger; with `connectFront` the
 * highlighted points are joined in x order (`front` path). Labels are drawn to the right of their
 * points. Markers and bands work as in line plots.
 *
 * @returns the SVG document as text (deterministic for a given input).
 * @throws KwsError `EMPTY_INPUT` for no points, `NON_FINITE_INPUT` for a NaN/±Infinity
 *   coordinate, `INVALID_ARGUMENT` for a bad option or x ≤ 0 on a log axis.
 */
export function scatterPlot(points: ScatterPoint[], options?: ScatterPlotOptions): string {
  const o = resolvePlotOptions(options);
  const connectFront = options?.connectFront ?? false;
  if (typeof connectFront !== 'boolean')
    throw new KwsError('INVALID_ARGUMENT', 'connectFront must be a boolean');
  const checked = checkPoints(points, o.xLog);
  const area = plotArea(o.width, o.height);
  const [xLow, xHigh] = extent(
    checked.map((p) => p.x),
    o.xLog,
  );
  const x = o.xLog
    ? logScale(
        [10 ** Math.floor(Math.log10(xLow) + 1e-9), 10 ** Math.ceil(Math.log10(xHigh) - 1e-9)],
        [area.left, area.right],
      )
    : linearScale(niceDomain(xLow, xHigh), [area.left, area.right]);
  const [yLow, yHigh] = extent(
    checked.map((p) => p.y),
    false,
  );
  const yScale = linearScale(o.yRange ?? niceDomain(yLow, yHigh), [area.bottom, area.top]);
  const [y0, y1] = yScale.domain;
  const y = (v: number): number => yScale(Math.min(y1, Math.max(y0, v)));
  const [under, over] = axes(area, x, yScale, o);
  const f = formatNumber;
  const body: string[] = [...titleElement(o.title, o.width), ...under];
  const highlightColor = PALETTE[0] as string;
  const front = checked.filter((p) => p.highlight).sort((a, b) => a.x - b.x);
  if (connectFront && front.length > 1) {
    const d = front.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(x(p.x))} ${f(y(p.y))}`).join('');
    body.push(`<path class="front" d="${d}" fill="none" stroke="${highlightColor}" stroke-width="1.5"/>`);
  }
  for (const p of checked) {
    const cx = f(x(p.x));
    const cy = f(y(p.y));
    body.push(
      p.highlight
        ? `<circle class="point highlight" cx="${cx}" cy="${cy}" r="4.5" fill="${highlightColor}"/>`
        : `<circle class="point" cx="${cx}" cy="${cy}" r="3.5" fill="none" stroke="#777777" stroke-width="1.25"/>`,
    );
    if (p.label !== undefined && p.label !== '') {
      body.push(
        text(x(p.x) + 6, y(p.y) - 5, p.label, `font-size="10" fill="${p.highlight ? '#1a1a1a' : '#666666'}"`),
      );
    }
  }
  body.push(...over);
  if (connectFront && front.length > 0) {
    body.push(...legend(area, [{ name: 'Pareto front', color: highlightColor, kind: 'line' }]));
  }
  return svgDocument(o.width, o.height, body, o.title);
}
