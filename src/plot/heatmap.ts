/**
 * Heatmaps as SVG text, with each cell's value printed in it: confusion matrices (rows = true
 * class, columns = predicted class), per-layer sensitivity tables and the like.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import {
  checkFiniteValue,
  escapeXml,
  formatNumber,
  type PlotOptions,
  resolvePlotOptions,
  svgDocument,
  text,
  titleElement,
} from './svg.js';

/** Options of {@link heatmap}. */
export interface HeatmapOptions extends PlotOptions {
  /**
   * Divide each row by its sum before drawing (a confusion matrix becomes per-class recall); a
   * row summing to 0 stays 0. Default false.
   */
  normalizeRows?: boolean;
}

const CHAR_WIDTH = 6.6;
const MAX_CELL = 48;

function checkLabels(name: string, labels: unknown, count: number, what: string): string[] {
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be an array of strings`);
  }
  if (labels.length !== count) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${name} has ${labels.length} labels; the matrix has ${count} ${what}`,
    );
  }
  return labels as string[];
}

/** Text of a cell value: 2 decimals for fractions, whole numbers as such, else 3 significant digits. */
function cellText(v: number, normalized: boolean): string {
  if (normalized) return v.toFixed(2);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

/** White → blue, by `t` in [0, 1]. */
function cellColor(t: number): string {
  const mix = (from: number, to: number): string =>
    Math.round(from + (to - from) * t)
      .toString(16)
      .padStart(2, '0');
  return `#${mix(255, 22)}${mix(255, 80)}${mix(255, 150)}`;
}

/**
 * Draws `matrix` (rows × columns) as an SVG heatmap with the value printed in every cell. Colour
 * intensity is `(v − min(0, lowest)) / (highest − min(0, lowest))` (after `normalizeRows`), so a
 * non-negative matrix maps 0 to white. Row labels go on the left, column labels under the grid
 * (rotated when long); `xLabel` names the columns, `yLabel` the rows. `yRange`, `xLog`, markers
 * and bands do not apply and are ignored.
 *
 * Size: `width` defaults to 720; `height` defaults to what square cells (at most 48 px) need.
 *
 * @param matrix rows of equal length, at least 1 × 1.
 * @param rowLabels one label per row.
 * @param colLabels one label per column.
 * @returns the SVG document as text (deterministic for a given input).
 * @throws KwsError `EMPTY_INPUT` for an empty matrix, `SHAPE_MISMATCH` for ragged rows or a
 *   label count that does not match, `NON_FINITE_INPUT` for a NaN/±Infinity value,
 *   `INVALID_ARGUMENT` for a bad option.
 */
export function heatmap(
  matrix: number[][],
  rowLabels: string[],
  colLabels: string[],
  options?: HeatmapOptions,
): string {
  if (!Array.isArray(matrix)) throw new KwsError('INVALID_ARGUMENT', 'matrix must be an array of rows');
  if (matrix.length === 0 || (Array.isArray(matrix[0]) && matrix[0].length === 0)) {
    throw new KwsError('EMPTY_INPUT', 'matrix is empty; at least one row and one column are needed');
  }
  const cols = Array.isArray(matrix[0]) ? matrix[0].length : 0;
  const values = matrix.map((row, r) => {
    if (!Array.isArray(row))
      throw new KwsError('INVALID_ARGUMENT', `matrix[${r}] must be an array of numbers`);
    if (row.length !== cols) {
      throw new KwsError('SHAPE_MISMATCH', `matrix[${r}] has ${row.length} values; row 0 has ${cols}`);
    }
    return row.map((v, c) => checkFiniteValue(`matrix[${r}][${c}]`, v));
  });
  const rows = values.length;
  const rowNames = checkLabels('rowLabels', rowLabels, rows, 'rows');
  const colNames = checkLabels('colLabels', colLabels, cols, 'columns');
  const normalize = options?.normalizeRows ?? false;
  if (typeof normalize !== 'boolean')
    throw new KwsError('INVALID_ARGUMENT', 'normalizeRows must be a boolean');
  const shown = normalize
    ? values.map((row) => {
        const sum = row.reduce((a, b) => a + b, 0);
        return row.map((v) => (sum === 0 ? 0 : v / sum));
      })
    : values;

  const longestRow = Math.max(...rowNames.map((l) => l.length));
  const longestCol = Math.max(...colNames.map((l) => l.length));
  const left = 24 + (options?.yLabel === undefined ? 0 : 18) + longestRow * CHAR_WIDTH;
  const top = options?.title === undefined ? 12 : 36;
  const width = options?.width ?? 720;
  const cellFromWidth = (width - left - 16) / cols;
  const rotate = longestCol * CHAR_WIDTH > Math.min(MAX_CELL, cellFromWidth) - 4;
  const bottom =
    12 + (rotate ? longestCol * CHAR_WIDTH * 0.72 + 12 : 18) + (options?.xLabel === undefined ? 0 : 22);
  const defaultHeight = Math.max(120, Math.ceil(top + bottom + rows * Math.min(MAX_CELL, cellFromWidth)));
  const o = resolvePlotOptions(options, defaultHeight);
  const cell = Math.max(
    1,
    Math.min(MAX_CELL, (o.width - left - 16) / cols, (o.height - top - bottom) / rows),
  );

  let low = 0;
  let high = Number.NEGATIVE_INFINITY;
  for (const row of shown) {
    for (const v of row) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
  }
  const span = high > low ? high - low : 1;
  const f = formatNumber;
  const fontSize = Math.max(7, Math.min(12, cell / 3.2));
  const body: string[] = [...titleElement(o.title, o.width), '<g class="cells">'];
  shown.forEach((row, r) => {
    row.forEach((v, c) => {
      const t = (v - low) / span;
      const cx = left + c * cell;
      const cy = top + r * cell;
      body.push(
        `<rect class="cell" x="${f(cx)}" y="${f(cy)}" width="${f(cell)}" height="${f(cell)}" fill="${cellColor(t)}" stroke="#ffffff"/>`,
      );
      body.push(
        text(
          cx + cell / 2,
          cy + cell / 2 + fontSize * 0.35,
          cellText(v, normalize),
          `text-anchor="middle" font-size="${f(fontSize)}" fill="${t > 0.6 ? '#ffffff' : '#1a1a1a'}"`,
        ),
      );
    });
  });
  body.push('</g>');
  rowNames.forEach((label, r) => {
    body.push(
      text(left - 6, top + (r + 0.5) * cell + 4, label, 'class="row-label" text-anchor="end" font-size="11"'),
    );
  });
  const gridBottom = top + rows * cell;
  colNames.forEach((label, c) => {
    const cx = left + (c + 0.5) * cell;
    body.push(
      rotate
        ? `<text class="col-label" x="${f(cx)}" y="${f(gridBottom + 12)}" text-anchor="end" font-size="11" transform="rotate(-45 ${f(cx)} ${f(gridBottom + 12)})">${escapeXml(label)}</text>`
        : text(cx, gridBottom + 16, label, 'class="col-label" text-anchor="middle" font-size="11"'),
    );
  });
  const gridCenterX = left + (cols * cell) / 2;
  if (o.xLabel !== undefined) {
    body.push(text(gridCenterX, o.height - 8, o.xLabel, 'class="x-label" text-anchor="middle"'));
  }
  if (o.yLabel !== undefined) {
    const cy = top + (rows * cell) / 2;
    body.push(
      text(14, cy, o.yLabel, `class="y-label" text-anchor="middle" transform="rotate(-90 14 ${f(cy)})"`),
    );
  }
  return svgDocument(o.width, o.height, body, o.title);
}
