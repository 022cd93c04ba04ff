import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { ServerError } from '../errors.js';
import {
  FastCounter,
  type FastCounterChild,
  FastHistogram,
  type FastHistogramChild,
} from '../fast-metrics.js';
import { sendError } from '../routes/context.js';
import type { Admission, Waiter } from './admission.js';

/** Queue waits from a few milliseconds to vllm-router's 60 s default timeout and beyond. */
const WAIT_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export type AdmissionHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/** The admission series of /metrics (docs/metrics.md), bound once. */
export class AdmissionMetrics {
  readonly #queued: FastCounterChild;
  readonly #abandoned: FastCounterChild;
  readonly #full: FastCounterChild;
  readonly #timedOut: FastCounterChild;
  readonly #wait: FastHistogramChild;

  constructor(registry: Registry, admission: Admission) {
    const registers = [registry];
    new Gauge({
      name: 'pd_router_admission_in_flight',
      help: 'Proxied requests admitted and not yet finished (capped by --max-concurrent-requests).',
      registers,
      collect() {
        this.set(admission.inFlight);
      },
    });
    new Gauge({
      name: 'pd_router_admission_queue_depth',
      help: 'Proxied requests waiting for a place (at most --queue-size).',
      registers,
      collect() {
        this.set(admission.queued);
      },
    });
    this.#queued = new FastCounter(
      registry,
      'pd_router_admission_queued_total',
      'Proxied requests that had to wait in the admission queue.',
      [],
    ).labels();
    this.#abandoned = new FastCounter(
      registry,
      'pd_router_admission_abandoned_total',
      'Clients that left while their request waited in the admission queue.',
      [],
    ).labels();
    const rejected = new FastCounter(
      registry,
      'pd_router_admission_rejected_total',
      'Proxied requests refused by admission: queue_full (429) or queue_timeout (408).',
      ['reason'],
    );
    this.#full = rejected.labels('queue_full');
    this.#timedOut = rejected.labels('queue_timeout');
    this.#wait = new FastHistogram(
      registry,
      'pd_router_admission_queue_wait_seconds',
      'Time a request waited in the admission queue before it was admitted.',
      [],
      WAIT_BUCKETS_S,
    ).labels();
  }

  queued(): void {
    this.#queued.inc();
  }
  abandoned(): void {
    this.#abandoned.inc();
  }
  rejected(reason: 'queue_full' | 'queue_timeout'): void {
    (reason === 'queue_full' ? this.#full : this.#timedOut).inc();
  }
  waited(ms: number): void {
    this.#wait.observe(ms / 1_000);
  }
}

/** Answers 429 or 408 with Retry-After (counted with every response, in routes/count.ts). */
function refuse(
  reply: FastifyReply,
  admission: Admission,
  code: 'PD_ERR_QUEUE_FULL' | 'PD_ERR_QUEUE_TIMEOUT',
  message: string,
): void {
  sendError(reply, new ServerError(code, message, { retryAfter: String(admission.retryAfterSeconds()) }));
}

/**
 * A preHandler hook of the proxied routes (after authentication and body intake, so a refused or
 * malformed request never takes a place): admits the request, queues it, or refuses it. An
 * admitted request gives its place back when its response closes (finished, or the client left).
 */
export function admissionHook(
  admission: Admission,
  metrics: AdmissionMetrics,
  queueTimeoutMs: number,
): AdmissionHook {
  const { leave } = admission;
  return (_request, reply, done) => {
    if (admission.tryEnter()) {
      reply.raw.on('close', leave);
      done();
      return;
    }
    // The slow path: closures per queued request only.
    const res = reply.raw;
    let settled = false;
    const onClose = (): void => {
      if (settled) return;
      settled = true;
      if (waiter !== undefined) admission.cancel(waiter);
      metrics.abandoned();
    };
    const waiter: Waiter | undefined = admission.wait(
      (waitedMs) => {
        settled = true;
        res.off('close', onClose);
        metrics.waited(waitedMs);
        res.on('close', leave);
        done();
      },
      () => {
        settled = true;
        res.off('close', onClose);
        metrics.rejected('queue_timeout');
        refuse(
          reply,
          admission,
          'PD_ERR_QUEUE_TIMEOUT',
          `the request waited ${queueTimeoutMs / 1_000} s for a place (--queue-timeout-secs) and was not admitted`,
        );
      },
    );
    if (waiter === undefined) {
      metrics.rejected('queue_full');
      refuse(
        reply,
        admission,
        'PD_ERR_QUEUE_FULL',
        'too many requests: every place is taken and the admission queue is full (--max-concurrent-requests, --queue-size)',
      );
      return;
    }
    metrics.queued();
    if (!settled) res.on('close', onClose);
  };
}
