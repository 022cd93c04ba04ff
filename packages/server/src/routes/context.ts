import type { FastifyReply } from 'fastify';
import type { Config } from '../config/types.js';
import type { MooncakeEngines } from '../connectors/mooncake.js';
import type { KvConnector } from '../connectors/types.js';
import { errorReply } from '../errors.js';
import type { KeyValidator } from '../http/key-validator.js';
import type { RouterMetrics } from '../metrics.js';
import type { PairSelector } from '../policies/types.js';
import type { RetryMetrics } from '../retry/retry-metrics.js';
import type { RouterTracing } from '../tracing/index.js';
import type { LegEnv } from '../upstream/leg.js';
import type { WorkerRegistry } from '../workers/registry.js';

/** Everything the routes share, built once by buildServer and decorated onto the instance as `pd`. */
export interface RouterContext {
  readonly config: Config;
  readonly registry: WorkerRegistry;
  readonly selector: PairSelector;
  /** Ends a client session in the session-keeping policies (`POST /finish_session`); true when one knew it. */
  readonly finishSession: (sessionId: string) => boolean;
  readonly connector: KvConnector;
  /** What every upstream leg shares: the registry, the leg budgets, the debug flag. */
  readonly legs: LegEnv;
  /** Mooncake: each prefill's bootstrap server and engine ids (undefined with the other connectors). */
  readonly mooncake: MooncakeEngines | undefined;
  readonly metrics: RouterMetrics;
  /** Retry counters (they read 0 with retries off). */
  readonly retryMetrics: RetryMetrics;
  readonly random16: () => Uint8Array;
  /** Upstream `Authorization` and `User-Agent`, resolved once. */
  readonly authorization: string;
  readonly userAgent: string;
  /** Debug logging: messages may name internal addresses, and bodies are logged. */
  readonly debug: boolean;
  /** Checks client tokens against --api-key-validation-urls; undefined without them. */
  readonly keyValidator?: KeyValidator | undefined;
  /** `--enable-trace`: the request spans; undefined (nothing loaded) when tracing is off. */
  readonly tracing?: RouterTracing | undefined;
  /** Set when close() starts: readiness turns 503. */
  closing: boolean;
  /** While the CLI waits for the workers at startup (--worker-startup-timeout-secs): why readiness is 503. */
  startup?: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The router's shared state (workers, policies, metrics). */
    readonly pd: RouterContext;
  }
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Answers any error in the OpenAI shape (errorReply decides its status and body), with
 * `Retry-After` when it carries one. Returns the status sent.
 */
export function sendError(reply: FastifyReply, error: unknown): number {
  const e = errorReply(error);
  if (e.retryAfter !== undefined) reply.header('retry-after', e.retryAfter);
  reply.code(e.statusCode).header('content-type', JSON_CONTENT_TYPE).send(e.body());
  return e.statusCode;
}
