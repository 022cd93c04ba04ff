import type { ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE, sendBody } from './http-io.js';
import { type MetricsSnapshot, type MockMetrics, metricLabels, renderMetrics } from './metrics.js';
import type { MockContext } from './mock-context.js';
import type { PerfEngine } from './perf/engine.js';
import { renderPerfMetrics } from './perf/perf-metrics.js';

/** What GET /version reports: a vLLM release line, marked as the mock. */
export const MOCK_VLLM_VERSION = '0.11.0+mock';
/** prometheus_client's exposition content type. */
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Requests waiting: queued for a slot, plus decodes waiting for their KV (vLLM: WAITING_FOR_REMOTE_KVS). */
export function waitingCount(ctx: MockContext): number {
  return (
    (ctx.perf?.waiting ?? ctx.scheduler.waiting) +
    ctx.inbox.waitingCount +
    (ctx.nixl?.reading ?? 0) +
    (ctx.mooncake?.pulling ?? 0)
  );
}

/** The GET routes besides the completions. */
export const INFO_ROUTES = ['/health', '/ping', '/version', '/load', '/metrics', '/v1/models'] as const;

/** What the info routes report about an instance (the HTTP server's context, or the msw handlers' state). */
export interface InfoSource {
  readonly model: string;
  readonly maxModelLen: number;
  readonly metrics: MockMetrics;
  /** Completion requests in flight (vLLM's server_load). */
  readonly load: number;
  readonly running: number;
  readonly waiting: number;
  /** NIXL instances: the blocks held for remote decodes. */
  readonly nixl: MetricsSnapshot['nixl'] | undefined;
  /** The performance model, whose series follow the others on /metrics. */
  readonly perf?: PerfEngine | undefined;
  /** Mooncake instances: the transfers held for remote decodes. */
  readonly mooncake?: MetricsSnapshot['mooncake'];
}

/** A complete answer of an info route; `contentType` undefined = no Content-Type header. */
export interface InfoAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/**
 * The answer of an info route (health, version, load, metrics, models), or undefined when `path`
 * is not one. Transport-free: the HTTP server and the msw handlers send the same bytes.
 */
export function infoAnswer(path: string, s: InfoSource): InfoAnswer | undefined {
  switch (path) {
    case '/health':
    case '/ping':
      return { status: 200, contentType: undefined, body: '' };
    case '/version':
      return jsonAnswer({ version: MOCK_VLLM_VERSION });
    case '/load':
      return jsonAnswer({ server_load: s.load });
    case '/metrics': {
      const snapshot = {
        model: s.model,
        running: s.running,
        waiting: s.waiting,
        ...(s.nixl === undefined ? {} : { nixl: s.nixl }),
        ...(s.mooncake === undefined ? {} : { mooncake: s.mooncake }),
      };
      let text = renderMetrics(s.metrics, snapshot);
      if (s.perf !== undefined) text += renderPerfMetrics(s.perf, metricLabels(s.model));
      return { status: 200, contentType: METRICS_CONTENT_TYPE, body: text };
    }
    case '/v1/models':
      return jsonAnswer(modelList(s.model, s.maxModelLen));
    default:
      return undefined;
  }
}

function jsonAnswer(value: unknown): InfoAnswer {
  return { status: 200, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(value) };
}

/** Sends the answer of an info route. False if `path` is not one. */
export function handleInfoRoute(ctx: MockContext, path: string, res: ServerResponse): boolean {
  const answer = infoAnswer(path, {
    model: ctx.options.model,
    maxModelLen: ctx.options.maxModelLen,
    metrics: ctx.metrics,
    load: ctx.inflight,
    running: ctx.perf?.running ?? ctx.scheduler.running,
    perf: ctx.perf,
    waiting: waitingCount(ctx),
    nixl:
      ctx.nixl === undefined
        ? undefined
        : { heldRequests: ctx.nixl.blocks.heldRequests, heldBlocks: ctx.nixl.blocks.heldBlocks },
    ...(ctx.mooncake === undefined ? {} : { mooncake: { heldTransfers: ctx.mooncake.sends.heldCount } }),
  });
  if (answer === undefined) return false;
  sendBody(res, answer.status, answer.contentType, answer.body);
  return true;
}

/** vLLM's ModelList with one ModelCard (and its one ModelPermission). */
export function modelList(model: string, maxModelLen: number): Record<string, unknown> {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: 'list',
    data: [
      {
        id: model,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: 'modelperm-mock',
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}
