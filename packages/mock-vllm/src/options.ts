import { randomUUID } from 'node:crypto';
import { parseZmqAddress } from '@pd-router/core';
import { MockVllmError } from './errors.js';
import { type FaultSpec, toFaultSpec } from './fault-spec.js';
import { type ResolvedPerf, resolvePerf } from './perf/perf-options.js';
import {
  isPresetName,
  PRESET_NAMES,
  type PresetName,
  TIMING_PRESETS,
  type TimingOptions,
} from './presets.js';
import { DEFAULT_REGISTER_INTERVAL_MS } from './registration.js';

/** `prefill` and `decode` take part in the P2P NCCL hand-off; `both` is a plain vLLM instance. */
export type MockRole = 'prefill' | 'decode' | 'both';

/** What a decode does when its KV never arrives: answer an error, or hang like vLLM's PUT mode. */
export type KvMode = 'error' | 'hang';

/**
 * The KV connector emulated by prefill/decode instances: `p2p-nccl` (addresses in the request id, KV
 * pushed to the decode), `nixl` (`kv_transfer_params` in the bodies, the decode reads from the prefill)
 * or `mooncake` (both legs at once, sharing a `transfer_id`; the decode finds the prefill through its
 * bootstrap server and pulls the KV).
 */
export type KvConnector = 'p2p-nccl' | 'nixl' | 'mooncake';

/** Options of `createMockVllm`. Every field is optional; defaults are listed in the README. */
export interface MockVllmOptions {
  /** Default 'both'. */
  readonly role?: MockRole;
  /** Interface to listen on (HTTP and KV). Default '127.0.0.1'. */
  readonly host?: string;
  /** HTTP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** KV (ZMQ) port; 0 (default) picks a free one. */
  readonly kvPort?: number;
  /** Host written into `url`, `kvAddress` and registration. Default: `host`, or 127.0.0.1 for 0.0.0.0. */
  readonly advertiseHost?: string;
  /** Served model name. Default 'mock-model'. */
  readonly model?: string;
  /** Answer 404 (vLLM's NotFoundError) when a request names another model. Default false. */
  readonly strictModel?: boolean;
  /** Require `Authorization: Bearer <apiKey>` on /v1 routes, as `vllm serve --api-key`. Default none. */
  readonly apiKey?: string;
  /** Timing preset. Default 'instant'. */
  readonly preset?: PresetName;
  /** Overrides of single preset fields. */
  readonly timing?: Partial<TimingOptions>;
  /** Take part in the P2P NCCL KV hand-off. Default true for prefill/decode; must be false for 'both'. */
  readonly kvHandoff?: boolean;
  /** How long a decode waits for its KV. Default 30_000 ms. */
  readonly kvWaitTimeoutMs?: number;
  /** Default 'error'. */
  readonly kvMode?: KvMode;
  /** KV connector to emulate. Default 'p2p-nccl'. */
  readonly kvConnector?: KvConnector;
  /** NIXL: `remote_host` a prefill answers, as vLLM's VLLM_NIXL_SIDE_CHANNEL_HOST. Default 'localhost'. */
  readonly nixlSideChannelHost?: string;
  /** NIXL: `remote_port` a prefill answers. Default: the KV port, where the side channel listens. */
  readonly nixlSideChannelPort?: number;
  /** NIXL: how long a prefill holds blocks no decode has read, as VLLM_NIXL_ABORT_REQUEST_TIMEOUT. Default 480_000 ms. */
  readonly nixlBlockTtlMs?: number;
  /** NIXL: how long a decode waits for the prefill's side channel to answer a read. Default 5_000 ms. */
  readonly nixlReadTimeoutMs?: number;
  /** NIXL: this instance's `remote_engine_id`; Mooncake: the engine id of DP rank 0 (rank r > 0 is
   * `{id}_dp{r}`). Default: a random uuid4, as vLLM's engine_id. */
  readonly nixlEngineId?: string;
  /** Mooncake prefill: port of its bootstrap server (`GET /query`); 0 (default) picks a free one. vLLM's is
   * VLLM_MOONCAKE_BOOTSTRAP_PORT, 8998 by default. */
  readonly mooncakeBootstrapPort?: number;
  /** Mooncake: data-parallel ranks of this instance (`X-data-parallel-rank` 0..N-1), one engine id each. Default 1. */
  readonly mooncakeDpSize?: number;
  /** Mooncake: the engine id of each DP rank, overriding the derived ones (length = `mooncakeDpSize`). */
  readonly mooncakeEngineIds?: readonly string[];
  /** Mooncake: VLLM_MOONCAKE_ABORT_REQUEST_TIMEOUT: how long a prefill holds KV no decode pulled, and how
   * long it holds a pull for a transfer it does not have. Default 480_000 ms. */
  readonly mooncakeAbortTimeoutMs?: number;
  /**
   * Emulate vLLM >= PR #27987: each instance appends 8 random hex chars to the engine request id, so
   * prefill and decode never agree and the decode times out (or hangs). Default false.
   */
  readonly requestIdRandomization?: boolean;
  /** Faults active from the start. */
  readonly faults?: readonly FaultSpec[];
  /** Golden fixtures directory: every completion request is checked and a verdict recorded. */
  readonly fixtures?: string;
  /** Register with a P2P NCCL proxy at this ZMQ ROUTER ("host:port"). Prefill/decode only. */
  readonly proxyAddress?: string;
  /** Interval of registration pings. Default 3_000 ms (vLLM's). */
  readonly registerIntervalMs?: number;
  /** Tokens generated when a request sets no limit. Default 16. */
  readonly defaultMaxTokens?: number;
  /** Context window: prompt + max tokens beyond it is a 400. Default 32_768. */
  readonly maxModelLen?: number;
  /** Received requests kept in `received` (oldest dropped). Default 10_000. */
  readonly maxReceived?: number;
  /** Largest request body accepted (413 beyond). Default 64 MiB. */
  readonly maxBodyBytes?: number;
  /** Performance model profile (e.g. 'llama-3.1-8b-h100'); replaces the timing preset. Default none. */
  readonly modelProfile?: string;
  /** Performance model: model milliseconds per wall millisecond (10 = ten times faster). Default 1. */
  readonly timeScale?: number;
  /** Performance model: KV cache size in tokens. Default: derived from the profile's GPU memory. */
  readonly kvCacheTokens?: number;
}

