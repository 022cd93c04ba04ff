import type { RawRequest, Verdict } from '@pd-router/mock-vllm';
import type { TappedWorker } from './mock-cluster.js';
import type { TapExchange } from './worker-tap.js';

/** One upstream request the router made during a client request, as the worker saw it. */
export interface UpstreamLeg {
  readonly role: 'prefill' | 'decode';
  /** Index of the worker among those of its role, in flag order. */
  readonly worker: number;
  readonly request: RawRequest;
  readonly requestId: string | undefined;
  /** What went through the tap for this request (its answer included, once complete). */
  readonly exchange: TapExchange | undefined;
  /** The mock's own conformance verdict, when the mock runs in conformance mode. */
  readonly mockVerdict: Verdict | undefined;
  /** When the request was fully received and when its answer was complete, from the mock's `received`
   * (ms, Date.now) or, for a tap that answers itself, from the tap (performance.now). */
  readonly receivedAt: number;
  readonly completedAt: number | undefined;
}

/** How far each worker's records went before a client request, so the request's own can be told apart. */
export interface WorkerMark {
  readonly received: number;
  readonly verdicts: number;
  readonly exchanges: number;
}

export function markWorkers(workers: readonly TappedWorker[]): WorkerMark[] {
  return workers.map((w) => ({
    received: w.mock?.received.length ?? 0,
    verdicts: w.mock?.verdicts.length ?? 0,
    exchanges: w.tap.exchanges.length,
  }));
}

/** The requests each worker (all of one role) got since `marks`, oldest first. */
export function legsSince(workers: readonly TappedWorker[], marks: readonly WorkerMark[]): UpstreamLeg[] {
  const legs: UpstreamLeg[] = [];
  workers.forEach((w, i) => {
    const mark = marks[i] ?? { received: 0, verdicts: 0, exchanges: 0 };
    // Only completion legs count: the router's own GET /health (its start-up wait and health
    // checks) may reach a worker during a case and is not part of the captured exchange.
    const exchanges = w.tap.exchanges.slice(mark.exchanges).filter((e) => e.method !== 'GET');
    const tapFor = (id: string | undefined, k: number): TapExchange | undefined =>
      exchanges.find((e) => id !== undefined && e.requestId === id) ?? exchanges[k];
    if (w.mock === undefined) {
      exchanges.forEach((e) => {
        legs.push({
          role: w.role,
          worker: i,
          request: { method: e.method, path: e.path, rawHeaders: e.rawHeaders, body: e.body },
          requestId: e.requestId,
          exchange: e,
          mockVerdict: undefined,
          receivedAt: e.requestAt,
          completedAt: e.response?.at,
        });
      });
      return;
    }
    const verdicts = w.mock.verdicts.slice(mark.verdicts);
    w.mock.received.slice(mark.received).forEach((r, k) => {
      legs.push({
        role: w.role,
        worker: i,
        request: { method: r.method, path: r.path, rawHeaders: r.rawHeaders, body: r.body },
        requestId: r.requestId,
        exchange: tapFor(r.requestId, k),
        // Verdicts are recorded with the requests, one each, in the same order.
        mockVerdict: verdicts[k],
        receivedAt: r.receivedAt,
        completedAt: r.completedAt,
      });
    });
  });
  return legs;
}
