import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { heatmap } from '../../src/plot/index.js';
import { attributeValues, checkXml, elements, numberAttr } from './xml-check.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    return (e as KwsError).code;
  }
  return undefined;
}

function cellTexts(svg: string): string[] {
  const cells = svg.slice(svg.indexOf('<g class="cells">'), svg.indexOf('</g>'));
  return [...cells.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
}

describe('heatmap', () => {
  it('draws one cell per value, row-major, with the value printed', () => {
    const svg = heatmap(
      [
        [3, 1, 0],
        [0, 4, 2.5],
      ],
      ['yes', 'no'],
      ['yes', 'no', '_unknown_'],
      { title: 'confusion', xLabel: 'predicted', yLabel: 'true' },
    );
    expect(checkXml(svg)).toBe('svg');
    const cells = elements(svg, 'rect', 'cell');
    expect(cells).toHaveLength(6);
    expect(cellTexts(svg)).toEqual(['3', '1', '0', '0', '4', '2.5']);
    // Square cells on a grid: the second column is one cell width right of the first.
    const size = numberAttr(cells[0] as string, 'width');
    expect(numberAttr(cells[0] as string, 'height')).toBe(size);
    expect(numberAttr(cells[1] as string, 'x') - numberAttr(cells[0] as string, 'x')).toBeCloseTo(size, 1);
    expect(numberAttr(cells[3] as string, 'y') - numberAttr(cells[0] as string, 'y')).toBeCloseTo(size, 1);
    // Colour: 0 is white, the largest value the darkest.
    const fills = attributeValues(cells.join(' '), 'fill');
    expect(fills[2]).toBe('#ffffff');
    expect(fills[4]).toBe('#165096');
    expect(svg).toContain('>_unknown_</text>');
  });

  it('normalises rows to fractions (a zero row stays zero)', () => {
    const svg = heatmap(
      [
        [3, 1],
        [0, 0],
      ],
      ['a', 'b'],
      ['a', 'b'],
      { normalizeRows: true },
    );
    expect(cellTexts(svg)).toEqual(['0.75', '0.25', '0.00', '0.00']);
  });

  it('escapes labels', () => {
    const svg = heatmap([[1]], ['<r&>'], ['"c"'], { title: "it's" });
    checkXml(svg);
    expect(svg).toContain('&lt;r&amp;&gt;');
    expect(svg).toContain('&quot;c&quot;');
    expect(svg).toContain('it&apos;s');
  });

  it('rejects bad input with KwsError codes', () => {
    expect(code(() => heatmap([], [], []))).toBe('EMPTY_INPUT');
    expect(code(() => heatmap([[]], ['a'], []))).toBe('EMPTY_INPUT');
    expect(code(() => heatmap([[1, 2], [3]], ['a', 'b'], ['x', 'y']))).toBe('SHAPE_MISMATCH');
    expect(code(() => heatmap([[1, 2]], ['a', 'b'], ['x', 'y']))).toBe('SHAPE_MISMATCH');
    expect(code(() => heatmap([[1, 2]], ['a'], ['x']))).toBe('SHAPE_MISMATCH');
    expect(code(() => heatmap([[1, Number.NaN]], ['a'], ['x', 'y']))).toBe('NON_FINITE_INPUT');
    expect(code(() => heatmap([[1]], ['a'], ['x'], { normalizeRows: 1 as unknown as boolean }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
