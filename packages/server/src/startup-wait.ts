import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

/** Budget of one startup health check: vLLM answers /health at once, a hung worker must not stall the round. */
const STARTUP_CHECK_TIMEOUT_MS = 5_000;

export interface WaitForWorkersOptions {
  /** Worker base URLs (`http://host:port`). */
  readonly urls: readonly string[];
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Pause between two rounds; the first round starts at once. */
  readonly intervalMs: number;
  /** Told, after each round, which workers have still not answered 200. */
  readonly onRound?: (down: readonly string[]) => void;
  /** Stops waiting (shutdown). */
  readonly signal?: AbortSignal;
}

/**
 * vllm-router's `--worker-startup-timeout-secs` / `--worker-startup-check-interval`: asks every
 * worker `GET /health` in rounds until each has answered 200 once, or the time is up. Resolves with
 * the workers that never did (empty: all up). Bounded: at most timeoutMs / intervalMs + 1 rounds.
 *
 * @example
 * const down = await waitForWorkers({ urls: ['http://10.0.0.1:8100'], timeoutMs: 600_000, intervalMs: 30_000 });
 */
export async function waitForWorkers(options: WaitForWorkersOptions): Promise<readonly string[]> {
  const deadline = performance.now() + options.timeoutMs;
  let down = [...new Set(options.urls)];
  while (down.length > 0 && options.signal?.aborted !== true) {
    const answers = await Promise.all(down.map((url) => healthy(url, options.signal)));
    down = down.filter((_, index) => !answers[index]);
    options.onRound?.(down);
    const left = deadline - performance.now();
    if (down.length === 0 || left <= 0) break;
    await sleep(Math.min(options.intervalMs, left), undefined, { signal: options.signal }).catch(
      () => undefined,
    );
  }
  return down;
}

async function healthy(url: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const timeout = AbortSignal.timeout(STARTUP_CHECK_TIMEOUT_MS);
    const answer = await request(`${url}/health`, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      headersTimeout: STARTUP_CHECK_TIMEOUT_MS,
      bodyTimeout: STARTUP_CHECK_TIMEOUT_MS,
    });
    await answer.body.dump();
    return answer.statusCode === 200;
  } catch {
    return false;
  }
}
