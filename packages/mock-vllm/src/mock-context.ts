import type { CheckContext, ConformanceChecker, Verdict } from './conformance/index.js';
import type { FaultBook } from './fault-book.js';
import type { KvInbox } from './kv-inbox.js';
import type { KvTransport } from './kv-transport.js';
import type { MockMetrics } from './metrics.js';
import type { MooncakeState } from './mooncake-connector.js';
import type { NixlState } from './nixl-connector.js';
import type { ResolvedOptions } from './options.js';
import type { PerfEngine } from './perf/engine.js';
import type { ReceivedRequest } from './received-request.js';
import type { SlotScheduler } from './slot-scheduler.js';

/** The state one mock instance shares between its routes. */
export interface MockContext {
  readonly options: ResolvedOptions;
  /** P2P NCCL transport (PULL socket on the KV port); undefined in NIXL mode. */
  readonly kv: KvTransport | undefined;
  /** NIXL connector (side channel on the KV port, held blocks); undefined in P2P NCCL mode. */
  readonly nixl: NixlState | undefined;
  /** Mooncake connector (side channel on the KV port, bootstrap server on a prefill); undefined otherwise. */
  readonly mooncake: MooncakeState | undefined;
  readonly inbox: KvInbox;
  readonly scheduler: SlotScheduler;
  /** The performance model (with --model-profile): queueing, batching and timing instead of the preset's. */
  readonly perf: PerfEngine | undefined;
  readonly metrics: MockMetrics;
  readonly faults: FaultBook;
  readonly received: ReceivedRequest[];
  readonly verdicts: Verdict[];
  readonly checker: ConformanceChecker | undefined;
  /** Extra context for every conformance check (the worker Host header is added per request). */
  readonly conformanceContext: CheckContext;
  /** Aborted by close(): ends every wait, hang and stream. */
  readonly closing: AbortController;
  /** "host:port" of the HTTP listener, once bound. */
  hostHeader: string;
  /** Completion requests being handled (vLLM's server_load). */
  inflight: number;
}
