import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { NixlRecomputeReason } from './connectors/nixl-params.js';
import { FastCounter, FastHistogram } from './fast-metrics.js';

/** Latency buckets (seconds) from a cached 1 ms prefill to a multi-minute long-context one. */
const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/** What went wrong with an upstream call, as counted in `pd_router_upstream_errors_total{kind}`. */
export type UpstreamErrorKind =
  | 'connect'
  | 'reset'
  | 'timeout'
  | 'status'
  | 'stream_idle'
  | 'stream_broken'
  | 'bad_response';

/** Where a client left, as counted in `pd_router_client_aborts_total{phase}`. */
export type AbortPhase = 'prefill' | 'decode_wait' | 'stream';

/** The subset of a worker the metrics need; the registry's Worker satisfies it. */
export interface MetricsWorker {
  readonly role: 'prefill' | 'decode';
  readonly url: string;
  readonly inFlight: number;
  readonly healthy: boolean;
}

interface Child {
  inc(value?: number): void;
}
interface Observer {
  observe(value: number): void;
}

/** Label sets bound once per worker, so the request path never hashes labels. */
export interface WorkerMetrics {
  /** Prefill leg duration (prefill workers) or decode time to first byte (decode workers). */
  readonly latency: Observer;
  /** Counts a policy decision for this worker; `reason` is the policy's own (cache_aware: cache_hit...). */
  decision(reason: string | undefined): void;
  error(kind: UpstreamErrorKind): void;
}

/** A metric source read at scrape time (the worker registry). */
export interface WorkerSource {
  list(): readonly MetricsWorker[];
}

