import type { FastifyReply } from 'fastify';
import type { Config } from '../config/types.js';
import type { KvConnector } from '../connectors/types.js';
import { type OpenAiErrorType, openAiErrorBody, type ServerError } from '../errors.js';
import type { RouterMetrics } from '../metrics.js';
import type { PairSelector, RoutingRequest, WorkerView } from '../policies/types.js';
import type { WorkerRegistry } from '../workers/registry.js';

/** Everything the routes share, built once by buildServer and decorated onto the instance as `pd`. */
export interface RouterContext {
  readonly config: Config;
  readonly registry: WorkerRegistry;
  readonly selector: PairSelector;
  /** The selector's release hook, if its policies keep per-request state. */
  readonly releasePolicy: ((worker: WorkerView, request: RoutingRequest) => void) | undefined;
  readonly connector: KvConnector;
  readonly metrics: RouterMetrics;
  readonly random16: () => Uint8Array;
  /** Upstream `Authorization` and `User-Agent`, resolved once. */
  readonly authorization: string;
  readonly userAgent: string;
  /** Debug logging: messages may name internal addresses, and bodies are logged. */
  readonly debug: boolean;
  /** Set when close() starts: readiness turns 503. */
  closing: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The router's shared state (workers, policies, metrics). */
    readonly pd: RouterContext;
  }
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends an OpenAI-shaped error. */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  type: OpenAiErrorType,
  message: string,
  param: string | null = null,
): void {
  reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(openAiErrorBody(code, type, message, param));
}

export function sendServerError(reply: FastifyReply, error: ServerError): void {
  sendError(reply, error.statusCode, error.code, error.type, error.message, error.param);
}
