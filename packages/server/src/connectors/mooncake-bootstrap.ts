import type { WorkerAddress } from '@pd-router/core';
import { err, ok, type Result } from '@pd-router/core';
import { type Dispatcher, request } from 'undici';

/** vLLM's VLLM_MOONCAKE_BOOTSTRAP_PORT default, and the Mooncake proxy's when none is given. */
export const DEFAULT_MOONCAKE_BOOTSTRAP_PORT = 8998;
/** One `/health` or `/query` call: a prefill that takes longer is not ready yet. */
export const BOOTSTRAP_CALL_TIMEOUT_MS = 5_000;
/** Retry pacing: doubled after each failed attempt, from the first value up to the cap. */
export const BOOTSTRAP_RETRY_INITIAL_MS = 250;
export const BOOTSTRAP_RETRY_MAX_MS = 10_000;
/** A `/query` answer larger than this is not a bootstrap server's. */
const QUERY_ANSWER_LIMIT_BYTES = 1_048_576;

/**
 * The engine id of each data-parallel rank from a bootstrap server's `GET /query` answer
 * (`{"<rank>": {"engine_id": "...", "worker_addr": {...}}, ...}`). As the Mooncake proxy reads it,
 * the number of entries is the DP size and rank r's id is `answer[str(r)].engine_id`; unlike the
 * proxy (which spins forever on `{}` and fails every request on a missing rank), an answer without
 * ranks 0..n-1 is an error, so the prefill stays unroutable and the query is retried.
 *
 * @example
 * parseEngineIds(Buffer.from('{"0":{"engine_id":"e0","worker_addr":{}}}')) // ok(['e0'])
 */
export function parseEngineIds(body: Uint8Array): Result<readonly string[], string> {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return err('the /query answer is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return err('the /query answer is not a JSON object');
  }
  const entries = data as Record<string, unknown>;
  const size = Object.keys(entries).length;
  if (size === 0) return err('the bootstrap server lists no rank yet (its workers have not registered)');
  const ids: string[] = [];
  for (let rank = 0; rank < size; rank++) {
    const entry = entries[String(rank)];
    const id =
      typeof entry === 'object' && entry !== null
        ? (entry as Record<string, unknown>)['engine_id']
        : undefined;
    if (typeof id !== 'string' || id === '') {
      return err(`the /query answer has ${size} rank(s) but no engine_id for rank ${rank}`);
    }
    ids.push(id);
  }
  return ok(ids);
}

/**
 * `http://HOST:PORT` of a prefill's bootstrap server: the prefill's host (IPv6 bracketed) and its
 * bootstrap port, as the proxy writes `remote_bootstrap_addr`.
 *
 * @example
 * bootstrapAddr(parseWorkerUrl('http://10.0.0.1:8100').value, 8998) // 'http://10.0.0.1:8998'
 */
export function bootstrapAddr(prefill: WorkerAddress, port: number): string {
  const host = new URL(prefill.url).host;
  const bare = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return `http://${bare}:${port}`;
}

export interface ResolveEngineIdsOptions {
  /** The prefill's base URL: its `/health` must answer 2xx first, as the proxy polls it. */
  readonly prefillUrl: string;
  /** `http://HOST:PORT` of its bootstrap server. */
  readonly bootstrapAddr: string;
  /** Ends the retries (the worker left, the router is closing). */
  readonly signal: AbortSignal;
  readonly dispatcher?: Dispatcher;
  readonly callTimeoutMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Told about each failed attempt and the wait before the next, for the log. */
  readonly onRetry?: (reason: string, attempt: number, waitMs: number) => void;
}

async function get(url: string, o: ResolveEngineIdsOptions): Promise<Result<Uint8Array, string>> {
  const timeout = o.callTimeoutMs ?? BOOTSTRAP_CALL_TIMEOUT_MS;
  try {
    const res = await request(url, {
      method: 'GET',
      signal: AbortSignal.any([o.signal, AbortSignal.timeout(timeout)]),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(o.dispatcher === undefined ? {} : { dispatcher: o.dispatcher }),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > QUERY_ANSWER_LIMIT_BYTES) {
        res.body.destroy();
        return err(`GET ${url} answered more than ${QUERY_ANSWER_LIMIT_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    if (res.statusCode < 200 || res.statusCode > 299) return err(`GET ${url} answered ${res.statusCode}`);
    return ok(Buffer.concat(chunks));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return err(`GET ${url} failed: ${typeof code === 'string' ? code : (error as Error).message}`);
  }
}

/**
 * Learns a Mooncake prefill's engine ids, as the proxy does at start, but never giving up on a
 * prefill that is not up yet: `GET {prefill}/health` until 2xx, then `GET {bootstrap}/query`, the pair
 * retried with exponential backoff (250 ms doubling to 10 s) until it succeeds or `signal` aborts.
 * Resolves with one engine id per DP rank, or `aborted`.
 *
 * @example
 * const ids = await resolveEngineIds({ prefillUrl, bootstrapAddr: 'http://10.0.0.1:8998', signal });
 */
export async function resolveEngineIds(o: ResolveEngineIdsOptions): Promise<readonly string[] | 'aborted'> {
  let wait = o.retryInitialMs ?? BOOTSTRAP_RETRY_INITIAL_MS;
  const cap = o.retryMaxMs ?? BOOTSTRAP_RETRY_MAX_MS;
  for (let attempt = 1; !o.signal.aborted; attempt++) {
    const health = await get(`${o.prefillUrl}/health`, o);
    const query = health.ok ? await get(`${o.bootstrapAddr}/query`, o) : health;
    const ids = query.ok ? parseEngineIds(query.value) : query;
    if (ids.ok) return ids.value;
    if (o.signal.aborted) break;
    o.onRetry?.(ids.error, attempt, wait);
    const slept = await new Promise<boolean>((resolve) => {
      const done = (value: boolean): void => {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(true), wait);
      o.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (!slept) break;
    wait = Math.min(wait * 2, cap);
  }
  return 'aborted';
}