/** Options after defaults and validation: what the server runs with. */
export interface ResolvedOptions {
  readonly role: MockRole;
  readonly host: string;
  readonly port: number;
  readonly kvPort: number;
  readonly advertiseHost: string;
  readonly model: string;
  readonly strictModel: boolean;
  readonly apiKey: string | undefined;
  readonly preset: PresetName;
  readonly timing: TimingOptions;
  readonly kvHandoff: boolean;
  readonly kvWaitTimeoutMs: number;
  readonly kvMode: KvMode;
  readonly kvConnector: KvConnector;
  readonly nixlSideChannelHost: string;
  /** Undefined: the bound KV port. */
  readonly nixlSideChannelPort: number | undefined;
  readonly nixlBlockTtlMs: number;
  readonly nixlReadTimeoutMs: number;
  readonly nixlEngineId: string;
  readonly mooncakeBootstrapPort: number;
  /** One per DP rank (rank = index). */
  readonly mooncakeEngineIds: readonly string[];
  readonly mooncakeAbortTimeoutMs: number;
  readonly requestIdRandomization: boolean;
  readonly faults: readonly FaultSpec[];
  readonly fixtures: string | undefined;
  readonly proxyAddress: string | undefined;
  readonly registerIntervalMs: number;
  readonly defaultMaxTokens: number;
  readonly maxModelLen: number;
  readonly maxReceived: number;
  readonly maxBodyBytes: number;
  /** The performance model, when a profile is set. */
  readonly perf: ResolvedPerf | undefined;
  /** Prompt tokens are whitespace-separated words (set with a profile). */
  readonly wordTokens: boolean;
}

