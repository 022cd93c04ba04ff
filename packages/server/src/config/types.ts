import type { WorkerAddress } from '@pd-router/core';

export type PolicyName = 'round_robin' | 'random' | 'consistent_hash' | 'power_of_two' | 'cache_aware';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type KvConnectorName = 'p2p-nccl' | 'nixl';

export interface WorkerConfig {
  /** As given on the command line or in the config file, for messages. */
  readonly spec: string;
  readonly address: WorkerAddress;
  /** vllm-router's `--prefill URL BOOTSTRAP_PORT`: kept for compatibility, unused by P2P NCCL. */
  readonly bootstrapPort?: number;
}

export interface CacheAwareConfig {
  /** Minimum prefix match ratio to route by affinity (vllm-router `--cache-threshold`, default 0.5). */
  readonly cacheThreshold: number;
  /** Load imbalance (max - min in-flight) above which the least-loaded worker wins (`--balance-abs-threshold`, 32). */
  readonly balanceAbsThreshold: number;
  /** Relative imbalance (max > min * rel) above which the least-loaded worker wins (`--balance-rel-threshold`, 1.1). */
  readonly balanceRelThreshold: number;
  /** Maximum characters held per worker tree before eviction (`--max-tree-size`). */
  readonly maxTreeSize: number;
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
  readonly kvConnector: KvConnectorName;
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
}
