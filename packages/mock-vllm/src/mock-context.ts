import type { CheckContext, ConformanceChecker, Verdict } from './conformance/index.js';
import type { FaultBook } from './fault-book.js';
import type { KvInbox } from './kv-inbox.js';
import type { KvTransport } from './kv-transport.js';
import type { MockMetrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { ReceivedRequest } from './received-request.js';
import type { SlotScheduler } from './slot-scheduler.js';

/** The state one mock instance shares between its routes. */
export interface MockContext {
  readonly options: ResolvedOptions;
  readonly kv: KvTransport;
  readonly inbox: KvInbox;
  readonly scheduler: SlotScheduler;
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
