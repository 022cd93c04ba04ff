import { describe, expect, it } from 'vitest';
import { sampleReport, unpacedStreamRun } from '../../test/helpers/sample-report.js';
import { formatInt, formatMs, renderMarkdown, renderScenarioTable } from './markdown.js';
import { summarize } from './summary.js';

describe('formatting', () => {
  it.each([
    [0.4123, '0.412'],
    [1.256, '1.26'],
    [37.44, '37.4'],
    [912.4, '912'],
  ])('formatMs(%s) = %s', (ms, text) => expect(formatMs(ms)).toBe(text));

  it.each([
    [0, '0'],
    [999, '999'],
    [1_000, '1,000'],
    [12_345.6, '12,346'],
    [1_234_567, '1,234,567'],
  ])('formatInt(%s) = %s', (n, text) => expect(formatInt(n)).toBe(text));
});

describe('renderScenarioTable', () => {
  const report = sampleReport();
  const table = renderScenarioTable(report.summary.filter((r) => r.scenario === 'chat-short'));
  const lines = table.split('\n');

  it('has a header, a rule and one row per load level and target, all with the same column count', () => {
    expect(lines).toHaveLength(2 + 6);
    const columns = (line: string) => line.split(' | ').length;
    for (const line of lines) expect(columns(line)).toBe(columns(lines[0]!));
    expect(lines[0]).toContain('req/s');
    expect(lines[0]).toContain('CPU µs/req (sys)');
  });

  it('shows throughput, latency, CPU, RSS and the comparison with the floor', () => {
    const router64 = lines.find((l) => l.startsWith('| c=64 | pd-router |'))!;
    expect(router64).toContain('| 7,000 |');
    expect(router64).toContain('| 80 (20) |');
    expect(router64).toContain('| 80.0 |');
    expect(router64).toMatch(/70% · \+0\.\d{3} ms \|$/);
    const floor64 = lines.find((l) => l.startsWith('| c=64 | floor |'))!;
    expect(floor64).toContain('| 10,000 |');
    expect(floor64).toMatch(/\| - \| - \| 0 \| - \|$/);
  });

  it('shows TTFT and inter-token latency of streams, ITL only where the mocks pace tokens', () => {
    const paced = renderScenarioTable(report.summary.filter((r) => r.scenario === 'streams-1000'));
    const router = paced.split('\n').find((l) => l.startsWith('| c=1000 | pd-router |'))!;
    // p50/p99 of gaps spread over 90..120 ms, then tokens/s.
    expect(router).toMatch(/\| \d+ \/ \d+ \| (9\d|1[01]\d) \/ 1[12]\d \| [\d,]+ \|/);
    expect(lines[0]).toContain('| TTFT p50/p99 ms | ITL p50/p99 ms |');
    const batched = renderScenarioTable(summarize([unpacedStreamRun()]));
    // TTFT shown, ITL "-": back-to-back tokens measure read batching, not the target.
    expect(batched.split('\n')[2]).toMatch(/\| \d\.\d+ \/ \d\.\d+ \| - \| [\d,]+ \|/);
  });

  it('lists errors by kind', () => {
    const streams = renderScenarioTable(report.summary.filter((r) => r.scenario === 'streams-1000'));
    expect(streams).toContain('2 (http_502×2)');
  });
});

describe('renderMarkdown', () => {
  it('describes the machine, the settings, the targets and every scenario', () => {
    const md = renderMarkdown(sampleReport());
    expect(md).toContain('2 CPUs (Test CPU <&> "quoted")');
    expect(md).toContain('Node v20.19.0');
    expect(md).toContain('2 round(s) of 5 s');
    expect(md).toContain('`pd-router`: `node server/dist/cli.js --port {port}`');
    expect(md).toContain('## Targets');
    expect(md).toMatch(/Throughput at concurrency 64 ≥ 50% of the floor \| 70\.0% \| met \|/);
    expect(md).toMatch(
      /No errors, in any scenario, through any target \| 2 errors \(pd-router 2\) \| missed \|/,
    );
    expect(md).toContain('ITL (inter-token latency)');
    expect(md).toContain('## chat-short');
    expect(md).toContain('## streams-1000');
  });
});
