import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { percentile } from './replay-stats.js';
import { readTrace, sliceTrace, TRACE_BLOCK_TOKENS, traceHitRate, tracePrompt } from './trace.js';

const dir = mkdtempSync(join(tmpdir(), 'trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, `${Math.random()}.jsonl`);
  writeFileSync(path, text);
  return path;
}

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

describe('Mooncake trace', () => {
  it('reads JSONL in time order and refuses a bad line with its number', () => {
    const t = readTrace(
      file(
        '{"timestamp": 50, "input_length": 600, "output_length": 3, "hash_ids": [1, 2]}\n\n' +
          '{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [7]}\n',
      ),
    );
    expect(t.map((r) => r.timestamp)).toEqual([0, 50]);
    expect(t[1]).toEqual({ timestamp: 50, inputLength: 600, outputLength: 3, hashIds: [1, 2] });
    expect(() => readTrace(file('{"timestamp": 0}\nnot json\n'))).toThrow(/:1: "input_length"/);
    expect(() =>
      readTrace(file('{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [1]}\nnope\n')),
    ).toThrow(/:2: not JSON/);
  });

  it('slices a window, re-times it from its start, and scales the rate', () => {
    const t = [0, 1000, 2000, 3000].map((timestamp) => ({
      timestamp,
      inputLength: 1,
      outputLength: 1,
      hashIds: [],
    }));
    expect(sliceTrace(t, { window: { startS: 1, endS: 3 }, rateScale: 2 }).map((r) => r.timestamp)).toEqual([
      0, 500,
    ]);
    expect(sliceTrace(t, { rateScale: 1 })).toHaveLength(4);
  });

  it('builds prompts of exactly input_length words that share exactly the shared hash ids', () => {
    const a = {
      timestamp: 0,
      inputLength: 2 * TRACE_BLOCK_TOKENS + 100,
      outputLength: 1,
      hashIds: [5, 6, 7],
    };
    const b = { timestamp: 1, inputLength: 3 * TRACE_BLOCK_TOKENS, outputLength: 1, hashIds: [5, 6, 8] };
    const wa = words(tracePrompt(a));
    const wb = words(tracePrompt(b));
    expect(wa).toHaveLength(a.inputLength);
    expect(wb).toHaveLength(b.inputLength);
    let common = 0;
    while (wa[common] === wb[common]) common++;
    expect(common).toBe(2 * TRACE_BLOCK_TOKENS);
    // A partial block never passes for the full block of the same id.
    expect(wa[2 * TRACE_BLOCK_TOKENS]).toBe('p7');
  });

  it('computes the hit rate the hash ids imply, with LRU eviction at the given capacity', () => {
    const r = (ids: number[]) => ({
      timestamp: 0,
      inputLength: ids.length * TRACE_BLOCK_TOKENS,
      outputLength: 1,
      hashIds: ids,
    });
    const t = [r([1, 2]), r([1, 2]), r([3, 4]), r([1, 2])];
    // Unbounded: the 2nd and 4th find both blocks (all but the last 16-token KV block of the prompt).
    const hit = 2 * (2 * TRACE_BLOCK_TOKENS - 16);
    expect(traceHitRate(t, 1e9, 16)).toBeCloseTo(hit / (8 * TRACE_BLOCK_TOKENS), 12);
    // Room for two blocks: [3, 4] evicts [1, 2], so the 4th misses.
    expect(traceHitRate(t, 2 * TRACE_BLOCK_TOKENS, 16)).toBeCloseTo(hit / 2 / (8 * TRACE_BLOCK_TOKENS), 12);
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 99, 100]);
    expect(percentile([], 50)).toBe(0);
  });
});
