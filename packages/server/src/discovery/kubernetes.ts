import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import type { FastifyBaseLogger } from 'fastify';
import type { DynamicWorkerMetrics, RemovalReason } from '../workers/dynamic-metrics.js';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';
import { formatLabelSelector } from './label-selector.js';
import { type PodLike, type PodSelection, podName, podVerdict } from './pod-worker.js';

export interface KubernetesDiscoveryOptions {
  readonly registry: WorkerRegistry;
  readonly kubeConfig: KubeConfig;
  /** undefined: every namespace. */
  readonly namespace: string | undefined;
  readonly selection: PodSelection;
  readonly metrics: DynamicWorkerMetrics;
  readonly log: FastifyBaseLogger;
  /** Warn about pods without a ZMQ annotation (their HTTP address is used in request ids). */
  readonly warnMissingZmq: boolean;
  /** Most discovered workers (Kubernetes and ZMQ registration together); undefined: no cap. */
  readonly maxWorkers?: number;
  /** Reconnection backoff: first delay and cap (doubling in between). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
}

const DEFAULT_BACKOFF = { initial: 500, max: 30_000 } as const;
/** The API server ends a watch after this; we then resume from the last resourceVersion. */
const WATCH_TIMEOUT_S = 300;
/** A list slower than this is abandoned and retried. */
const LIST_TIMEOUT_MS = 30_000;
/** A watch that ends sooner than this counts as a failure for the backoff (no hot reconnect loop). */
const MIN_HEALTHY_WATCH_MS = 1_000;

type WatchEnd = { readonly kind: 'closed'; readonly resourceVersion: string } | { readonly kind: 'gone' };

/**
 * Builds the client configuration: `--kubeconfig FILE`, else the in-cluster service account.
 * Throws when neither is available, so the router refuses to start instead of retrying forever.
 */
export function loadKubeConfig(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) {
    kc.loadFromFile(file);
  } else {
    if (env['KUBERNETES_SERVICE_HOST'] === undefined) {
      throw new Error(
        'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): give --kubeconfig FILE',
      );
    }
    kc.loadFromCluster();
  }
  if (kc.getCurrentCluster() === null) throw new Error('the kubeconfig names no current cluster');
  return kc;
}

/**
 * Kubernetes pod discovery (vllm-router's `--service-discovery`): lists the pods matching the
 * selector, then watches them. A ready pod matching the prefill or decode selector joins that pool
 * (source `kubernetes`); a pod that is deleted, stops being ready, starts terminating or stops
 * matching leaves it (its in-flight requests finish). On any list or watch failure the state is
 * rebuilt by listing again after a doubling backoff; a watch the server ends normally resumes from
 * the last resourceVersion, and a 410 Gone relists.
 *
 * @example
 * const k8s = new KubernetesDiscovery({ registry, kubeConfig, namespace: 'llm', selection, metrics, log, warnMissingZmq: true });
 * k8s.start();
 */
export class KubernetesDiscovery {
  readonly #options: KubernetesDiscoveryOptions;
  readonly #api: CoreV1Api;
  readonly #watch: Watch;
  readonly #labelSelector: string | undefined;
  readonly #path: string;
  readonly #backoff: { readonly initial: number; readonly max: number };
  /** Pod uid → the worker it became. */
  readonly #tracked = new Map<string, Worker>();
  /** Pods already warned about (annotation problems), so each is logged once. */
  readonly #warned = new Set<string>();
  readonly #stop = new AbortController();
  #watchController: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #lists = 0;

  constructor(options: KubernetesDiscoveryOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#watch = new Watch(options.kubeConfig);
    const selector = options.selection.selector;
    this.#labelSelector = selector.length === 0 ? undefined : formatLabelSelector(selector);
    this.#path =
      options.namespace === undefined
        ? '/api/v1/pods'
        : `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`;
    this.#backoff = options.backoffMs ?? DEFAULT_BACKOFF;
  }