/**
 * The router's Prometheus metrics, in a Registry of its own (several servers in one process, as in
 * tests, must not share series). Per-worker label sets are bound once; gauges about workers are
 * computed at scrape time instead of being updated on every request.
 *
 * @example
 * const metrics = new RouterMetrics('round_robin');
 * const text = await metrics.registry.metrics();
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly #requests: FastCounter;
  readonly #total: FastHistogram;
  readonly #prefill: FastHistogram;
  readonly #ttfb: FastHistogram;
  readonly #errors: FastCounter;
  readonly #decisions: FastCounter;
  readonly #aborts: FastCounter;
  readonly #nixlRecomputes: FastCounter;
  /** Label-less: bound once, so it reads 0 before the first rewrite. */
  readonly #nixlRewrites: Child;
  readonly #decodeFirst: Child;
  readonly #policies: { readonly prefill: string; readonly decode: string };
  #source: WorkerSource = { list: () => [] };

  constructor(policies: { readonly prefill: string; readonly decode: string }) {
    this.#policies = policies;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const r = this.registry;
    this.#requests = new FastCounter(
      r,
      'pd_router_requests_total',
      'Requests answered, by route and HTTP status.',
      ['route', 'status'],
    );
    this.#total = new FastHistogram(
      r,
      'pd_router_request_duration_seconds',
      'Proxied request duration from arrival to the last byte sent.',
      ['route'],
      LATENCY_BUCKETS_S,
    );
    this.#prefill = new FastHistogram(
      r,
      'pd_router_prefill_duration_seconds',
      'Prefill leg duration: request sent to complete answer read.',
      ['worker'],
      LATENCY_BUCKETS_S,
    );
    this.#ttfb = new FastHistogram(
      r,
      'pd_router_decode_ttfb_seconds',
      'Decode leg time to first body byte.',
      ['worker'],
      LATENCY_BUCKETS_S,
    );
    this.#errors = new FastCounter(
      r,
      'pd_router_upstream_errors_total',
      'Upstream failures by role, worker and kind.',
      ['role', 'worker', 'kind'],
    );
    this.#decisions = new FastCounter(
      r,
      'pd_router_policy_decisions_total',
      'Workers chosen by the routing policy, with its reason (cache_aware: cache_hit, cache_miss, load_balance).',
      ['role', 'worker', 'policy', 'reason'],
    );
    this.#aborts = new FastCounter(
      r,
      'pd_router_client_aborts_total',
      'Clients that disconnected before their answer was complete, by phase.',
      ['phase'],
    );
    this.#nixlRecomputes = new FastCounter(
      r,
      'pd_router_nixl_recomputes_total',
      'NIXL requests whose decode went without kv_transfer_params and recomputed the prompt, by reason.',
      ['reason'],
    );
    this.#nixlRewrites = new FastCounter(
      r,
      'pd_router_nixl_remote_host_rewrites_total',
      "NIXL kv_transfer_params whose loopback remote_host was rewritten to the prefill's host.",
      [],
    ).labels();
    this.#decodeFirst = new FastCounter(
      r,
      'pd_router_decode_first_total',
      'Requests sent to a decode worker alone (pd_aware decode-first: short uncached prompt, no prefill leg).',
      [],
    ).labels();
    const source = (): readonly MetricsWorker[] => this.#source.list();
    new Gauge({
      name: 'pd_router_worker_in_flight',
      help: 'Requests in flight per worker (decode: until the stream ends).',
      labelNames: ['role', 'worker'],
      registers,
      collect() {
        this.reset();
        for (const w of source()) this.labels(w.role, w.url).set(w.inFlight);
      },
    });
    new Gauge({
      name: 'pd_router_worker_healthy',
      help: '1 when the worker is eligible for new requests.',
      labelNames: ['role', 'worker'],
      registers,
      collect() {
        this.reset();
        for (const w of source()) this.labels(w.role, w.url).set(w.healthy ? 1 : 0);
      },
    });
  }

  /** The workers the scrape-time gauges report on. */
  setWorkerSource(source: WorkerSource): void {
    this.#source = source;
  }

  bindWorker(worker: MetricsWorker): WorkerMetrics {
    const { role, url } = worker;
    const latency = (role === 'prefill' ? this.#prefill : this.#ttfb).labels(url);
    const policy = this.#policies[role];
    const decisionCounter = this.#decisions;
    // The policy's own reason is bound once; other reasons and error kinds are looked up in the
    // metric's own table (FastMetric.labels), which keeps each child once.
    const plain = decisionCounter.labels(role, url, policy, policy);
    const counter = this.#errors;
    return {
      latency,
      decision(reason) {
        if (reason === undefined || reason === policy) plain.inc();
        else decisionCounter.labels(role, url, policy, reason).inc();
      },
      error(kind) {
        counter.labels(role, url, kind).inc();
      },
    };
  }

  /** Forgets a removed worker's series. */
  unbindWorker(worker: MetricsWorker): void {
    const { role, url } = worker;
    (role === 'prefill' ? this.#prefill : this.#ttfb).remove(url);
    const ofWorker = (labels: Readonly<Record<string, string>>) =>
      labels['role'] === role && labels['worker'] === url;
    this.#decisions.removeWhere(ofWorker);
    this.#errors.removeWhere(ofWorker);
  }

  /** Counts a response (routes/count.ts, the one place that does). */
  request(route: string, status: number): void {
    this.#requests.labels(route, String(status)).inc();
  }

  totalDuration(route: string, seconds: number): void {
    this.#total.labels(route).observe(seconds);
  }

  clientAbort(phase: AbortPhase): void {
    this.#aborts.labels(phase).inc();
  }

  /** A NIXL decode sent without the prefill's kv_transfer_params (it recomputes the prompt). */
  nixlRecompute(reason: NixlRecomputeReason): void {
    this.#nixlRecomputes.labels(reason).inc();
  }

  /** A NIXL remote_host rewritten to the prefill's host. */
  nixlRemoteHostRewrite(): void {
    this.#nixlRewrites.inc();
  }

  /** A request served by a decode alone (decode-first). */
  decodeFirst(): void {
    this.#decodeFirst.inc();
  }
}
