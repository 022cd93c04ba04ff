import type { ServerResponse } from 'node:http';
import { sendBody, sendJson } from './http-io.js';
import { renderMetrics } from './metrics.js';
import type { MockContext } from './mock-context.js';

/** What GET /version reports: a vLLM release line, marked as the mock. */
export const MOCK_VLLM_VERSION = '0.11.0+mock';
/** prometheus_client's exposition content type. */
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Requests waiting: queued for a slot, plus decodes waiting for their KV (vLLM: WAITING_FOR_REMOTE_KVS). */
export function waitingCount(ctx: MockContext): number {
  return ctx.scheduler.waiting + ctx.inbox.waitingCount + (ctx.nixl?.reading ?? 0);
}

/** The GET routes besides the completions: health, version, load, metrics, models. False if not one. */
export function handleInfoRoute(ctx: MockContext, path: string, res: ServerResponse): boolean {
  switch (path) {
    case '/health':
    case '/ping':
      sendBody(res, 200, undefined, '');
      return true;
    case '/version':
      sendJson(res, 200, { version: MOCK_VLLM_VERSION });
      return true;
    case '/load':
      sendJson(res, 200, { server_load: ctx.inflight });
      return true;
    case '/metrics':
      sendBody(
        res,
        200,
        METRICS_CONTENT_TYPE,
        renderMetrics(ctx.metrics, {
          model: ctx.options.model,
          running: ctx.scheduler.running,
          waiting: waitingCount(ctx),
          ...(ctx.nixl === undefined
            ? {}
            : {
                nixl: { heldRequests: ctx.nixl.blocks.heldRequests, heldBlocks: ctx.nixl.blocks.heldBlocks },
              }),
        }),
      );
      return true;
    case '/v1/models':
      sendJson(res, 200, modelList(ctx.options.model, ctx.options.maxModelLen));
      return true;
    default:
      return false;
  }
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
