import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicy } from '../src/replay/replay-run.js';
import { TRACE_BLOCK_TOKENS, type TraceRequest, traceHitRate } from '../src/replay/trace.js';
import { buildGate, missingBuild } from './built.js';

const gate = buildGate(missingBuild(true));
const out = mkdtempSync(join(tmpdir(), 'pd-bench-hit-rate-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * A conversation-shaped trace: every prompt starts with a shared 2-block system prompt; 12
 * sessions each grow by one or two blocks per turn; some prompts end mid-block. Deterministic.
 */
function conversations(requests: number): TraceRequest[] {
  const sessions = Array.from({ length: 12 }, (_, s) => [0, 1, 100 + s * 1000]);
  let next = 50_000;
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: TraceRequest[] = [];
  for (let i = 0; i < requests; i++) {
    const ids = sessions[Math.floor(rand() * sessions.length)] as number[];
    if (ids.length > 9) ids.splice(3); // the session starts over: same system prompt, new user part
    ids.push(next++);
    if (rand() < 0.5) ids.push(next++);
    // Some prompts end in a partial block: its id is its own (partial content), as in a real trace.
    const partial = rand() < 0.3 ? Math.floor(rand() * 400) + 50 : 0;
    const hashIds = partial > 0 ? [...ids, next++] : [...ids];
    const inputLength = ids.length * TRACE_BLOCK_TOKENS + partial;
    out.push({ timestamp: i * 400, inputLength, outputLength: 1 + (i % 3), hashIds });
  }
  return out;
}

describe.skipIf(gate.skip)('replay to a single instance', () => {
  beforeAll(() => gate.check());

  it('finds the prefix-cache hit rate the trace hash ids imply for the same capacity, within 1%', {
    timeout: 120_000,
  }, async () => {
    const trace = conversations(160);
    const capacityTokens = 24 * TRACE_BLOCK_TOKENS;
    const expected = traceHitRate(trace, capacityTokens, 16);
    // The trace must exercise both hits and evictions for the comparison to mean anything.
    expect(expected).toBeGreaterThan(0.2);
    expect(traceHitRate(trace, 1_000_000, 16)).toBeGreaterThan(expected + 0.05);
    const run = await runPolicy('round_robin', trace, {
      speedup: 20,
      prefillCount: 1,
      decodeCount: 1,
      modelProfile: 'llama-3.1-8b-h100',
      kvCacheTokens: capacityTokens,
      sampleEveryS: 5,
      requestTimeoutMs: 60_000,
      routerArgs: [],
      logDir: out,
    });
    expect(run.outcomes.filter((o) => o.error !== undefined)).toEqual([]);
    const [prefill] = run.prefills;
    expect(prefill?.prefixQueries).toBe(trace.reduce((a, r) => a + r.inputLength, 0));
    const measured = (prefill?.prefixHits ?? 0) / (prefill?.prefixQueries ?? 1);
    expect(Math.abs(measured - expected)).toBeLessThan(0.01);
  });
});
