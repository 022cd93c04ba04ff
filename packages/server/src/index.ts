// The public API of @pd-router/server, listed by hand: anything not exported here is private.

export type { BuildServerDeps } from './app.js';
export { buildServer } from './app.js';
export type { ConfigIssue } from './config/config-error.js';
export { CONFIG_ERROR_CODES, ConfigError } from './config/config-error.js';
export type { Env, LoadConfigOptions, LoadConfigResult } from './config/load.js';
export { loadConfig, resolveConfig } from './config/load.js';
export type {
  CacheAwareConfig,
  Config,
  HealthConfig,
  KubernetesDiscoveryConfig,
  KvConnectorName,
  LogLevel,
  NixlConfig,
  NixlOnMissingParams,
  PolicyName,
  WorkerConfig,
  ZmqDiscoveryConfig,
} from './config/types.js';
export type { NixlConnectorOptions } from './connectors/nixl.js';
export { createNixlConnector } from './connectors/nixl.js';
export type { NixlRecomputeReason } from './connectors/nixl-params.js';
export type { DecodeRequest, KvConnector, PreparedRequest } from './connectors/types.js';
export type { OpenAiErrorType, ServerErrorCode, ServerErrorOptions } from './errors.js';
export { openAiErrorBody, SERVER_ERROR_CODES, ServerError } from './errors.js';
export type { PairSelectorOptions } from './policies/pair-selector.js';
export { createPairSelector } from './policies/pair-selector.js';
export type { PairChoice, PairSelector, RoutingRequest, WorkerView } from './policies/types.js';
export { VERSION } from './version.js';