  /** Successful lists so far (tests wait for the first). */
  get lists(): number {
    return this.#lists;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#watchController?.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, metrics } = this.#options;
    let delay = this.#backoff.initial;
    while (!this.#stop.signal.aborted) {
      try {
        let resourceVersion = await this.#list();
        delay = this.#backoff.initial;
        for (;;) {
          const started = performance.now();
          const end = await this.#watchOnce(resourceVersion);
          if (this.#stop.signal.aborted) return;
          if (end.kind === 'gone') {
            log.info('kubernetes: watch expired (410 Gone); listing again');
            break;
          }
          resourceVersion = end.resourceVersion;
          if (performance.now() - started < MIN_HEALTHY_WATCH_MS) {
            await this.#sleep(delay);
            delay = Math.min(delay * 2, this.#backoff.max);
          } else {
            delay = this.#backoff.initial;
          }
        }
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        metrics.error('kubernetes');
        log.warn(
          { err: error, retryInMs: delay },
          `kubernetes: pod ${this.#lists === 0 ? 'list' : 'list/watch'} failed; retrying`,
        );
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#backoff.max);
      }
    }
  }

  /** Lists the pods and makes the pools match; returns the list's resourceVersion. */
  async #list(): Promise<string> {
    const labelSelector = this.#labelSelector;
    const namespace = this.#options.namespace;
    const request =
      namespace === undefined
        ? this.#api.listPodForAllNamespaces(labelSelector === undefined ? {} : { labelSelector })
        : this.#api.listNamespacedPod(
            labelSelector === undefined ? { namespace } : { namespace, labelSelector },
          );
    const list = await this.#bounded(request, LIST_TIMEOUT_MS);
    const seen = new Set<string>();
    for (const pod of list.items as readonly PodLike[]) {
      const uid = uidOf(pod);
      seen.add(uid);
      this.#apply('ADDED', pod);
    }
    for (const uid of [...this.#tracked.keys()]) if (!seen.has(uid)) this.#drop(uid, 'deleted');
    this.#lists += 1;
    return list.metadata?.resourceVersion ?? '';
  }

  /** One watch call, from `resourceVersion`; resolves when it ends normally, rejects on failure. */
  #watchOnce(resourceVersion: string): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let latest = resourceVersion;
      let gone = false;
      let failure: Error | undefined;
      const query: Record<string, string | number | boolean> = {
        allowWatchBookmarks: true,
        timeoutSeconds: WATCH_TIMEOUT_S,
      };
      if (resourceVersion !== '') query['resourceVersion'] = resourceVersion;
      if (this.#labelSelector !== undefined) query['labelSelector'] = this.#labelSelector;
      const onEvent = (type: string, object: unknown): void => {
        const pod = object as PodLike;
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          if (status.code === 410) gone = true;
          else failure = new Error(`watch error event: ${status.code ?? '?'} ${status.message ?? ''}`.trim());
          this.#watchController?.abort();
          return;
        }
        latest = pod.metadata?.resourceVersion ?? latest;
        if (type !== 'BOOKMARK') this.#apply(type, pod);
      };
      const onStop = (): void => resolve({ kind: 'closed', resourceVersion: latest });
      // Until the API server answers, watch() has no controller to abort: stopping must not wait for it.
      this.#stop.signal.addEventListener('abort', onStop, { once: true });
      const onDone = (error: unknown): void => {
        this.#stop.signal.removeEventListener('abort', onStop);
        this.#watchController = undefined;
        if (this.#stop.signal.aborted || gone)
          resolve(gone ? { kind: 'gone' } : { kind: 'closed', resourceVersion: latest });
        else if (failure !== undefined) reject(failure);
        else if (error !== null && error !== undefined) reject(error);
        else resolve({ kind: 'closed', resourceVersion: latest });
      };
      this.#watch.watch(this.#path, query, onEvent, onDone).then(
        (controller) => {
          this.#watchController = controller;
          if (this.#stop.signal.aborted) controller.abort();
        },
        (error: unknown) => onDone(error ?? new Error('watch failed')),
      );
    });
  }

