import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockVllmError } from './errors.js';
import type { FaultBook } from './fault-book.js';
import { JSON_CONTENT_TYPE, sendBody, sendJson } from './http-io.js';
import { loopbackHost } from './nixl-params.js';

/** vLLM's decode queries a bootstrap server with httpx's default timeout (5 s). */
export const BOOTSTRAP_QUERY_TIMEOUT_MS = 5_000;

export interface BootstrapServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The `/query` answer of vLLM's `MooncakeBootstrapServer`: one entry per DP rank,
 * `{"<dp_rank>": {"engine_id": "...", "worker_addr": {"<tp_rank>": {"<pp_rank>": "tcp://host:port"}}}}`,
 * serialized as FastAPI does (compact, raw UTF-8). Pure.
 *
 * @example
 * bootstrapQueryBody(['e0'], 'tcp://127.0.0.1:4000')
 * // '{"0":{"engine_id":"e0","worker_addr":{"0":{"0":"tcp://127.0.0.1:4000"}}}}'
 */
export function bootstrapQueryBody(engineIds: readonly string[], workerAddr: string): string {
  const answer: Record<string, unknown> = {};
  for (const [rank, engineId] of engineIds.entries()) {
    answer[String(rank)] = { engine_id: engineId, worker_addr: { '0': { '0': workerAddr } } };
  }
  return JSON.stringify(answer);
}

/**
 * Starts a prefill's bootstrap server on `host:port` (0: a free port): `GET /query` answers `body`;
 * a `mooncake-bootstrap-down` fault resets the connection of a request, or answers `{}` (no worker
 * registered yet).
 */
export async function startBootstrapServer(
  host: string,
  port: number,
  body: string,
  faults: FaultBook,
): Promise<BootstrapServer> {
  const server = createServer((req, res) => {
    req.resume();
    const down = faults.takeBootstrapDown();
    if (down === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/query') {
      sendJson(res, 404, { detail: 'Not Found' });
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { detail: 'Method Not Allowed' });
      return;
    }
    res.setHeader('server', 'uvicorn');
    sendBody(res, 200, JSON_CONTENT_TYPE, down === 'empty' ? '{}' : body);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new MockVllmError(
      'PD_ERR_MOCK_LISTEN_FAILED',
      `cannot bind the bootstrap server on ${host}:${port}`,
      {
        cause,
      },
    );
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback `host:port` from `http://H:P` or `tcp://H:P` (or bare `H:P`); undefined otherwise. */
export function loopbackEndpoint(address: string): { host: string; port: number } | undefined {
  const m = /^(?:[a-z]+:\/\/)?(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(address);
  if (m === null) return undefined;
  const port = Number(m[2]);
  const host = loopbackHost(m[1] ?? '');
  return host === undefined || port < 1 || port > 65_535 ? undefined : { host, port };
}

/**
 * Asks a bootstrap server for its ranks, as vLLM's decode does for an engine id it does not know:
 * resolves with engine id → worker address, or undefined when the query fails in any way.
 */
export async function queryBootstrap(
  endpoint: { host: string; port: number },
  signal: AbortSignal,
): Promise<Map<string, string> | undefined> {
  try {
    const res = await fetch(`http://${endpoint.host}:${endpoint.port}/query`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(BOOTSTRAP_QUERY_TIMEOUT_MS)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const data: unknown = await res.json();
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
    const agents = new Map<string, string>();
    for (const entry of Object.values(data as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { engine_id: engineId, worker_addr: workers } = entry as Record<string, unknown>;
      const tp0 =
        typeof workers === 'object' && workers !== null
          ? (workers as Record<string, unknown>)['0']
          : undefined;
      const addr =
        typeof tp0 === 'object' && tp0 !== null ? (tp0 as Record<string, unknown>)['0'] : undefined;
      if (typeof engineId === 'string' && typeof addr === 'string') agents.set(engineId, addr);
    }
    return agents;
  } catch {
    return undefined;
  }
}
