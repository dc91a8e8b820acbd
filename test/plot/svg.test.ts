import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  escapeXml,
  formatNumber,
  formatTick,
  linearScale,
  logScale,
  logTicks,
  niceTicks,
  plotArea,
} from '../../src/plot/index.js';
import { niceDomain } from '../../src/plot/svg.js';

describe('svg helpers', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeXml('plain text 1.5 ms')).toBe('plain text 1.5 ms');
  });

  it('formats coordinates compactly: 2 decimals, no trailing zeros, no -0', () => {
    expect(formatNumber(12.5)).toBe('12.5');
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber(1 / 3)).toBe('0.33');
    expect(formatNumber(-0.001)).toBe('0');
    expect(formatNumber(-2.675)).toBe('-2.67');
    expect(formatNumber(719.999)).toBe('720');
  });

  it('formats tick labels with the decimals of the step', () => {
    expect(formatTick(0.1 * 3, 0.1)).toBe('0.3');
    expect(formatTick(0.25, 0.05)).toBe('0.25');
    expect(formatTick(2000, 500)).toBe('2000');
    expect(formatTick(0, 0.2)).toBe('0');
    expect(formatTick(1e-5, 1e-5)).toBe('1e-5');
    expect(formatTick(2.5e6, 5e5)).toBe('2.5e+6');
  });

  it('places ticks on 1-2-5 steps and widens domains to them', () => {
    expect(niceTicks(0, 1, 6)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 30, 6)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(niceTicks(-0.03, 0.97, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceDomain(0.13, 0.87, 5)).toEqual([0.1, 0.9]);
    expect(niceDomain(0.13, 0.87, 2)).toEqual([0, 1]);
    expect(niceDomain(3, 97, 5)).toEqual([0, 100]);
  });

  it('puts log ticks on powers of ten, adding 2× and 5× on short spans', () => {
    expect(logTicks(1, 1000)).toEqual([1, 10, 100, 1000]);
    expect(logTicks(0.003, 0.5)).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]);
  });

  it('maps values linearly and logarithmically onto pixel ranges', () => {
    const x = linearScale([0, 10], [64, 704]);
    expect([x(0), x(5), x(10), x(-1)]).toEqual([64, 384, 704, 0]);
    const y = linearScale([0, 1], [312, 36]);
    expect([y(0), y(0.5), y(1)]).toEqual([312, 174, 36]);
    const l = logScale([1, 100], [0, 200]);
    expect(l(10)).toBeCloseTo(100, 12);
    expect(l(1)).toBe(0);
    expect(l(100)).toBe(200);
    expect(() => logScale([0, 1], [0, 1])).toThrow(KwsError);
    expect(() => linearScale([1, 1], [0, 1])).toThrow(KwsError);
  });

  it('leaves the documented margins around the plot area', () => {
    expect(plotArea(720, 360)).toEqual({ left: 64, right: 704, top: 36, bottom: 312 });
  });
});

describe('svgDocument title', () => {
  it('names every plot with a <title>: the plot title, escaped, or "plot"', async () => {
    const { linePlot } = await import('../../src/plot/index.js');
    const titled = linePlot([{ name: 'a', x: [0, 1], y: [0, 1] }], { title: 'p(yes) < 1 & "on"' });
    expect(titled.split('\n')[1]).toBe('<title>p(yes) &lt; 1 &amp; &quot;on&quot;</title>');
    expect(linePlot([{ name: 'a', x: [0, 1], y: [0, 1] }]).split('\n')[1]).toBe('<title>plot</title>');
  });
});
