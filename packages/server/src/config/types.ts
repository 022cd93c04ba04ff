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
/**
 * Active health checks and the circuit breaker, resolved from the -secs flags and their -ms
 * aliases: a circuit failure threshold of 0 is no circuit breaker; absent, the circuit closes
 * after one good probe and failures never expire.
 */
export type HealthConfig = Frozen<
  Required<ConfigValues['health']> & {
    checkPath?: string;
    circuitSuccessThreshold?: number;
    circuitWindowMs?: number;
  }
>;
/** Admission control of the proxied routes (admission/admission.ts, docs/admission.md). */
export type AdmissionConfig = Frozen<
  Omit<ConfigValues['admission'], 'queueTimeoutSecs' | 'rateLimitTokensPerSecond'> & {
    queueTimeoutMs: number;
    /** Admissions per second; undefined: maxConcurrentRequests (no limit without a cap). */
    rateLimitTokensPerSecond: number | undefined;
  }
>;
/** vllm-router's retries (retry/retry-policy.ts, docs/retries.md); maxAttempts counts the first. */
export type RetryConfig = Frozen<
  Omit<ConfigValues['retry'], 'maxRetries' | 'disabled'> & { maxAttempts: number }
>;

export interface WorkerConfig {
  /** As given on the command line or in the config file, for messages. */
  readonly spec: string;
  readonly address: WorkerAddress;
  /** vllm-router's `--prefill URL BOOTSTRAP_PORT`: kept for compatibility, unused by P2P NCCL. */
  readonly bootstrapPort?: number;
}

/** vLLM's P2P NCCL registration: the schema's `discovery` with its HOST:PORT split (port 0: any free port). */
export type ZmqDiscoveryConfig = Frozen<
  Pick<ConfigValues['discovery'], 'allow' | 'ttlMs'> & { host: string; port: number; ratePerSender?: number }
>;

/** Kubernetes pod discovery: the schema's `kubernetes`, in a Config only when enabled (undefined: all namespaces, in-cluster account). */
export type KubernetesDiscoveryConfig = Frozen<
  Omit<ConfigValues['kubernetes'], 'enabled' | 'namespace' | 'kubeconfig'> & {
    namespace: string | undefined;
    kubeconfig: string | undefined;
  }
>;

/** Resolved by loadConfig from the file shape, or absent from it. */
type Resolved =
  | 'retry'
  | 'admission'
  | 'requestTimeoutSecs'
  | 'discovery'
  | 'kubernetes'
  | '$schema'
  | 'health';
/** Settings newer than most hand-built test configs: optional in the type, always set by loadConfig. */
type Later = Exclude<keyof ConfigValues, Resolved | Earlier | keyof Resolutions>;
type Earlier =
  | 'host'
  | 'port'
  | 'policy'
  | 'cacheAware'
  | 'maxPayloadSize'
  | 'prefillTimeoutMs'
  | 'decodeTtftTimeoutMs'
  | 'streamIdleTimeoutMs'
  | 'apiKeys'
  | 'logLevel'
  | 'prometheusPort'
  | 'prometheusHost'
  | 'upstreamConnections'
  | 'shutdownTimeoutMs';
type Resolutions = {
  /** Resolved from the worker specs when not given (see --kv-connector). */
  kvConnector: KvConnectorName;
  prefill: WorkerConfig[];
  decode: WorkerConfig[];
  prefillPolicy: PolicyName;
  decodePolicy: PolicyName;
  /** Value of the upstream `Authorization: Bearer ...`; undefined: $OPENAI_API_KEY, else the literal "None". */
  upstreamApiKey: string | undefined;
  adminApiKey: string | undefined;
};

/**
 * The validated, deep-frozen router configuration: the config file's shape (ConfigValues) with
 * what loadConfig resolves: parsed worker specs, inherited pool policies, and the discovery
 * sections present only when on. Hand-built configs may leave out the newer settings (absent:
 * DEFAULT_NIXL_CONFIG, no health checks or circuit breaking, no admission cap, one attempt, no
 * request cap, no discovery).
 */
export type Config = Frozen<
  Pick<ConfigValues, Earlier> &
    Partial<Pick<ConfigValues, Later>> &
    Resolutions & {
      health?: HealthConfig;
      admission?: AdmissionConfig;
      retry?: RetryConfig;
      requestTimeoutMs?: number;
      /** Most workers discovery may hold, ZMQ and Kubernetes together (`--discovery-max-workers`). */
      discoveryMaxWorkers?: number;
      discovery?: ZmqDiscoveryConfig;
      kubernetes?: KubernetesDiscoveryConfig;
    }
>;
