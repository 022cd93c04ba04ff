import { connect, type Socket } from 'node:net';
import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { head } from '../src/harness/raw-http.js';
import { PeakSampler, startRouterProcess } from '../src/harness/router-process.js';
import { measureStalls } from '../src/harness/stalls.js';
import { ResultRecorder } from '../src/report/recorder.js';
import {
  CONNECTION_FLOOD,
  CONNECTION_FLOOD_ID,
  INTAKE_PAYLOAD_LIMIT,
  JSON_AMPLIFICATION,
  JSON_AMPLIFICATION_FULL_ID,
  JSON_AMPLIFICATION_ID,
  ONE_BYTE_SEGMENTS,
  ONE_BYTE_SEGMENTS_ID,
  SLOW_BODY,
  SLOW_BODY_ID,
} from '../src/scenarios/intake.js';

// Attacks on the router's request intake (issue 14): bodies that are costly to parse, bodies sent
// slowly, bodies sent one byte per segment. The router runs as the CLI in its own process (its RSS
// is its own); the mocks and the attacking clients run here.

const MIB = 1_048_576;
const recorder = new ResultRecorder('intake');
const mocks: MockVllm[] = [];

beforeAll(async () => {
  // The full-parse run sends ~45 MB bodies on: the mocks refuse anything over 1 MiB at once
  // instead of holding it (the router's cost is what is measured here, not theirs).
  const options = { maxBodyBytes: MIB };
  mocks.push(await createPrefillServer(options), await createDecodeServer(options));
});

afterAll(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  recorder.flush();
});

function workerArgs(): string[] {
  const [p, d] = mocks;
  if (p === undefined || d === undefined) throw new Error('mocks');
  return [
    '--prefill',
    p.workerSpec,
    '--decode',
    d.workerSpec,
    '--max-payload-size',
    String(INTAKE_PAYLOAD_LIMIT),
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `{"prompt": [1, 1, ...], "max_tokens": 1}` of about `bytes` bytes. */
function numberArrayBody(bytes: number): Buffer {
  const count = Math.floor((bytes - 40) / 3);
  return Buffer.from(`{"prompt": [${'1, '.repeat(count)}1], "max_tokens": 1}`);
}

/** Asks /health every `everyMs` until stopped; keeps the slowest answer (less this process's stalls). */
class HealthProbe {
  slowestMs = 0;
  answers = 0;
  failures: string[] = [];
  #running = true;
  readonly #done: Promise<void>;

  constructor(url: string, everyMs: number) {
    this.#done = (async () => {
      while (this.#running) {
        const t0 = performance.now();
        // The mocks and the attacking clients share this process: its own hold-ups (a 45 MB body
        // arriving at a mock, GC) are not the router's, and are taken out of the time.
        const { stalledMs } = await measureStalls(async () => {
          try {
            const res = await request(`${url}/health`, { reset: true, headersTimeout: 30_000 });
            await res.body.dump();
            this.answers++;
          } catch (error) {
            this.failures.push(String(error));
          }
        });
        this.slowestMs = Math.max(this.slowestMs, performance.now() - t0 - stalledMs);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

/** `N× status code` counts of the answers, in a stable order. */
function tally(answers: ReadonlyArray<{ status: number; code: string | undefined }>): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = `${a.status} \`${a.code ?? 'no code'}\``;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
}

async function amplification(id: string, extraArgs: readonly string[]): Promise<void> {
  const router = await startRouterProcess([...workerArgs(), ...extraArgs]);
  try {
    const body = numberArrayBody(JSON_AMPLIFICATION.bodyBytes);
    const sampler = new PeakSampler(() => router.rssBytes());
    const health = new HealthProbe(router.url, JSON_AMPLIFICATION.healthEveryMs);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: JSON_AMPLIFICATION.bodies }, () =>
        postCompletion(router.url, body, { timeoutMs: 120_000 }),
      ),
    );
    const elapsedMs = performance.now() - t0;
    await health.stop();
    const peak = sampler.stop();
    // Alive and serving after it.
    expect((await postCompletion(router.url, completionBody(false))).status).toBe(200);
    for (const a of answers) {
      expect(a.transportError, a.text.slice(0, 200)).toBeUndefined();
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.code).toMatch(/^PD_ERR_/);
    }
    expect(health.failures).toEqual([]);
    expect(health.answers).toBeGreaterThan(0);
    expect(health.slowestMs).toBeLessThan(JSON_AMPLIFICATION.healthBoundMs);
    expect(peak).toBeLessThan(JSON_AMPLIFICATION.rssBoundBytes);
    recorder.record({
      id,
      observed: `every request answered (${tally(answers)}) in ${(elapsedMs / 1_000).toFixed(1)} s; the router alive; \`/health\` answered ${health.answers} times, slowest ${Math.round(health.slowestMs)} ms; router RSS peak ${Math.round(peak / MIB)} MiB`,
      timeMs: Math.round(elapsedMs),
      metrics: { rssPeakMiB: Math.round(peak / MIB), healthSlowestMs: Math.round(health.slowestMs) },
    });
  } finally {
    await router.stop();
  }
}