  /** Applies one pod event to the pools. */
  #apply(type: string, pod: PodLike): void {
    const uid = uidOf(pod);
    if (type === 'DELETED') {
      this.#drop(uid, 'deleted');
      return;
    }
    const verdict = podVerdict(pod, this.#options.selection);
    if (verdict.kind === 'unselected' || verdict.kind === 'not_ready') {
      this.#drop(uid, verdict.kind);
      return;
    }
    const { registry, metrics, log } = this.#options;
    if (verdict.kind === 'invalid') {
      this.#drop(uid, 'not_ready');
      metrics.rejected('kubernetes', 'bad_annotation');
      this.#warnOnce(
        `${uid} ${verdict.message}`,
        { pod: podName(pod) },
        `kubernetes: pod ignored: ${verdict.message}`,
      );
      return;
    }
    const id = `${verdict.role}:${verdict.address.url}`;
    const current = this.#tracked.get(uid);
    if (current !== undefined && !current.removed) {
      if (current.id === id && current.address.zmq.text === verdict.address.zmq.text) {
        current.lastSeen = Date.now();
        return;
      }
      this.#drop(uid, 'replaced');
    }
    const existing = registry.get(id);
    if (existing !== undefined) {
      // Listed statically, registered over ZMQ or added by an admin: theirs to manage.
      existing.lastSeen = Date.now();
      return;
    }
    if (verdict.address.zmqFromHttp && this.#options.warnMissingZmq) {
      this.#warnOnce(
        `${uid} zmq`,
        { pod: podName(pod) },
        `kubernetes: pod ${podName(pod)} has no pd-router.io/zmq-address or pd-router.io/kv-port annotation; request ids will name its HTTP address as its P2P NCCL ZMQ address`,
      );
    }
    const cap = this.#options.maxWorkers;
    if (cap !== undefined && registry.countDiscovered() >= cap) {
      metrics.rejected('kubernetes', 'max_workers');
      this.#warnOnce(
        `${uid} max_workers`,
        { pod: podName(pod) },
        `kubernetes: pod ${podName(pod)} not added: discovery already holds ${cap} workers (--discovery-max-workers); it is considered again on its next change`,
      );
      return;
    }
    const worker = registry.add({
      role: verdict.role,
      spec: verdict.spec,
      address: verdict.address,
      source: 'kubernetes',
      pending: true,
    });
    worker.lastSeen = Date.now();
    this.#tracked.set(uid, worker);
    metrics.registration('kubernetes', verdict.role);
    log.info(
      { pod: podName(pod), worker: worker.url, role: worker.role, zmq: worker.address.zmq.text },
      'kubernetes: pod found; it joins the pools once it answers its health check',
    );
  }

  #drop(uid: string, reason: RemovalReason): void {
    const worker = this.#tracked.get(uid);
    if (worker === undefined) return;
    this.#tracked.delete(uid);
    if (worker.removed) return;
    this.#options.registry.remove(worker.id);
    this.#options.metrics.removal('kubernetes', worker.role, reason);
    this.#options.log.info(
      { worker: worker.url, role: worker.role, reason, inFlight: worker.inFlight },
      'kubernetes: pod leaves the pools (in-flight requests finish)',
    );
  }

  #warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#options.log.warn(fields, message);
  }

  /** Waits `ms`, or less if discovery stops. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stop.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  /** `promise`, or a rejection after `ms` or when discovery stops. */
  #bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = this.#stop.signal;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = (): void => fail(new Error('discovery stopped'));
      const timer = setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms);
      signal.addEventListener('abort', onAbort);
      promise.then(
        (value) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }
}

function uidOf(pod: PodLike): string {
  return pod.metadata?.uid ?? podName(pod);
}
