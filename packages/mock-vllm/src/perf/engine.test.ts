import { describe, expect, it } from 'vitest';
import { PerfEngine } from './engine.js';
import { chunkPairs, LLAMA_31_8B_H100 as P, stepCosts, stepMs, transferMs } from './profile.js';
import { blockHashes } from './tokenize.js';

const c = stepCosts(P);

function run(
  engine: PerfEngine,
  promptTokens: number,
  maxTokens: number,
  remotePrefill = false,
  prefix = 'w',
) {
  const tokens = Array.from({ length: promptTokens }, (_, i) => `${prefix}${i}`);
  const hashes = blockHashes(tokens.join(' '), P.blockSize);
  let got = 0;
  return new Promise<number>((resolve) => {
    engine.submit(
      { promptTokens, hashes, maxTokens, remotePrefill },
      {
        onTokens: (n, finished) => {
          got += n;
          if (finished) resolve(got);
        },
      },
    );
  });
}

describe('PerfEngine', () => {
  it('a lone request: TTFT is its prefill steps, every output token arrives, blocks come back', async () => {
    const engine = new PerfEngine(P, 1000, 1_000_000);
    expect(await run(engine, 10_000, 5)).toBe(5);
    const first = stepMs(c, {
      prefillTokens: 8192,
      prefillPairs: chunkPairs(0, 8192),
      decodeSeqs: 0,
      decodeContext: 0,
    });
    const second = stepMs(c, {
      prefillTokens: 1808,
      prefillPairs: chunkPairs(8192, 1808),
      decodeSeqs: 0,
      decodeContext: 0,
    });
    expect(engine.stats.ttftCount).toBe(1);
    expect(engine.stats.ttftSumS * 1000).toBeCloseTo(first + second, 6);
    expect(engine.running).toBe(0);
    expect(engine.kvUsage).toBe(0);
    engine.close();
  });

  it('a repeated prompt hits the prefix cache for its full blocks but the last token', async () => {
    const engine = new PerfEngine(P, 1000, 1_000_000);
    await run(engine, 1000, 1);
    await run(engine, 1000, 1);
    expect(engine.stats.prefixQueries).toBe(2000);
    // 1000 tokens = 62 full blocks (992 tokens); all are hits the second time.
    expect(engine.stats.prefixHits).toBe(992);
    const ttft2 =
      engine.stats.ttftSumS * 1000 -
      stepMs(c, { prefillTokens: 1000, prefillPairs: chunkPairs(0, 1000), decodeSeqs: 0, decodeContext: 0 });
    expect(ttft2).toBeCloseTo(
      stepMs(c, { prefillTokens: 8, prefillPairs: chunkPairs(992, 8), decodeSeqs: 0, decodeContext: 0 }),
      6,
    );
    engine.close();
  });

  it('a remote prefill pays the transfer of the uncached prompt, then computes one token', async () => {
    const engine = new PerfEngine(P, 1000, 1_000_000);
    await run(engine, 4000, 1, true);
    const expected =
      transferMs(c, 3999) +
      stepMs(c, { prefillTokens: 1, prefillPairs: chunkPairs(3999, 1), decodeSeqs: 0, decodeContext: 0 });
    expect(engine.stats.ttftSumS * 1000).toBeCloseTo(expected, 6);
    engine.close();
  });

  it('queues when the KV cache is full and runs the queued request after the first frees its blocks', async () => {
    const engine = new PerfEngine(P, 1000, 1024);
    const a = run(engine, 900, 3, false, 'a');
    const b = run(engine, 900, 3, false, 'b');
    expect(engine.waiting).toBe(1);
    expect(engine.running).toBe(1);
    expect(engine.kvUsage).toBeGreaterThan(0.8);
    expect(await a).toBe(3);
    expect(await b).toBe(3);
    // b waited for all of a: its TTFT is at least a's whole run.
    expect(engine.stats.ttftCount).toBe(2);
    engine.close();
  });

  it('decode steps slow down with batch size and context (batched tokens share a step)', () => {
    const one = stepMs(c, { prefillTokens: 0, prefillPairs: 0, decodeSeqs: 1, decodeContext: 8000 });
    const many = stepMs(c, { prefillTokens: 0, prefillPairs: 0, decodeSeqs: 64, decodeContext: 64 * 8000 });
    expect(many).toBeGreaterThan(one);
    expect(many).toBeLessThan(64 * one);
  });
});
