import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadShape, type LoadTarget, runLoad } from '../src/load/generator.js';
import { createHttpTarget, type RequestSpec } from '../src/targets/http-target.js';

/**
 * The load generator against a tiny node:http server: real sockets, real undici, both loop modes,
 * streaming, errors, and the bounds (count, time, drain).
 */

const SSE_EVENTS = 5;
let server: Server;
let origin: string;
let inFlight = 0;
let maxInFlight = 0;
let received = 0;
const hanging = new Set<ServerResponse>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  received++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  res.on('close', () => {
    inFlight--;
  });
  req.resume();
  req.on('end', () => {
    switch (req.url) {
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"cmpl-1","choices":[{"text":"Paris"}]}');
        return;
      case '/sse': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let sent = 0;
        const tick = (): void => {
          if (sent < SSE_EVENTS) {
            res.write(`data: {"choices":[{"delta":{"content":"t${sent}"}}]}\n\n`);
            sent++;
            setTimeout(tick, 1);
          } else res.end('data: [DONE]\n\n');
        };
        tick();
        return;
      }
      case '/truncated':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"a":1}\n\n');
        return;
      case '/fail':
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"boom"}');
        return;
      case '/hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
}

beforeAll(async () => {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function target(path: string, stream = false, connections = 8, url = origin): LoadTarget {
  const spec: RequestSpec = { path, body: Buffer.from('{"prompt":"x"}'), stream };
  return createHttpTarget(url, spec, { connections, timeoutMs: 5_000 });
}

async function run(
  t: LoadTarget,
  shape: LoadShape,
  durationMs: number,
  maxRequests = 1_000_000,
  drainTimeoutMs = 5_000,
) {
  try {
    return await runLoad(t, { shape, durationMs, maxRequests, drainTimeoutMs });
  } finally {
    await t.close();
  }
}

function resetCounters(): void {
  maxInFlight = 0;
  received = 0;
}

describe('closed loop', () => {
  it('keeps exactly the requested concurrency and stops at the duration', async () => {
    resetCounters();
    const began = performance.now();
    // 1 s: room for several rounds of 4 even when a loaded machine stalls this process for a while.
    const result = await run(target('/json', false, 4), { mode: 'closed', concurrency: 4 }, 1_000);
    const r = result.recorder;
    // Stops at the duration, not at the 5 s drain deadline (slack for a loaded machine).
    expect(performance.now() - began).toBeLessThan(1_000 + 4_000);
    expect(r.ok).toBeGreaterThan(8);
    expect(r.failed).toBe(0);
    expect(r.unfinished).toBe(0);
    expect(r.ok).toBe(result.started);
    expect(received).toBe(result.started);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(r.latency.count).toBe(r.ok);
    expect(r.latency.percentile(50)).toBeGreaterThan(0);
    expect(r.bytes).toBe(r.ok * '{"id":"cmpl-1","choices":[{"text":"Paris"}]}'.length);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1_000 - 1);
  });

  it('stops at maxRequests long before the duration', async () => {
    resetCounters();
    const began = performance.now();
    const result = await run(target('/json'), { mode: 'closed', concurrency: 8 }, 20_000, 50);
    expect(result.started).toBe(50);
    expect(result.recorder.ok).toBe(50);
    expect(received).toBe(50);
    expect(performance.now() - began).toBeLessThan(10_000);
  });

  it('measures streams: tokens, time to first token, inter-token gaps', async () => {
    const result = await run(target('/sse', true), { mode: 'closed', concurrency: 4 }, 300);
    const r = result.recorder;
    expect(r.ok).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
    expect(r.tokens).toBe(r.ok * SSE_EVENTS);
    expect(r.ttft.count).toBe(r.ok);
    expect(r.itl.count).toBe(r.ok * (SSE_EVENTS - 1));
    expect(r.latency.percentile(50)).toBeGreaterThanOrEqual(r.ttft.percentile(50));
  });

  it('counts errors by kind', async () => {
    // maxRequests ends these runs; the long duration never does, however slow the machine.
    const failing = await run(target('/fail'), { mode: 'closed', concurrency: 2 }, 20_000, 20);
    expect(failing.recorder.ok).toBe(0);
    expect(failing.recorder.errors.get('http_500')).toBe(20);
    const truncated = await run(target('/truncated', true), { mode: 'closed', concurrency: 2 }, 20_000, 10);
    expect(truncated.recorder.errors.get('stream_truncated')).toBe(10);
  });

  it('reports a refused connection without spinning', async () => {
    // Port 1: nobody listens there (a port a test has just closed may be taken by another process).
    const result = await run(
      target('/json', false, 2, 'http://127.0.0.1:1'),
      { mode: 'closed', concurrency: 2 },
      300,
      100,
    );
    expect(result.recorder.ok).toBe(0);
    expect(result.recorder.errors.get('connect_refused')).toBe(result.started);
  });

  it('cuts off requests that outlive the drain deadline', async () => {
    const began = performance.now();
    const result = await run(target('/hang', false, 3), { mode: 'closed', concurrency: 3 }, 200, 1_000, 200);
    expect(result.started).toBe(3);
    expect(result.recorder.unfinished).toBe(3);
    expect(result.recorder.failed).toBe(0);
    expect(performance.now() - began).toBeLessThan(5_000);
  });
});

describe('open loop', () => {
  it('sends at the fixed rate whatever the answers do', async () => {
    resetCounters();
    // 100 requests at 200/s: request k is due at k * 5 ms. maxRequests ends the run, so a stalled
    // timer only delays requests (they are sent when it fires), never drops them.
    const result = await run(
      target('/json', false, 16),
      { mode: 'open', ratePerS: 200, maxInFlight: 100 },
      20_000,
      100,
    );
    expect(result.started).toBe(100);
    expect(result.recorder.ok).toBe(100);
    expect(result.recorder.failed).toBe(0);
    // Never ahead of the schedule: the last one is due at 495 ms (timers may fire late, never early).
    expect(result.elapsedMs).toBeGreaterThanOrEqual(495 - 1);
    // On schedule: at a tenth of the rate it would take 5 s (slack for a loaded machine).
    expect(result.elapsedMs).toBeLessThan(5_000);
  });

  it('drops requests over the in-flight cap instead of queueing without bound', async () => {
    // 30 due requests (maxRequests counts dropped ones too), whatever the machine's pace.
    const result = await run(
      target('/hang', false, 4),
      { mode: 'open', ratePerS: 100, maxInFlight: 4 },
      20_000,
      30,
      100,
    );
    expect(result.started).toBe(4);
    expect(result.recorder.unfinished).toBe(4);
    expect(result.recorder.errors.get('client_backlog')).toBe(26);
  });

  it('respects maxRequests', async () => {
    const result = await run(target('/json'), { mode: 'open', ratePerS: 1_000, maxInFlight: 100 }, 2_000, 30);
    expect(result.started).toBe(30);
    expect(result.recorder.ok).toBe(30);
  });
});