describe('bodies that are costly to parse', () => {
  it(JSON_AMPLIFICATION_ID, () => amplification(JSON_AMPLIFICATION_ID, []), 180_000);
  it(
    JSON_AMPLIFICATION_FULL_ID,
    () =>
      amplification(JSON_AMPLIFICATION_FULL_ID, [
        '--max-json-elements',
        String(JSON_AMPLIFICATION.fullParseMaxElements),
      ]),
    180_000,
  );
});

/** Opens a connection and writes the head of a completion announcing `contentLength` bytes. */
async function openBody(port: number, contentLength: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.write(
    head('POST /v1/completions HTTP/1.1', [
      ['Host', '127.0.0.1'],
      ['Content-Type', 'application/json'],
      ['Content-Length', String(contentLength)],
    ]),
  );
  return socket;
}

describe('bodies sent slowly', () => {
  it(
    SLOW_BODY_ID,
    async () => {
      const router = await startRouterProcess(workerArgs());
      const sockets: Socket[] = [];
      const answers: string[] = [];
      const closedAt: number[] = [];
      const t0 = performance.now();
      let trickle: NodeJS.Timeout | undefined;
      try {
        for (let i = 0; i < SLOW_BODY.connections; i++) {
          const socket = await openBody(router.port, SLOW_BODY.contentLength);
          let text = '';
          socket.setEncoding('latin1');
          socket.on('data', (chunk: string) => {
            text += chunk;
          });
          socket.once('close', () => {
            answers.push(text);
            closedAt.push(performance.now() - t0);
          });
          sockets.push(socket);
        }
        trickle = setInterval(() => {
          for (const s of sockets) if (!s.destroyed && s.writable) s.write('{');
        }, SLOW_BODY.byteEveryMs);
        const normal = [];
        for (let i = 0; i < SLOW_BODY.normalRequests; i++) {
          normal.push(await postCompletion(router.url, completionBody(i % 2 === 0)));
          await sleep(200);
        }
        const deadline = t0 + SLOW_BODY.closedWithinMs;
        while (closedAt.length < sockets.length && performance.now() < deadline) await sleep(100);
        clearInterval(trickle);
        for (const r of normal) expect(r.status).toBe(200);
        expect(closedAt.length, `${closedAt.length} of ${sockets.length} closed`).toBe(sockets.length);
        const lastClosedMs = Math.max(...closedAt);
        expect(lastClosedMs).toBeLessThan(SLOW_BODY.closedWithinMs);
        const timedOut = answers.filter(
          (a) => a.startsWith('HTTP/1.1 408 ') && a.includes('"code":"PD_ERR_BODY_TIMEOUT"'),
        ).length;
        expect(timedOut).toBe(sockets.length);
        recorder.record({
          id: SLOW_BODY_ID,
          observed: `${timedOut} of ${sockets.length} answered 408 \`PD_ERR_BODY_TIMEOUT\` and closed by the router, the first after ${(Math.min(...closedAt) / 1_000).toFixed(1)} s, the last after ${(lastClosedMs / 1_000).toFixed(1)} s; ${normal.filter((r) => r.status === 200).length} of ${normal.length} normal completions 200`,
          timeMs: Math.round(lastClosedMs),
        });
      } finally {
        clearInterval(trickle);
        for (const s of sockets) s.destroy();
        await router.stop();
      }
    },
    SLOW_BODY.closedWithinMs + 60_000,
  );
});

/** Reads the raw answer on `socket` until it closes or `ms` pass. */
function answerOf(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      // One complete non-streamed answer: the mock's JSON ends the body.
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) resolve(text);
    });
    socket.once('close', () => resolve(text));
    setTimeout(() => resolve(text), ms).unref();
  });
}

