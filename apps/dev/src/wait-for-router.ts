import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { DevError } from './errors.js';
import type { ManagedChild } from './managed-child.js';

const POLL_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;

interface Probe {
  readonly status: number;
  readonly body: string;
}

/** One GET without keep-alive, so that no idle connection of ours delays the router's shutdown. */
function get(url: string, signal: AbortSignal): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: false,
      signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.end();
  });
}

/** Healthy workers in a `/health` body (`{prefill: {healthy}, decode: {healthy}}`); undefined if absent. */
export function healthyWorkers(body: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    let sum = 0;
    for (const pool of ['prefill', 'decode']) {
      const healthy = (parsed as Record<string, { healthy?: unknown } | undefined>)[pool]?.healthy;
      if (typeof healthy !== 'number') return undefined;
      sum += healthy;
    }
    return sum;
  } catch {
    return undefined;
  }
}

/**
 * Polls the router's `GET /health` until it answers 200 with all `workers` healthy. Rejects with
 * `PD_ERR_DEV_CHILD_FAILED` if the router exits, `PD_ERR_DEV_START_TIMEOUT` after `timeoutMs`.
 */
export async function waitForRouter(
  router: ManagedChild,
  url: string,
  workers: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    signal.throwIfAborted();
    if (!router.running) throw router.failure(await router.exited, 'before it was ready');
    try {
      const probe = await get(`${url}/health`, signal);
      const healthy = healthyWorkers(probe.body);
      if (probe.status === 200 && (healthy === undefined || healthy >= workers)) return;
      last = `GET /health answered ${probe.status} ${probe.body.slice(0, 200)}`;
    } catch (error) {
      signal.throwIfAborted();
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
  }
  throw new DevError('PD_ERR_DEV_START_TIMEOUT', `pd-router was not ready after ${timeoutMs} ms (${last})`);
}
