import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForWorkers } from './startup-wait.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A worker whose /health answers 503 `failures` times, then 200. */
async function worker(failures: number): Promise<{ url: string; checks: () => number }> {
  let checks = 0;
  const server = createServer((req, res) => {
    if (req.url === '/health') checks += 1;
    res.writeHead(checks > failures ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, checks: () => checks };
}

describe('waitForWorkers (--worker-startup-timeout-secs)', () => {
  it('checks in rounds until every worker answers 200, reporting who is still down', async () => {
    const slow = await worker(2);
    const fast = await worker(0);
    const rounds: string[][] = [];
    const down = await waitForWorkers({
      urls: [slow.url, fast.url],
      timeoutMs: 30_000,
      intervalMs: 50,
      onRound: (d) => rounds.push([...d]),
    });
    expect(down).toEqual([]);
    expect(rounds).toEqual([[slow.url], [slow.url], []]);
    // A worker that answered 200 is not asked again.
    expect(fast.checks()).toBe(1);
  });

  it('gives up when the time runs out, naming the workers still down', async () => {
    const dead = 'http://127.0.0.1:9';
    const started = performance.now();
    expect(await waitForWorkers({ urls: [dead], timeoutMs: 300, intervalMs: 100 })).toEqual([dead]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('stops at once when aborted', async () => {
    const stop = new AbortController();
    const waiting = waitForWorkers({
      urls: ['http://127.0.0.1:9'],
      timeoutMs: 60_000,
      intervalMs: 30_000,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 50);
    const started = performance.now();
    expect(await waiting).toEqual(['http://127.0.0.1:9']);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
