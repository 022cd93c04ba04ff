import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevProcess, listedProcesses, pidAlive } from './dev-process.js';

const START_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 15_000;
/** 20 estimated tokens: the prefill holds one full 16-token block, so the decode really reads it. */
const PROMPT = 'The quick brown fox jumps over the lazy dog while the router hands its KV over. ';

async function metrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of the samples of one metric name (any labels). */
function total(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Per connector: what the decode's (and the router's) counters say after one completion. */
const CONNECTORS = [
  {
    connector: 'nixl',
    speaks: 'NIXL',
    serves: 'serves a completion whose KV the decode reads from the prefill (no recompute anywhere)',
    decodeTotals: { 'vllm:nixl_kv_reads_total': 1, 'vllm:nixl_recomputes_total': 0 },
    routerTotals: { pd_router_nixl_recomputes_total: 0 },
  },
  {
    connector: 'mooncake',
    speaks: 'Mooncake',
    serves: 'serves a completion whose KV the decode pulls from the prefill by transfer_id',
    decodeTotals: { 'vllm:mooncake_kv_pulls_total': 1, 'vllm:mooncake_transfer_failures_total': 0 },
    routerTotals: {},
  },
] as const;

describe.each(CONNECTORS)('pnpm dev --kv-connector $connector: mocks and router speak $speaks', (c) => {
  let dev: DevProcess;

  beforeAll(async () => {
    dev = new DevProcess([
      '--kv-connector',
      c.connector,
      '--prefill-count',
      '1',
      '--decode-count',
      '1',
      '--port',
      '0',
      '--base-port',
      '0',
    ]);
    await dev.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
  }, START_TIMEOUT_MS + 5_000);

  afterAll(async () => {
    await dev?.dispose();
  });

  it(c.serves, async () => {
    const listed = listedProcesses(dev.stdout);
    const router = listed.find((p) => p.name === 'pd-router');
    const decode = listed.find((p) => p.name === 'decode-1');
    expect(router).toBeDefined();
    expect(decode).toBeDefined();
    const res = await fetch(`http://127.0.0.1:${router?.port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-model', prompt: PROMPT, max_tokens: 3 }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { choices: { text: string }[] };
    expect(answer.choices[0]?.text).toBe(' tok0 tok1 tok2');

    const decodeMetrics = await metrics(decode?.port ?? 0);
    for (const [name, want] of Object.entries(c.decodeTotals))
      expect(total(decodeMetrics, name), name).toBe(want);
    const routerMetrics = await metrics(router?.port ?? 0);
    for (const [name, want] of Object.entries(c.routerTotals))
      expect(total(routerMetrics, name), name).toBe(want);
  });

  it('stops every process on SIGINT', async () => {
    const pids = listedProcesses(dev.stdout).map((p) => p.pid);
    dev.child.kill('SIGINT');
    const exit = await dev.waitForExit(STOP_TIMEOUT_MS);
    expect(exit.code).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
  });
});
