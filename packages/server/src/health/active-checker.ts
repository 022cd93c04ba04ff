import { Agent } from 'undici';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';

/** vLLM's OpenAI server answers `GET /health` with 200 while its engine is alive. */
export const HEALTH_PATH = '/health';
/**
 * How often a worker waiting for admission (discovered, or added through the admin API) is checked
 * until it answers: it should take traffic soon after it is ready, whatever the check interval.
 */
export const ADMISSION_CHECK_MS = 1_000;
/** Below uvicorn's 5 s keep-alive, as for request pools (upstream/pools.ts). */
const HEALTH_KEEP_ALIVE_MS = 4_000;

export interface ActiveHealthCheckerOptions {
  readonly registry: WorkerRegistry;
  /** Period of the checks of every worker; 0: only admission checks (workers still pending). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** The path checked (default `/health`). */
  readonly path?: string;
}

/**
 * Active health: every `intervalMs`, `GET /health` on each worker (a 2xx within `timeoutMs` is a
 * success), reported to the registry (`checkResult`); the worker's health (health/worker-health.ts)
 * counts them against its thresholds and decides. A worker that must answer a check before it
 * takes traffic (a discovered one) is checked as soon as it is added, then every second until it
 * does, even when periodic checks are off.
 *
 * Checks use their own undici Agent (one connection per worker), not the request pools: a worker
 * whose pool is saturated by long decode streams is busy, not dead, and must not queue its health
 * check behind them. A worker's next check waits for the previous one, so a hung worker costs
 * one connection.
 *
 * @example
 * const checker = new ActiveHealthChecker({ registry, intervalMs: 10_000, timeoutMs: 5_000 });
 * checker.start();
 */
export class ActiveHealthChecker {
  readonly #options: ActiveHealthCheckerOptions;
  readonly #path: string;
  /** Workers whose check is running: not health state, only what keeps checks from piling up. */
  readonly #busy = new WeakSet<Worker>();
  readonly #agent: Agent;
  #timer: NodeJS.Timeout | undefined;
  #admissionTimer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: () => void;
  #stopped = false;

  constructor(options: ActiveHealthCheckerOptions) {
    this.#options = options;
    this.#path = options.path ?? HEALTH_PATH;
    this.#agent = new Agent({
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: HEALTH_KEEP_ALIVE_MS,
      keepAliveMaxTimeout: HEALTH_KEEP_ALIVE_MS,
      connect: { timeout: options.timeoutMs },
    });
    // A worker that must answer before it takes traffic is checked at once.
    this.#unsubscribe = options.registry.onChange((event, worker) => {
      if (event === 'added' && worker.health.pending) void this.check(worker);
    });
  }

  start(): void {
    const { intervalMs } = this.#options;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => void this.checkAll(), intervalMs);
      this.#timer.unref();
    }
    const admissionMs = intervalMs > 0 ? Math.min(intervalMs, ADMISSION_CHECK_MS) : ADMISSION_CHECK_MS;
    this.#admissionTimer = setInterval(() => void this.checkPending(), admissionMs);
    this.#admissionTimer.unref();
  }

  /** Checks the workers still waiting for their first good check. */
  async checkPending(): Promise<void> {
    const pending = this.#options.registry.list().filter((w) => w.health.pending);
    await Promise.all(pending.map((worker) => this.check(worker)));
  }

  /** Checks every worker once (the timer's tick; tests call it directly). */
  async checkAll(): Promise<void> {
    await Promise.all(this.#options.registry.list().map((worker) => this.check(worker)));
  }

  /** Checks one worker, unless its previous check is still running. */
  async check(worker: Worker): Promise<void> {
    if (this.#busy.has(worker) || this.#stopped) return;
    this.#busy.add(worker);
    let ok = false;
    let detail: string | undefined;
    const { timeoutMs } = this.#options;
    try {
      const response = await this.#agent.request({
        origin: worker.address.url,
        path: this.#path,
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
      this.#busy.delete(worker);
    }
    if (this.#stopped) return;
    this.#options.registry.checkResult(worker, ok, detail);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearInterval(this.#admissionTimer);
    this.#unsubscribe();
    await this.#agent.destroy();
  }
}
