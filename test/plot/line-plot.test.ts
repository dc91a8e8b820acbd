import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { linePlot, type PlotSeries } from '../../src/plot/index.js';
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

const ramp: PlotSeries = { name: 'ramp', x: [0, 5, 10], y: [0, 0.5, 1] };

describe('linePlot', () => {
  it('emits one well-formed svg document of the requested size', () => {
    const svg = linePlot([ramp], { title: 'T', xLabel: 'time (s)', yLabel: 'p', width: 640, height: 300 });
    expect(checkXml(svg)).toBe('svg');
    expect(svg).toMatch(/^<svg [^>]*width="640" height="300" viewBox="0 0 640 300"/);
    expect(svg).toContain('>time (s)</text>');
  });

  it('puts points where the scale says (default 720 × 360: area x 64..704, y 312..36)', () => {
    const svg = linePlot([{ ...ramp, kind: 'points' }], { yRange: [0, 1] });
    const points = elements(svg, 'circle', 'point').map((c) => [numberAttr(c, 'cx'), numberAttr(c, 'cy')]);
    expect(points).toEqual([
      [64, 312],
      [384, 174],
      [704, 36],
    ]);
  });

  it('draws lines and steps as compact paths', () => {
    const svg = linePlot([ramp, { ...ramp, name: 'step', kind: 'step' }], { yRange: [0, 1] });
    expect(attributeValues(svg, 'd')).toEqual(['M64 312L384 174L704 36', 'M64 312H384V174H704V36']);
    expect(attributeValues(svg, 'data-name')).toEqual(['ramp', 'step']);
  });

  it('clamps values outside yRange to its edges', () => {
    const svg = linePlot([{ name: 'a', x: [0, 1], y: [-3, 2] }], { yRange: [0, 1] });
    expect(attributeValues(svg, 'd')).toEqual(['M64 312L704 36']);
  });

  it('uses a log10 x axis with power-of-ten ticks', () => {
    const svg = linePlot([{ name: 'a', x: [1, 10, 100], y: [0, 0.5, 1], kind: 'points' }], {
      xLog: true,
      yRange: [0, 1],
    });
    expect(elements(svg, 'circle', 'point').map((c) => numberAttr(c, 'cx'))).toEqual([64, 384, 704]);
    for (const label of ['>1<', '>10<', '>100<']) expect(svg).toContain(label);
    expect(code(() => linePlot([{ name: 'a', x: [0, 1], y: [0, 1] }], { xLog: true }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('draws markers as vertical lines and bands as shaded spans at their x', () => {
    const svg = linePlot([ramp], {
      yRange: [0, 1],
      markers: [{ x: 5, label: 'yes 0.93' }],
      bands: [{ from: 2, to: 4, label: 'yes' }],
    });
    const [marker] = elements(svg, 'line', 'marker');
    expect([numberAttr(marker as string, 'x1'), numberAttr(marker as string, 'y1')]).toEqual([384, 36]);
    expect(numberAttr(marker as string, 'y2')).toBe(312);
    const [band] = elements(svg, 'rect', 'band');
    expect([numberAttr(band as string, 'x'), numberAttr(band as string, 'width')]).toEqual([192, 128]);
    expect(svg.indexOf('class="band"')).toBeLessThan(svg.indexOf('class="series"'));
    expect(svg.indexOf('class="marker"')).toBeGreaterThan(svg.indexOf('class="series"'));
  });

  it('escapes labels and names everywhere', () => {
    const nasty = `<b>&"it's"`;
    const svg = linePlot([{ ...ramp, name: nasty }], {
      title: nasty,
      xLabel: nasty,
      yLabel: nasty,
      markers: [{ x: 1, label: nasty }],
      bands: [{ from: 1, to: 2, label: nasty }],
    });
    checkXml(svg);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;&amp;&quot;it&apos;s&quot;');
  });

  it('writes every number with at most 2 decimals and no exponent', () => {
    const x = Float64Array.from({ length: 50 }, (_, i) => i / 7);
    const y = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i / 3) * 1e-3);
    const svg = linePlot([{ name: 's', x, y }]);
    checkXml(svg);
    const numbers = [...svg.matchAll(/\s(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"/g)].map((m) => m[1]);
    for (const n of numbers) expect(n).toMatch(/^-?\d+(\.\d{1,2})?$/);
    for (const n of (attributeValues(svg, 'd')[0] as string).split(/[MLHV ]/).filter(Boolean)) {
      expect(n).toMatch(/^-?\d+(\.\d{1,2})?$/);
    }
  });

  it('is deterministic', () => {
    const series: PlotSeries[] = [ramp, { name: 'b', x: [1, 2, 3], y: [3, 1, 2], kind: 'step' }];
    expect(linePlot(series, { title: 'x' })).toBe(linePlot(series, { title: 'x' }));
  });

  it('rejects bad input with KwsError codes', () => {
    expect(code(() => linePlot([]))).toBe('EMPTY_INPUT');
    expect(code(() => linePlot([{ name: 'a', x: [], y: [] }]))).toBe('EMPTY_INPUT');
    expect(code(() => linePlot([{ name: 'a', x: [1, 2], y: [1] }]))).toBe('SHAPE_MISMATCH');
    expect(code(() => linePlot([{ name: 'a', x: [1, 2], y: [1, Number.NaN] }]))).toBe('NON_FINITE_INPUT');
    expect(code(() => linePlot([{ name: 'a', x: [1, Number.POSITIVE_INFINITY], y: [1, 2] }]))).toBe(
      'NON_FINITE_INPUT',
    );
    expect(code(() => linePlot([ramp], { markers: [{ x: Number.NaN, label: 'm' }] }))).toBe(
      'NON_FINITE_INPUT',
    );
    expect(code(() => linePlot([ramp], { yRange: [1, 0] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => linePlot([ramp], { width: 10 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => linePlot([ramp], { bands: [{ from: 2, to: 1 }] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => linePlot([{ ...ramp, kind: 'bars' as 'line' }]))).toBe('INVALID_ARGUMENT');
    expect(code(() => linePlot('x' as unknown as PlotSeries[]))).toBe('INVALID_ARGUMENT');
  });

  it('plots a single point and a constant series', () => {
    checkXml(linePlot([{ name: 'one', x: [3], y: [0.5] }]));
    checkXml(linePlot([{ name: 'flat', x: [0, 1, 2], y: [0, 0, 0] }]));
  });
});
