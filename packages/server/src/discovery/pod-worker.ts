import { parseWorkerUrl, parseZmqAddress, type WorkerAddress } from '@pd-router/core';
import type { WorkerRole } from '../workers/worker.js';
import { type LabelRequirement, matchesLabels } from './label-selector.js';

const ZMQ_UNUSED = { zmqUnused: true } as const;

/** Pod annotation with the worker's P2P NCCL ZMQ address, `host:port`. */
export const ZMQ_ADDRESS_ANNOTATION = 'pd-router.io/zmq-address';
/** Pod annotation with the kv port alone; the ZMQ address is then `podIP:port`. */
export const KV_PORT_ANNOTATION = 'pd-router.io/kv-port';
/** Pod annotation overriding `--service-discovery-port` for this pod. */
export const HTTP_PORT_ANNOTATION = 'pd-router.io/http-port';

/** Which pods are workers, and in which pool. */
export interface PodSelection {
  /** Required of every pod (also sent to the API server). */
  readonly selector: readonly LabelRequirement[];
  readonly prefillSelector: readonly LabelRequirement[];
  readonly decodeSelector: readonly LabelRequirement[];
  /** HTTP port of vLLM unless the pod's annotation says otherwise. */
  readonly port: number;
  /** NIXL: no ZMQ address is needed, so IPv6 pod IPs are fine (P2P NCCL ids carry `host:port`). */
  readonly zmqUnused?: boolean;
}

/** What a pod means for the pools. */
export type PodVerdict =
  /** Not a worker (no role selector matches). */
  | { readonly kind: 'unselected' }
  /** A worker that must not get traffic now (no IP, not Ready, terminating, not Running). */
  | { readonly kind: 'not_ready' }
  /** A worker pod with an unusable annotation. */
  | { readonly kind: 'invalid'; readonly message: string }
  | {
      readonly kind: 'ready';
      readonly role: WorkerRole;
      readonly spec: string;
      readonly address: WorkerAddress;
    };

/** The fields of a v1 Pod that discovery reads (from a list, or a watch event's raw JSON). */
export interface PodLike {
  readonly metadata?: {
    readonly uid?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
    readonly resourceVersion?: string;
  };
  readonly status?: {
    readonly podIP?: string;
    readonly phase?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
  };
}

/** `namespace/name`, for logs. */
export function podName(pod: PodLike): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? pod.metadata?.uid ?? '?'}`;
}

/**
 * Decides what one pod is: a ready prefill or decode worker (with its addresses), a worker that
 * is not ready, a worker whose annotations are unusable, or no worker at all. A pod matching both
 * role selectors is a prefill worker, as in vllm-router. Ready means: Running, a pod IP, the Ready
 * condition True, and no deletion timestamp (a terminating pod is draining and gets no new work).
 *
 * @example
 * podVerdict(pod, { selector: [], prefillSelector: [{ key: 'role', value: 'prefill' }], decodeSelector: [], port: 8000 });
 */
export function podVerdict(pod: PodLike, selection: PodSelection): PodVerdict {
  const labels = pod.metadata?.labels;
  if (selection.selector.length > 0 && !matchesLabels(labels, selection.selector))
    return { kind: 'unselected' };
  const role: WorkerRole | undefined = matchesLabels(labels, selection.prefillSelector)
    ? 'prefill'
    : matchesLabels(labels, selection.decodeSelector)
      ? 'decode'
      : undefined;
  if (role === undefined) return { kind: 'unselected' };
  const status = pod.status;
  const ip = status?.podIP;
  const ready = status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const terminating =
    pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null;
  if (ip === undefined || ip === '' || !ready || terminating || status?.phase !== 'Running') {
    return { kind: 'not_ready' };
  }
  const annotations = pod.metadata?.annotations ?? {};
  let port = selection.port;
  const httpPort = annotations[HTTP_PORT_ANNOTATION];
  if (httpPort !== undefined) {
    const parsed = parsePort(httpPort);
    if (parsed === undefined) return invalid(HTTP_PORT_ANNOTATION, httpPort, 'is not a port (1-65535)');
    port = parsed;
  }
  let zmq: string | undefined;
  const zmqAnnotation = annotations[ZMQ_ADDRESS_ANNOTATION];
  const kvPort = annotations[KV_PORT_ANNOTATION];
  if (zmqAnnotation !== undefined) {
    const parsed = parseZmqAddress(zmqAnnotation);
    if (!parsed.ok) return invalid(ZMQ_ADDRESS_ANNOTATION, zmqAnnotation, parsed.error.message);
    zmq = parsed.value.text;
  } else if (kvPort !== undefined) {
    const parsed = parsePort(kvPort);
    if (parsed === undefined) return invalid(KV_PORT_ANNOTATION, kvPort, 'is not a port (1-65535)');
    zmq = `${ip}:${parsed}`;
  }
  // An IPv6 pod IP goes in brackets in a URL.
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const spec = zmq === undefined ? `http://${host}:${port}` : `http://${host}:${port}:zmq://${zmq}`;
  const address = parseWorkerUrl(spec, selection.zmqUnused === true ? ZMQ_UNUSED : undefined);
  if (!address.ok) return { kind: 'invalid', message: `pod IP ${ip}: ${address.error.message}` };
  return { kind: 'ready', role, spec, address: address.value };
}

function parsePort(text: string): number | undefined {
  if (!/^[1-9]\d{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65_535 ? port : undefined;
}

function invalid(annotation: string, value: string, why: string): PodVerdict {
  return { kind: 'invalid', message: `annotation ${annotation}: ${JSON.stringify(value)} ${why}` };
}
