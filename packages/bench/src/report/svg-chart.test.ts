import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../test/helpers/sample-report.js';
import { Histogram } from '../stats/histogram.js';
import { decadeTicks, esc, niceTicks, shortNumber } from './svg.js';
import { percentileCurve, renderChart } from './svg-chart.js';

/**
 * A strict-enough XML well-formedness check: every tag closes in order, attributes are quoted,
 * and text holds no bare '<' or unescaped '&'.
 */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let consumed = 0;
  for (const match of xml.matchAll(token)) {
    consumed += match[0].length;
    const [, closing, name, , selfClosing, text, stray] = match;
    if (stray !== undefined)
      throw new Error(`stray '<' at ${match.index}: ${xml.slice(match.index, match.index + 40)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bare '&' in text: ${text}`);
      continue;
    }
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (selfClosing !== '/') stack.push(name!);
  }
  expect(consumed).toBe(xml.length);
  expect(stack).toEqual([]);
}

describe('renderChart', () => {
  const svg = renderChart(sampleReport());

  it('is a well-formed standalone SVG document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    assertWellFormed(svg.trim());
  });

  it('has a throughput series and a latency series per target', () => {
    const series = [...svg.matchAll(/<g data-series="([^"]+)">/g)].map((m) => m[1]);
    expect(series).toEqual(['floor', 'pd-router', 'floor', 'pd-router']);
    // The throughput lines carry one marker per load level (c=1, 16, 64) for each target.
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg).toContain('Throughput, chat-short');
    expect(svg).toContain('Latency distribution, chat-short c=64');
    expect(svg).toContain('>floor<');
    expect(svg).toContain('>pd-router<');
  });

  it('plots higher throughput higher up', () => {
    const lines = [...svg.matchAll(/<g data-series="([^"]+)"><polyline [^>]*points="([^"]+)"/g)];
    const lastY = (points: string) => Number(points.trim().split(' ').at(-1)!.split(',')[1]);
    const floor = lines.find((l) => l[1] === 'floor')!;
    const router = lines.find((l) => l[1] === 'pd-router')!;
    // SVG y grows downwards: the floor (10,000 req/s at c=64) sits above the router (7,000).
    expect(lastY(floor[2]!)).toBeLessThan(lastY(router[2]!));
  });

  it('escapes text taken from the machine', () => {
    expect(svg).toContain('Test CPU &lt;&amp;&gt; &quot;quoted&quot;');
  });

  it('still renders with no sweep at all', () => {
    const empty = { ...sampleReport(), summary: [], runs: [] };
    assertWellFormed(renderChart(empty).trim());
  });
});

describe('svg helpers', () => {
  it('niceTicks covers the maximum with round steps', () => {
    expect(niceTicks(8_300)).toEqual([0, 2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('decadeTicks spans the range in powers of ten', () => {
    expect(decadeTicks(0.3, 42)).toEqual([0.1, 1, 10, 100]);
  });

  it('shortNumber and esc', () => {
    expect(shortNumber(12_000)).toBe('12k');
    expect(shortNumber(0.5)).toBe('0.5');
    expect(shortNumber(2_500_000)).toBe('2.5M');
    expect(esc(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('percentileCurve runs from the minimum to p99.9', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 1000);
    const curve = percentileCurve(h);
    expect(curve[0]).toEqual([0, 1]);
    expect(curve.at(-1)![0]).toBe(3);
    expect(curve.at(-1)![1]).toBeGreaterThan(990);
    for (let i = 1; i < curve.length; i++) expect(curve[i]![1]).toBeGreaterThanOrEqual(curve[i - 1]![1]);
  });
});
