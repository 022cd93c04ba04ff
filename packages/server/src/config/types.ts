import type { WorkerAddress } from '@pd-router/core';

export type PolicyName =
  | 'round_robin'
  | 'random'
  | 'consistent_hash'
  | 'power_of_two'
  | 'cache_aware'
  | 'sticky_least_loaded'
  | 'rendezvous_hash'
  | 'pd_aware';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type KvConnectorName = 'p2p-nccl' | 'nixl' | 'mooncake';
/** What a NIXL request does when the prefill's answer has no usable `kv_transfer_params`. */
export type NixlOnMissingParams = 'recompute' | 'fail';

export interface WorkerConfig {
  /** As given on the command line or in the config file, for messages. */
  readonly spec: string;
  readonly address: WorkerAddress;
  /** vllm-router's `--prefill URL BOOTSTRAP_PORT`: kept for compatibility, unused by P2P NCCL. */
  readonly bootstrapPort?: number;
}

export interface CacheAwareConfig {
  /** Prefix match ratio above which a request goes by affinity (`--cache-threshold`, default 0.3 as vllm-router's CLI). */
  readonly cacheThreshold: number;
  /** Load imbalance (max - min in-flight) above which the least-loaded worker wins (`--balance-abs-threshold`, 64). */
  readonly balanceAbsThreshold: number;
  /** Relative imbalance (max > min * rel) above which the least-loaded worker wins (`--balance-rel-threshold`, 1.5). */
  readonly balanceRelThreshold: number;
  /** Maximum characters held per worker tree; LRU leaves are evicted beyond it (`--max-tree-size`, 2^24). */
  readonly maxTreeSize: number;
}

/** vLLM's P2P NCCL registration (`--vllm-discovery-address`): see docs/dynamic-workers.md. */
export interface ZmqDiscoveryConfig {
  /** Interface of the ZMQ ROUTER, as in `--vllm-discovery-address HOST:PORT`. */
  readonly host: string;
  /** Its port; 0 binds any free port (the bound endpoint is logged and exposed for tests). */
  readonly port: number;
  /** A registered worker silent for longer than this leaves the pools. */
  readonly ttlMs: number;
  /**
   * IPv4 CIDRs the sender's IP and the announced addresses must fall in (`--discovery-allow`);
   * empty: the private and loopback ranges (DEFAULT_DISCOVERY_ALLOW).
   */
  readonly allow: readonly string[];
  /** Messages a second one sender may send (`--discovery-rate-limit`; default 10). */
  readonly ratePerSender?: number;
}

/** Kubernetes pod discovery (`--service-discovery`): see docs/dynamic-workers.md. */
export interface KubernetesDiscoveryConfig {
  /** Namespace to watch; undefined: every namespace (as vllm-router). */
  readonly namespace: string | undefined;
  /** `key=value` labels every discovered pod must carry (sent to the API server as the label selector). */
  readonly selector: readonly string[];
  /** `key=value` labels of prefill pods. */
  readonly prefillSelector: readonly string[];
  /** `key=value` labels of decode pods. */
  readonly decodeSelector: readonly string[];
  /** HTTP port of the vLLM server in each pod (unless the pod's annotation says otherwise). */
  readonly port: number;
  /** A kubeconfig file; undefined: the in-cluster service account. */
  readonly kubeconfig: string | undefined;
}

/** Active health checks and the passive circuit breaker: see docs/dynamic-workers.md. */
export interface HealthConfig {
  /** Period of `GET /health` on every worker; 0: no active checks. */
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  /** Consecutive failed checks that take a worker out of the pools. */
  readonly failureThreshold: number;
  /** Consecutive good checks that bring it back. */
  readonly successThreshold: number;
  /** Consecutive failed requests that open a worker's circuit; 0: no circuit breaker. */
  readonly circuitFailureThreshold: number;
  /** How long an open circuit keeps the worker out before a half-open probe. */
  readonly circuitOpenMs: number;
  /** Good probes that close a half-open circuit (default 1). */
  readonly circuitSuccessThreshold?: number;
  /** Failures older than this no longer count toward opening (default: no limit). */
  readonly circuitWindowMs?: number;
  /** Path of the active check (default /health). */
  readonly checkPath?: string;
}

/** NIXL connector settings (docs/kv-connectors.md); ignored with P2P NCCL. */
export interface NixlConfig {
  /**
   * `recompute` (default, as vLLM's toy proxy): the decode gets the client's body without
   * `kv_transfer_params` and recomputes the prompt, counted and logged; `fail`: 502. A `null`
   * (vLLM: nothing held, e.g. the first token was EOS) always recomputes.
   */
  readonly onMissingParams: NixlOnMissingParams;
  /** Rewrite a loopback `remote_host` from a non-loopback prefill to that prefill's host. */
  readonly rewriteRemoteHost: boolean;
}

