import type { FastifyBaseLogger } from 'fastify';
import { Agent } from 'undici';
import type { DynamicWorkerMetrics } from '../workers/dynamic-metrics.js';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';

/** vLLM's OpenAI server answers `GET /health` with 200 while its engine is alive. */
export const HEALTH_PATH = '/health';
/** Below uvicorn's 5 s keep-alive, as for request pools (upstream/pools.ts). */
const HEALTH_KEEP_ALIVE_MS = 4_000;

export interface ActiveHealthCheckerOptions {
  readonly registry: WorkerRegistry;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failed checks that take a worker out. */
  readonly failureThreshold: number;
  /** Consecutive good checks that bring it back. */
  readonly successThreshold: number;
  readonly metrics: DynamicWorkerMetrics;
  readonly log: FastifyBaseLogger;
  /** Every check's result, for the circuit breaker's half-open probe. */
  readonly onResult?: (worker: Worker, ok: boolean) => void;
}

interface CheckState {
  successes: number;
  failures: number;
  busy: boolean;
}

/**
 * Active health: every `intervalMs`, `GET /health` on each worker (a 2xx within `timeoutMs` is a
 * success). `failureThreshold` failures in a row take a worker out of the pools
 * (`registry.setHealthy(id, false)`), `successThreshold` successes in a row bring it back.
 *
 * Checks use their own undici Agent (one connection per worker), not the request pools: a worker
 * whose pool is saturated by long decode streams is busy, not dead, and must not queue its health
 * check behind them. A worker's next check waits for the previous one, so a hung worker costs
 * one connection.
 *
 * @example
 * const checker = new ActiveHealthChecker({ registry, intervalMs: 10_000, timeoutMs: 5_000,
 *   failureThreshold: 3, successThreshold: 2, metrics, log });
 * checker.start();
 */
export class ActiveHealthChecker {
  readonly #options: ActiveHealthCheckerOptions;
  readonly #states = new Map<Worker, CheckState>();
  readonly #agent: Agent;
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ActiveHealthCheckerOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: HEALTH_KEEP_ALIVE_MS,
      keepAliveMaxTimeout: HEALTH_KEEP_ALIVE_MS,
      connect: { timeout: options.timeoutMs },
    });
    this.#unsubscribe = options.registry.onChange((event, worker) => {
      if (event === 'removed') this.#states.delete(worker);
    });
  }

  start(): void {
    this.#timer = setInterval(() => void this.checkAll(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Checks every worker once (the timer's tick; tests call it directly). */
  async checkAll(): Promise<void> {
    await Promise.all(this.#options.registry.list().map((worker) => this.check(worker)));
  }

  /** Checks one worker, unless its previous check is still running. */
  async check(worker: Worker): Promise<void> {
    let state = this.#states.get(worker);
    if (state === undefined) {
      state = { successes: 0, failures: 0, busy: false };
      this.#states.set(worker, state);
    }
    if (state.busy || this.#stopped) return;
    state.busy = true;
    let ok = false;
    let detail: string | undefined;
    const { timeoutMs } = this.#options;
    try {
      const response = await this.#agent.request({
        origin: worker.url,
        path: HEALTH_PATH,
        method: 'GET',
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      ok = response.statusCode >= 200 && response.statusCode <= 299;
      if (!ok) detail = `HTTP ${response.statusCode}`;
    } catch (error) {
      detail = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
    } finally {
      state.busy = false;
    }
    if (worker.removed || this.#stopped) return;
    this.#record(worker, state, ok, detail);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    await this.#agent.destroy();
  }

  #record(worker: Worker, state: CheckState, ok: boolean, detail: string | undefined): void {
    const { registry, metrics, log, failureThreshold, successThreshold } = this.#options;
    metrics.healthCheck(worker.role, ok);
    if (ok) {
      state.failures = 0;
      state.successes += 1;
      if (!worker.checkHealthy && state.successes >= successThreshold) {
        registry.setHealthy(worker.id, true);
        metrics.healthTransition(worker.role, true);
        log.info(
          { worker: worker.url, role: worker.role },
          `worker healthy again after ${state.successes} good health checks`,
        );
      }
    } else {
      state.successes = 0;
      state.failures += 1;
      if (worker.checkHealthy && state.failures >= failureThreshold) {
        registry.setHealthy(worker.id, false);
        metrics.healthTransition(worker.role, false);
        log.warn(
          { worker: worker.url, role: worker.role, detail },
          `worker unhealthy after ${state.failures} failed health checks; it leaves the pools`,
        );
      }
    }
    this.#options.onResult?.(worker, ok);
  }
}
