// The public API of @pd-router/mock-vllm, listed by hand: anything not exported here is private.

export type {
  ConformanceChecker,
  ExchangeOptions,
  ExchangeOrder,
  ExchangeVerdict,
  FixturesErrorCode,
  GoldenAnswer,
} from './conformance/index.js';
export {
  BOOTSTRAP_PLACEHOLDER,
  checkExchange,
  compareRequest,
  createConformanceChecker,
  FixturesError,
  formatDiff,
  goldenPrefillAnswer,
  loadGoldenCases,
  rawRequestFromCapture,
} from './conformance/index.js';
// Every type of the golden-case model (Check, GoldenCase, RawRequest, Verdict, ...) is public.
export type * from './conformance/types.js';
export type { VllmErrorBody } from './error-body.js';
export { vllmErrorBody } from './error-body.js';
export type { MockErrorCode } from './errors.js';
export { MOCK_ERROR_CODES, MockVllmError } from './errors.js';
export type { FaultKind, FaultScope, FaultSpec } from './fault-spec.js';
export { parseFaultArg, toFaultSpec } from './fault-spec.js';
export { KV_READY_PREFIX } from './kv-transport.js';
export type { MockCluster, MockClusterOptions } from './mock-cluster.js';
export { createDecodeServer, createMockCluster, createPrefillServer } from './mock-cluster.js';
export type { MockVllm, MockVllmExtras } from './mock-server.js';
export { createMockVllm } from './mock-server.js';
export type { MooncakePath, MooncakeReason, MooncakeRecord } from './mooncake-types.js';
export { MOONCAKE_FAILURE_REASONS } from './mooncake-types.js';
export type { MswHandlerOptions, MswHttpLike } from './msw-handlers.js';
export { createMswHandlers } from './msw-handlers.js';
export { NIXL_BLOCK_SIZE } from './nixl-params.js';
export type { NixlPath, NixlReadResult, NixlRecomputeReason, NixlRecord } from './nixl-types.js';
export { NIXL_RECOMPUTE_REASONS } from './nixl-types.js';
export type { KvConnector, KvMode, MockRole, MockVllmOptions } from './options.js';
export {
  DEFAULT_KV_WAIT_TIMEOUT_MS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MODEL,
  DEFAULT_MOONCAKE_ABORT_TIMEOUT_MS,
  DEFAULT_NIXL_BLOCK_TTL_MS,
  DEFAULT_NIXL_SIDE_CHANNEL_HOST,
} from './options.js';
export type { PerfProfile } from './perf/profile.js';
export { kvCapacityTokens, PERF_PROFILE_NAMES, PERF_PROFILES } from './perf/profile.js';
export type { PresetName, TimingOptions } from './presets.js';
export { TIMING_PRESETS } from './presets.js';
export type { ReceivedRequest } from './received-request.js';
export type { RegistrationMessage } from './registration.js';
export { DEFAULT_REGISTER_INTERVAL_MS } from './registration.js';
