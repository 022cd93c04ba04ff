import type { WorkerAddress } from '@pd-router/core';
import type { ConfigValues } from './schema.js';

/** Readonly all the way down: a loaded Config is deep-frozen. */
type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

export type PolicyName = ConfigValues['policy'];
export type LogLevel = ConfigValues['logLevel'];
export type KvConnectorName = NonNullable<ConfigValues['kvConnector']>;
export type CacheAwareConfig = Frozen<ConfigValues['cacheAware']>;
export type NixlConfig = Frozen<ConfigValues['nixl']>;
/** What a NIXL request does when the prefill's answer has no usable `kv_transfer_params`. */
export type NixlOnMissingParams = NixlConfig['onMissingParams'];
/** Active health checks and the circuit breaker, resolved from the -secs flags and their -ms aliases. */
export interface HealthConfig {
  /** Period of the active checks; 0: none. */
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  /** Path of the active check (default /health). */
  readonly checkPath?: string;
  /** Consecutive failed checks that take a worker out of the pools. */
  readonly failureThreshold: number;
  /** Consecutive good checks that bring it back. */
  readonly successThreshold: number;
  /** Failed requests that open a worker's circuit; 0: no circuit breaker. */
  readonly circuitFailureThreshold: number;
  /** Good probes that close a half-open circuit (default 1). */
  readonly circuitSuccessThreshold?: number;
  /** How long an open circuit keeps the worker out before a half-open probe. */
  readonly circuitOpenMs: number;
  /** Failures older than this no longer count toward opening (default: no limit). */
  readonly circuitWindowMs?: number;
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
export type IntakeConfig = Frozen<ConfigValues['intake']>;

export interface WorkerConfig {
  /** As given on the command line or in the config file, for messages. */
  readonly spec: string;
  readonly address: WorkerAddress;
  /** vllm-router's `--prefill URL BOOTSTRAP_PORT`: kept for compatibility, unused by P2P NCCL. */
  readonly bootstrapPort?: number;
}

/** vLLM's P2P NCCL registration: the schema's `discovery` with its HOST:PORT split (port 0: any free port). */
export type ZmqDiscoveryConfig = Frozen<
  Omit<ConfigValues['discovery'], 'address' | 'maxWorkers' | 'rateLimit'> & {
    host: string;
    port: number;
    /** Messages a second one sender may send (`--discovery-rate-limit`; default 10). */
    ratePerSender?: number;
  }
>;

/** Kubernetes pod discovery: the schema's `kubernetes`, in a Config only when enabled (undefined: all namespaces, in-cluster account). */
export type KubernetesDiscoveryConfig = Frozen<
  Omit<ConfigValues['kubernetes'], 'enabled' | 'namespace' | 'kubeconfig'> & {
    namespace: string | undefined;
    kubeconfig: string | undefined;
  }
>;

type Resolved =
  | 'retry'
  | 'admission'
  | 'requestTimeoutSecs'
  | 'prefill'
  | 'decode'
  | 'prefillPolicy'
  | 'decodePolicy'
  | 'discovery'
  | 'kubernetes'
  | 'kvConnector';
/** Settings newer than most hand-built test configs: optional in the type, always set by loadConfig. */
type Later =
  | 'decodeFirstTokens'
  | 'intake'
  | 'logFormat'
  | 'logDir'
  | 'requestIdHeaders'
  | 'corsAllowedOrigins'
  | 'backend'
  | 'keyValidation'
  | 'startup'
  | 'healthCheck'
  | 'circuitBreaker'
  | 'intraNodeDataParallelSize'
  | 'keepVllmResponseId'
  | 'tracing';

/**
 * The validated, deep-frozen router configuration: the config file's shape (ConfigValues) with
 * what loadConfig resolves: parsed worker specs, inherited pool policies, and the discovery
 * sections present only when on. `nixl` and `health` are optional for hand-built configs
 * (absent: DEFAULT_NIXL_CONFIG, and health checks and circuit breaking off).
 */
export type Config = Frozen<
  Omit<ConfigValues, Resolved | Later | '$schema' | 'nixl' | 'health' | 'upstreamApiKey' | 'adminApiKey'> &
    Partial<Pick<ConfigValues, Later>> & {
      /** Resolved from the worker specs when not given (see --kv-connector). */
      kvConnector: KvConnectorName;
      prefill: WorkerConfig[];
      decode: WorkerConfig[];
      prefillPolicy: PolicyName;
      decodePolicy: PolicyName;
      nixl?: NixlConfig;
      health?: HealthConfig;
      /** Admission control; absent (hand-built configs): no cap, no queue. */
      admission?: AdmissionConfig;
      /** Retries; absent (hand-built configs): one attempt. */
      retry?: RetryConfig;
      /** Cap on a whole request (`--request-timeout-secs`); absent: none. */
      requestTimeoutMs?: number;
      /** Most workers discovery may hold, ZMQ and Kubernetes together (`--discovery-max-workers`; default 256). */
      discoveryMaxWorkers?: number;
      /** ZMQ registration; absent: off. */
      discovery?: ZmqDiscoveryConfig;
      /** Kubernetes pod discovery; absent: off. */
      kubernetes?: KubernetesDiscoveryConfig;
      /** Value of the upstream `Authorization: Bearer ...`; undefined: $OPENAI_API_KEY, else the literal "None". */
      upstreamApiKey: string | undefined;
      adminApiKey: string | undefined;
    }
>;