describe('bodies sent one byte per segment', () => {
  it(ONE_BYTE_SEGMENTS_ID, async () => {
    const router = await startRouterProcess([...workerArgs(), '--body-min-rate', '0']);
    const sockets: Socket[] = [];
    try {
      // Warm up (JIT, and as many client and upstream connections as the attack will hold) so
      // that the baseline is the router's steady state at this concurrency.
      for (let round = 0; round < 3; round++) {
        const warm = await Promise.all(
          Array.from({ length: ONE_BYTE_SEGMENTS.bodies }, () =>
            postCompletion(router.url, completionBody(false)),
          ),
        );
        for (const r of warm) expect(r.status).toBe(200);
      }
      const pad = ONE_BYTE_SEGMENTS.bodyBytes - completionBody(false).length;
      const body = Buffer.from(completionBody(false, 5, { user: 'x'.repeat(pad) }));
      const baseline = router.rssBytes();
      const sampler = new PeakSampler(() => router.rssBytes(), 50);
      const t0 = performance.now();
      for (let i = 0; i < ONE_BYTE_SEGMENTS.bodies; i++)
        sockets.push(await openBody(router.port, body.length));
      const answers = sockets.map((s) => answerOf(s, 120_000));
      // One byte to each connection per turn of the event loop, so each arrives on its own.
      for (let k = 0; k < body.length; k++) {
        const byte = body.subarray(k, k + 1);
        for (const s of sockets) s.write(byte);
        await new Promise((r) => setImmediate(r));
      }
      const texts = await Promise.all(answers);
      const elapsedMs = performance.now() - t0;
      const peak = sampler.stop();
      const ok = texts.filter((t) => t.startsWith('HTTP/1.1 200 ')).length;
      expect(ok, texts.find((t) => !t.startsWith('HTTP/1.1 200 '))?.slice(0, 300)).toBe(sockets.length);
      const growth = peak - baseline;
      expect(
        growth,
        `RSS ${Math.round(baseline / MIB)} MiB -> peak ${Math.round(peak / MIB)} MiB`,
      ).toBeLessThanOrEqual(ONE_BYTE_SEGMENTS.rssGrowthBoundBytes);
      recorder.record({
        id: ONE_BYTE_SEGMENTS_ID,
        observed: `${ok} of ${sockets.length} completions 200 after ${(elapsedMs / 1_000).toFixed(1)} s (${((ONE_BYTE_SEGMENTS.bodies * body.length) / 1e6).toFixed(1)} MB in one-byte writes); router RSS ${Math.round(baseline / MIB)} MiB → peak ${Math.round(peak / MIB)} MiB (+${(growth / MIB).toFixed(1)} MiB)`,
        timeMs: Math.round(elapsedMs),
        metrics: { rssBaselineMiB: Math.round(baseline / MIB), rssPeakMiB: Math.round(peak / MIB) },
      });
    } finally {
      for (const s of sockets) s.destroy();
      await router.stop();
    }
  }, 180_000);
});

describe('more connections than file descriptors', () => {
  it(CONNECTION_FLOOD_ID, async () => {
    const router = await startRouterProcess(
      [...workerArgs(), '--health-check-interval-ms', String(CONNECTION_FLOOD.healthCheckIntervalMs)],
      {},
      20_000,
      { fdLimit: CONNECTION_FLOOD.fdLimit },
    );
    const sockets: Socket[] = [];
    try {
      const refusals: Promise<boolean>[] = [];
      for (let i = 0; i < CONNECTION_FLOOD.connections; i++) {
        const socket = connect({ host: '127.0.0.1', port: router.port });
        socket.on('error', () => undefined);
        sockets.push(socket);
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        refusals.push(
          new Promise((resolve) =>
            socket.once('close', () =>
              resolve(
                text.startsWith('HTTP/1.1 503 ') && text.includes('"code":"PD_ERR_TOO_MANY_CONNECTIONS"'),
              ),
            ),
          ),
        );
      }
      await sleep(CONNECTION_FLOOD.holdMs);
      const closed = sockets.filter((s) => s.destroyed || s.readableEnded);
      const held = sockets.filter((s) => !(s.destroyed || s.readableEnded));
      // One slot for the checks below; the rest of the flood stays.
      held[0]?.destroy();
      await sleep(200);
      const res = await request(`${router.url}/workers`, { reset: true });
      const { workers } = (await res.body.json()) as { workers: Array<{ healthy: boolean }> };
      const completion = await postCompletion(router.url, completionBody(false));
      const refused = (
        await Promise.all(refusals.filter((_, i) => closed.includes(sockets[i] as Socket)))
      ).filter(Boolean).length;
      const emfile = [...router.otherOutput, ...router.logs.map((l) => JSON.stringify(l))].filter((l) =>
        l.includes('EMFILE'),
      );
      expect(held.length).toBe(CONNECTION_FLOOD.cap);
      expect(refused).toBe(CONNECTION_FLOOD.connections - CONNECTION_FLOOD.cap);
      expect(workers.map((w) => w.healthy)).toEqual([true, true]);
      expect(completion.status).toBe(200);
      expect(emfile).toEqual([]);
      recorder.record({
        id: CONNECTION_FLOOD_ID,
        observed: `the router held ${held.length} and answered ${refused} 503 \`PD_ERR_TOO_MANY_CONNECTIONS\` and closed them; with one held connection freed, \`/workers\` showed ${workers.filter((w) => w.healthy).length} of ${workers.length} workers healthy and a completion got ${completion.status}; ${emfile.length} EMFILE lines logged`,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await router.stop();
    }
  }, 60_000);
});