/** Admission control of the proxied routes (admission/admission.ts, docs/admission.md). */
export interface AdmissionConfig {
  /** Requests in flight at most; 0 or less: no cap. */
  readonly maxConcurrentRequests: number;
  /** Requests that may wait for a place; 0: none. */
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  /** Admissions per second; undefined: maxConcurrentRequests (no limit without a cap). */
  readonly rateLimitTokensPerSecond: number | undefined;
}

/** vllm-router's retries (retry/retry-policy.ts, docs/retries.md). */
export interface RetryConfig {
  /** Attempts in all, the first included (`--retry-max-retries`; `--disable-retries`: 1). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly jitterFactor: number;
}

/** Limits on client connections and request bodies (docs/configuration.md, Server). */
export interface IntakeConfig {
  /** Most client connections; 0: the open-files limit minus a reserve (resolveMaxConnections). */
  readonly maxConnections: number;
  readonly backlog: number;
  readonly keepAliveTimeoutMs: number;
  /** The whole body must arrive within this long. */
  readonly bodyTimeoutMs: number;
  /** Bytes per second over each 10 s window; 0: off. */
  readonly bodyMinRate: number;
  readonly maxJsonElements: number;
  /** Bytes of large bodies canonicalized at once. */
  readonly parseBudgetBytes: number;
}

/** The validated, deep-frozen router configuration. Produced once by loadConfig; never re-validated. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly prefill: readonly WorkerConfig[];
  readonly decode: readonly WorkerConfig[];
  readonly policy: PolicyName;
  readonly prefillPolicy: PolicyName;
  readonly decodePolicy: PolicyName;
  readonly cacheAware: CacheAwareConfig;
  /** pd_aware decode-first threshold in estimated tokens (`--decode-first-tokens`, 512; 0 = off; absent: 512). */
  readonly decodeFirstTokens?: number;
  readonly kvConnector: KvConnectorName;
  /** NIXL settings; loadConfig always sets it. Absent (hand-built configs): DEFAULT_NIXL_CONFIG. */
  readonly nixl?: NixlConfig;
  /** Relay vLLM's answer ids unchanged; absent/false: P2P NCCL ids lose their addresses (core's response-id.ts). */
  readonly keepVllmResponseId?: boolean;
  /** Admission control; loadConfig always sets it. Absent (hand-built configs): no cap, no queue. */
  readonly admission?: AdmissionConfig;
  /** vLLM data-parallel ranks per worker URL; > 1: each URL is that many workers (absent: 1). */
  readonly intraNodeDataParallelSize?: number;
  /** Retries of legs that failed before any byte reached the client; absent (hand-built configs): none. */
  readonly retry?: RetryConfig;
  /** `--request-timeout-secs`: the whole request's cap, in ms; absent: none. */
  readonly requestTimeoutMs?: number;
  /** Bytes; larger request bodies get 413 before they are buffered whole. */
  readonly maxPayloadSize: number;
  /** Budget for the whole prefill leg (connect + complete answer). */
  readonly prefillTimeoutMs: number;
  /** Budget from sending the decode request to its first response byte. */
  readonly decodeTtftTimeoutMs: number;
  /** Longest silence allowed between two chunks of a decode answer; no cap on total length. */
  readonly streamIdleTimeoutMs: number;
  /** Value of the upstream `Authorization: Bearer ...`; undefined: $OPENAI_API_KEY, else the literal "None". */
  readonly upstreamApiKey: string | undefined;
  /** Inbound keys accepted in `Authorization: Bearer`; empty: no auth. */
  readonly apiKeys: readonly string[];
  readonly adminApiKey: string | undefined;
  readonly logLevel: LogLevel;
  /** 0: /metrics on the main port; otherwise a separate listener on this port. */
  readonly prometheusPort: number;
  readonly prometheusHost: string;
  /** Max connections per upstream origin in its undici Pool. */
  readonly upstreamConnections: number;
  /** Grace period for in-flight requests on SIGTERM/SIGINT. */
  readonly shutdownTimeoutMs: number;
  /** Connection and body limits; loadConfig always sets it. Absent (hand-built configs): DEFAULT_INTAKE_CONFIG. */
  readonly intake?: IntakeConfig;
  /** ZMQ registration; absent: off. */
  readonly discovery?: ZmqDiscoveryConfig;
  /** Most workers discovery may hold, ZMQ and Kubernetes together (`--discovery-max-workers`; default 256). */
  readonly discoveryMaxWorkers?: number;
  /** Kubernetes pod discovery; absent: off. */
  readonly kubernetes?: KubernetesDiscoveryConfig;
  /** Health checks and circuit breaking; loadConfig always sets it. Absent (hand-built configs): both off. */
  readonly health?: HealthConfig;
}
