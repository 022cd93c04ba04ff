import { describe, expect, it } from 'vitest';
import {
  chunkPairs,
  kvBytesPerToken,
  kvCapacityTokens,
  LLAMA_31_8B_H100 as P,
  stepCosts,
  stepMs,
  transferMs,
} from './profile.js';

const c = stepCosts(P);

describe('llama-3.1-8b-h100 profile formulas', () => {
  it('derives KV bytes per token and the KV capacity from the model shape and GPU memory', () => {
    expect(kvBytesPerToken(P)).toBe(2 * 32 * 8 * 128 * 2);
    const free = 80 * 2 ** 30 * 0.9 - 16.06e9 - 3e9;
    const tokens = kvCapacityTokens(P);
    expect(tokens % P.blockSize).toBe(0);
    expect(tokens).toBe(Math.floor(free / 131_072 / 16) * 16);
    expect(tokens).toBeGreaterThan(400_000);
    expect(tokens).toBeLessThan(500_000);
  });

  it('a lone decode step is the weight read plus overhead and the context read', () => {
    const ms = stepMs(c, { prefillTokens: 0, prefillPairs: 0, decodeSeqs: 1, decodeContext: 1000 });
    expect(c.weightsReadMs).toBeCloseTo((16.06e9 / 3.35e12) * 1000, 9);
    expect(ms).toBeCloseTo(1.5 + c.weightsReadMs + 1000 * (131_072 / (3.35e12 * 0.8)) * 1000, 9);
    expect(ms).toBeGreaterThan(6);
    expect(ms).toBeLessThan(7);
  });

  it('a big prefill chunk is compute-bound: linear plus causal attention', () => {
    const pairs = chunkPairs(0, 8192);
    expect(pairs).toBe(8192 * 4096);
    const ms = stepMs(c, { prefillTokens: 8192, prefillPairs: pairs, decodeSeqs: 0, decodeContext: 0 });
    const linear = 8192 * ((2 * 8.03e9) / (989.4e12 * 0.6)) * 1000;
    const attention = pairs * ((4 * 32 * 4096) / (989.4e12 * 0.4)) * 1000;
    expect(ms).toBeCloseTo(1.5 + linear + attention, 9);
    // The second chunk of a long prompt attends to the first: it costs more.
    expect(chunkPairs(8192, 8192)).toBe(8192 * (8192 + 4096));
  });

  it('throughput lands near the published ~20k prompt tokens/s for long prompts', () => {
    const prefillMs = (len: number): number => {
      let ms = 0;
      for (let done = 0; done < len; done += P.maxNumBatchedTokens) {
        const chunk = Math.min(P.maxNumBatchedTokens, len - done);
        ms += stepMs(c, {
          prefillTokens: chunk,
          prefillPairs: chunkPairs(done, chunk),
          decodeSeqs: 0,
          decodeContext: 0,
        });
      }
      return ms;
    };
    const rate16k = 16_384 / (prefillMs(16_384) / 1000);
    const rate40k = 40_960 / (prefillMs(40_960) / 1000);
    expect(rate16k).toBeGreaterThan(20_000);
    expect(rate16k).toBeLessThan(32_000);
    expect(rate40k).toBeGreaterThan(14_000);
    expect(rate40k).toBeLessThan(rate16k);
  });

  it('an empty step takes no time; a transfer costs set-up plus bytes over the link', () => {
    expect(stepMs(c, { prefillTokens: 0, prefillPairs: 0, decodeSeqs: 0, decodeContext: 0 })).toBe(0);
    expect(transferMs(c, 0)).toBe(0);
    expect(transferMs(c, 15_000)).toBeCloseTo(1 + (15_000 * 131_072 * 1000) / 40e9, 9);
  });
});