export const DEFAULT_MODEL = 'mock-model';
export const DEFAULT_KV_WAIT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_TOKENS = 16;
export const DEFAULT_MAX_MODEL_LEN = 32_768;
export const DEFAULT_MAX_RECEIVED = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** vLLM's VLLM_NIXL_SIDE_CHANNEL_HOST default. */
export const DEFAULT_NIXL_SIDE_CHANNEL_HOST = 'localhost';
/** vLLM's VLLM_NIXL_ABORT_REQUEST_TIMEOUT default (480 s). */
export const DEFAULT_NIXL_BLOCK_TTL_MS = 480_000;
export const DEFAULT_NIXL_READ_TIMEOUT_MS = 5_000;
/** vLLM's VLLM_MOONCAKE_ABORT_REQUEST_TIMEOUT default (480 s). */
export const DEFAULT_MOONCAKE_ABORT_TIMEOUT_MS = 480_000;

const ROLES: readonly MockRole[] = ['prefill', 'decode', 'both'];
export const KV_CONNECTORS: readonly KvConnector[] = ['p2p-nccl', 'nixl', 'mooncake'];

/**
 * Applies defaults and checks every option, reporting all problems at once
 * (`PD_ERR_MOCK_OPTION_INVALID`).
 *
 * @example
 * resolveOptions({ role: 'decode', preset: 'realistic', timing: { interTokenMs: 5 } })
 */
