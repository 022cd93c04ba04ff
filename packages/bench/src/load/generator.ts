import { RequestProbe, RunRecorder } from './recorder.js';

/**
 * The load generator: closed loop (N requests always in flight, the next one sent when one
 * finishes) or open loop (requests started on a fixed schedule, whatever the answers do).
 *
 * Every run is bounded three ways: by time (`durationMs`), by count (`maxRequests`), and by a
 * drain deadline after which requests still running are cut off and reported as unfinished.
 */

/** Something the generator can send logical requests to (the router, the floor, another proxy). */
export interface LoadTarget {
  /** True when answers are SSE streams (the probe then counts tokens). */
  readonly stream: boolean;
  /** Starts one logical request; the target must finish the probe exactly once. */
  send(probe: RequestProbe): void;
  /** Drops every connection; requests still in flight are abandoned. */
  close(): Promise<void>;
}

export type LoadShape =
  | { readonly mode: 'closed'; readonly concurrency: number }
  | {
      readonly mode: 'open';
      readonly ratePerS: number;
      /** Over this many in flight, a due request is dropped and counted as `client_backlog`. */
      readonly maxInFlight: number;
    };

export interface LoadOptions {
  readonly shape: LoadShape;
  readonly durationMs: number;
  /** Upper bound on requests started in the run. */
  readonly maxRequests: number;
  /** After `durationMs`, how long requests in flight may take to finish before being cut off. */
  readonly drainTimeoutMs: number;
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressIntervalMs?: number;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly ok: number;
  readonly failed: number;
  readonly inFlight: number;
}

export interface LoadResult {
  readonly recorder: RunRecorder;
  /** From the first start to the last finish (or the cut-off). */
  readonly elapsedMs: number;
  readonly started: number;
  /** CPU the generator's own process used during the run (it shares the machine). */
  readonly generatorCpuMs: number;
}

const OPEN_LOOP_TICK_MS = 1;
const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/**
 * Runs one load level against a target and resolves when every request has finished or been cut
 * off. The target is not closed here.
 *
 * @example
 * const result = await runLoad(target, {
 *   shape: { mode: 'closed', concurrency: 64 }, durationMs: 5_000, maxRequests: 1_000_000, drainTimeoutMs: 10_000,
 * });
 * console.log(result.recorder.ok / (result.elapsedMs / 1000), 'req/s');
 */
export function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const { shape, durationMs, maxRequests, drainTimeoutMs } = options;
  const recorder = new RunRecorder();
  const inFlight = new Set<RequestProbe>();
  const cpuStart = process.cpuUsage();
  const startMs = performance.now();
  const deadlineMs = startMs + durationMs;
  let lastFinishMs = startMs;
  let started = 0;
  let stopping = false;
  let done = false;
  // True while inside target.send: a request that fails synchronously must not start the next
  // one recursively (that would spin on the stack until the deadline).
  let sending = false;

  return new Promise<LoadResult>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      const cpu = process.cpuUsage(cpuStart);
      resolve({
        recorder,
        elapsedMs: Math.max(1, lastFinishMs - startMs),
        started,
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
      });
    };

    const canStart = (): boolean => !stopping && started < maxRequests && performance.now() < deadlineMs;

    const onFinish = (probe: RequestProbe): void => {
      inFlight.delete(probe);
      lastFinishMs = performance.now();
      if (stopping) {
        if (inFlight.size === 0) finish();
        return;
      }
      if (shape.mode === 'closed') {
        if (canStart()) {
          if (sending) setImmediate(startOne, performance.now());
          else startOne(performance.now());
        } else if (inFlight.size === 0) stop();
      }
    };

    function startOne(atMs: number): void {
      if (!canStart()) {
        if (inFlight.size === 0) stop();
        return;
      }
      started++;
      const probe = new RequestProbe(recorder, atMs, target.stream, onFinish);
      inFlight.add(probe);
      sending = true;
      try {
        target.send(probe);
      } finally {
        sending = false;
      }
    }

    function stop(): void {
      if (stopping) return;
      stopping = true;
      if (inFlight.size === 0) {
        finish();
        return;
      }
      timers.push(
        setTimeout(() => {
          lastFinishMs = performance.now();
          for (const probe of [...inFlight]) probe.cutOff();
          finish();
        }, drainTimeoutMs),
      );
    }

    timers.push(setTimeout(stop, durationMs));
    if (options.onProgress !== undefined) {
      const report = options.onProgress;
      const interval = setInterval(() => {
        report({
          elapsedMs: performance.now() - startMs,
          ok: recorder.ok,
          failed: recorder.failed,
          inFlight: inFlight.size,
        });
      }, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
      timers.push(interval);
    }

    if (shape.mode === 'closed') {
      for (let i = 0; i < shape.concurrency && canStart(); i++) startOne(performance.now());
      return;
    }

    // Open loop: request k is due at startMs + k / rate. Latency counts from the due time, so a
    // slow target is charged for the queueing it causes (no coordinated omission).
    const intervalMs = 1000 / shape.ratePerS;
    const dropped = (): number => recorder.errors.get('client_backlog') ?? 0;
    let due = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      while (!stopping && started + dropped() < maxRequests && startMs + due * intervalMs <= now) {
        const scheduled = startMs + due * intervalMs;
        due++;
        if (scheduled >= deadlineMs) break;
        if (inFlight.size >= shape.maxInFlight) {
          recorder.addError('client_backlog');
          continue;
        }
        startOne(scheduled);
      }
      if (now >= deadlineMs) clearInterval(ticker);
      else if (started + dropped() >= maxRequests) {
        clearInterval(ticker);
        stop();
      }
    }, OPEN_LOOP_TICK_MS);
    timers.push(ticker);
  });
}
