import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { paretoFront, type ScatterPoint, scatterPlot } from '../../src/plot/index.js';
import { createRng } from '../../src/random.js';
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

/** The front by its definition, O(n²): not dominated when minimising x and maximising y. */
function bruteFront(points: { x: number; y: number }[]): number[] {
  const dominated = (p: { x: number; y: number }): boolean =>
    points.some((q) => q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y));
  return points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !dominated(p))
    .sort((a, b) => a.p.x - b.p.x || a.i - b.i)
    .map(({ i }) => i);
}

describe('paretoFront', () => {
  it('keeps the points no other point beats on both axes, sorted by x', () => {
    const points = [
      { x: 1, y: 1 },
      { x: 2, y: 3 },
      { x: 3, y: 2 },
      { x: 4, y: 5 },
      { x: 0.5, y: 0.5 },
      { x: 5, y: 5 },
    ];
    expect(paretoFront(points)).toEqual([4, 0, 1, 3]);
  });

  it('drops ties that are worse on the other axis and keeps exact duplicates', () => {
    expect(
      paretoFront([
        { x: 2, y: 1 },
        { x: 2, y: 3 },
        { x: 1, y: 3 },
      ]),
    ).toEqual([2]);
    expect(
      paretoFront([
        { x: 1, y: 2 },
        { x: 1, y: 2 },
        { x: 0, y: 0 },
      ]),
    ).toEqual([2, 0, 1]);
    expect(paretoFront([])).toEqual([]);
    expect(paretoFront([{ x: 7, y: -1 }])).toEqual([0]);
  });

  it('matches the definition on random sets (with many ties)', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 50; trial++) {
      const points = Array.from({ length: 1 + rng.int(40) }, () => ({ x: rng.int(8), y: rng.int(8) }));
      expect(paretoFront(points)).toEqual(bruteFront(points));
    }
  });

  it('rejects non-finite coordinates', () => {
    expect(code(() => paretoFront([{ x: Number.NaN, y: 1 }]))).toBe('NON_FINITE_INPUT');
    expect(code(() => paretoFront('no' as unknown as []))).toBe('INVALID_ARGUMENT');
  });
});

describe('scatterPlot', () => {
  const points: ScatterPoint[] = [
    { x: 0, y: 0, label: 'a' },
    { x: 10, y: 1, label: 'b', highlight: true },
    { x: 5, y: 0.5, label: 'c & d', highlight: true },
    { x: 8, y: 0.25 },
  ];

  it('places points on the nice-widened scale and joins the front in x order', () => {
    const svg = scatterPlot(points, { yRange: [0, 1], connectFront: true, title: '<front>' });
    checkXml(svg);
    const xy = elements(svg, 'circle', 'point').map((c) => [numberAttr(c, 'cx'), numberAttr(c, 'cy')]);
    expect(xy).toEqual([
      [64, 312],
      [704, 36],
      [384, 174],
      [576, 243],
    ]);
    expect(elements(svg, 'circle', 'highlight')).toHaveLength(2);
    expect(elements(svg, 'path', 'front').flatMap((p) => attributeValues(` ${p}`, 'd'))).toEqual([
      'M384 174L704 36',
    ]);
    expect(svg).toContain('>c &amp; d</text>');
    expect(svg).toContain('&lt;front&gt;');
  });

  it('draws no front line unless asked', () => {
    expect(elements(scatterPlot(points), 'path', 'front')).toHaveLength(0);
  });

  it('supports a log x axis widened to powers of ten', () => {
    const svg = scatterPlot(
      [
        { x: 2, y: 0 },
        { x: 50, y: 1 },
      ],
      { xLog: true, yRange: [0, 1] },
    );
    const cx = elements(svg, 'circle', 'point').map((c) => numberAttr(c, 'cx'));
    // Domain [1, 100]: 64 + 640·log10(x)/2.
    expect(cx).toEqual([
      Math.round((64 + 320 * Math.log10(2)) * 100) / 100,
      Math.round((64 + 320 * Math.log10(50)) * 100) / 100,
    ]);
    expect(code(() => scatterPlot([{ x: -1, y: 0 }], { xLog: true }))).toBe('INVALID_ARGUMENT');
  });

  it('rejects bad input with KwsError codes', () => {
    expect(code(() => scatterPlot([]))).toBe('EMPTY_INPUT');
    expect(code(() => scatterPlot([{ x: 1, y: Number.NaN }]))).toBe('NON_FINITE_INPUT');
    expect(code(() => scatterPlot([{ x: 1, y: 1, label: 3 as unknown as string }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => scatterPlot(points, { connectFront: 'yes' as unknown as boolean }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