export function resolveOptions(o: MockVllmOptions = {}): ResolvedOptions {
  const issues: string[] = [];
  const role = o.role ?? 'both';
  if (!ROLES.includes(role)) issues.push(`role: must be one of ${ROLES.join(', ')}`);
  const preset = o.preset ?? 'instant';
  if (!isPresetName(preset)) issues.push(`preset: must be one of ${PRESET_NAMES.join(', ')}`);
  const timing: TimingOptions = {
    ...(TIMING_PRESETS[preset] ?? TIMING_PRESETS.instant),
    ...definedOnly(o.timing),
  };
  for (const [key, value] of Object.entries(timing)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      issues.push(`timing.${key}: must be a finite number >= 0`);
    }
  }
  const port = o.port ?? 0;
  const kvPort = o.kvPort ?? 0;
  for (const [name, value] of [
    ['port', port],
    ['kvPort', kvPort],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 65_535)
      issues.push(`${name}: must be an integer 0-65535`);
  }
  const kvHandoff = o.kvHandoff ?? role !== 'both';
  if (role === 'both' && kvHandoff)
    issues.push('kvHandoff: a "both" instance has no KV peer; use prefill/decode');
  const kvConnector = o.kvConnector ?? 'p2p-nccl';
  // vLLM's Mooncake decode never gives up on a transfer that failed: it waits until the client leaves.
  const kvMode = o.kvMode ?? (kvConnector === 'mooncake' ? 'hang' : 'error');
  if (kvMode !== 'error' && kvMode !== 'hang') issues.push('kvMode: must be "error" or "hang"');
  if (!KV_CONNECTORS.includes(kvConnector))
    issues.push(`kvConnector: must be one of ${KV_CONNECTORS.join(', ')}`);
  const nixlSideChannelHost = o.nixlSideChannelHost ?? DEFAULT_NIXL_SIDE_CHANNEL_HOST;
  if (typeof nixlSideChannelHost !== 'string' || nixlSideChannelHost === '')
    issues.push('nixlSideChannelHost: must be a non-empty string');
  const nixlSideChannelPort = o.nixlSideChannelPort;
  if (
    nixlSideChannelPort !== undefined &&
    (!Number.isInteger(nixlSideChannelPort) || nixlSideChannelPort < 1 || nixlSideChannelPort > 65_535)
  )
    issues.push('nixlSideChannelPort: must be an integer 1-65535');
  const nixlEngineId = o.nixlEngineId ?? randomUUID();
  if (typeof nixlEngineId !== 'string' || nixlEngineId === '')
    issues.push('nixlEngineId: must be a non-empty string');
  const mooncakeBootstrapPort = o.mooncakeBootstrapPort ?? 0;
  if (!Number.isInteger(mooncakeBootstrapPort) || mooncakeBootstrapPort < 0 || mooncakeBootstrapPort > 65_535)
    issues.push('mooncakeBootstrapPort: must be an integer 0-65535');
  const dpSize = o.mooncakeDpSize ?? o.mooncakeEngineIds?.length ?? 1;
  if (!Number.isInteger(dpSize) || dpSize < 1 || dpSize > 1024)
    issues.push('mooncakeDpSize: must be an integer 1-1024');
  const mooncakeEngineIds =
    o.mooncakeEngineIds ??
    Array.from({ length: Math.max(1, Math.min(dpSize, 1024) || 1) }, (_, r) =>
      r === 0 ? nixlEngineId : `${nixlEngineId}_dp${r}`,
    );
  if (
    mooncakeEngineIds.length !== dpSize ||
    mooncakeEngineIds.some((id) => typeof id !== 'string' || id === '')
  )
    issues.push('mooncakeEngineIds: must hold one non-empty string per DP rank');
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0) issues.push(`${name}: must be a number > 0`);
    return v;
  };
  const kvWaitTimeoutMs = positive('kvWaitTimeoutMs', o.kvWaitTimeoutMs, DEFAULT_KV_WAIT_TIMEOUT_MS);
  const registerIntervalMs = positive(
    'registerIntervalMs',
    o.registerIntervalMs,
    DEFAULT_REGISTER_INTERVAL_MS,
  );
  const defaultMaxTokens = positive('defaultMaxTokens', o.defaultMaxTokens, DEFAULT_MAX_TOKENS);
  const perf = resolvePerf(o, issues);
  const maxModelLen = positive(
    'maxModelLen',
    o.maxModelLen,
    perf?.profile.maxModelLen ?? DEFAULT_MAX_MODEL_LEN,
  );
  const maxReceived = positive('maxReceived', o.maxReceived, DEFAULT_MAX_RECEIVED);
  const maxBodyBytes = positive('maxBodyBytes', o.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const nixlBlockTtlMs = positive('nixlBlockTtlMs', o.nixlBlockTtlMs, DEFAULT_NIXL_BLOCK_TTL_MS);
  const nixlReadTimeoutMs = positive('nixlReadTimeoutMs', o.nixlReadTimeoutMs, DEFAULT_NIXL_READ_TIMEOUT_MS);
  const mooncakeAbortTimeoutMs = positive(
    'mooncakeAbortTimeoutMs',
    o.mooncakeAbortTimeoutMs,
    DEFAULT_MOONCAKE_ABORT_TIMEOUT_MS,
  );
  if (o.proxyAddress !== undefined) {
    if (role === 'both') issues.push('proxyAddress: only prefill and decode instances register');
    const parsed = parseZmqAddress(o.proxyAddress);
    if (!parsed.ok) issues.push(`proxyAddress: ${parsed.error.message}`);
  }
  const faults: FaultSpec[] = [];
  for (const [i, f] of (o.faults ?? []).entries()) {
    try {
      faults.push(toFaultSpec(f));
    } catch (e) {
      issues.push(`faults[${i}]: ${(e as Error).message}`);
    }
  }
  const host = o.host ?? '127.0.0.1';
  if (issues.length > 0) {
    throw new MockVllmError(
      'PD_ERR_MOCK_OPTION_INVALID',
      `invalid mock-vllm options:\n  ${issues.join('\n  ')}`,
    );
  }
  return Object.freeze({
    role,
    host,
    port,
    kvPort,
    advertiseHost: o.advertiseHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host),
    model: o.model ?? DEFAULT_MODEL,
    strictModel: o.strictModel ?? false,
    apiKey: o.apiKey,
    preset,
    timing: Object.freeze(timing),
    kvHandoff,
    kvWaitTimeoutMs,
    kvMode,
    kvConnector,
    nixlSideChannelHost,
    nixlSideChannelPort,
    nixlBlockTtlMs,
    nixlReadTimeoutMs,
    nixlEngineId,
    mooncakeBootstrapPort,
    mooncakeEngineIds: Object.freeze([...mooncakeEngineIds]),
    mooncakeAbortTimeoutMs,
    requestIdRandomization: o.requestIdRandomization ?? false,
    faults: Object.freeze(faults),
    fixtures: o.fixtures,
    proxyAddress: o.proxyAddress,
    registerIntervalMs,
    defaultMaxTokens,
    maxModelLen,
    maxReceived,
    maxBodyBytes,
    perf,
    wordTokens: perf !== undefined,
  });
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (value === undefined) return out;
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
