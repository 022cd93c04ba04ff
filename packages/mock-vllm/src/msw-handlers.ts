import { randomUUID } from 'node:crypto';
import { formatSseData, SSE_DONE } from '@pd-router/core';
import { type CompletionRoute, validateCompletionRequest } from './completion-request.js';
import { vllmErrorBody } from './error-body.js';
import { planGeneration } from './generation-plan.js';
import { JSON_CONTENT_TYPE, SSE_CONTENT_TYPE } from './http-io.js';
import { MOCK_VLLM_VERSION, modelList } from './info-routes.js';
import { renderJsonBody, streamSteps } from './openai-responses.js';
import { DEFAULT_MAX_MODEL_LEN, DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from './options.js';
import { parseRequestBody } from './request-body.js';

type Resolver = (info: { request: Request }) => Response | Promise<Response>;

/**
 * The part of msw's `http` namespace the handlers use. Pass msw's own `http`: the package does not
 * import msw, so it stays an optional peer dependency.
 */
export interface MswHttpLike<H> {
  get(path: string, resolver: Resolver): H;
  post(path: string, resolver: Resolver): H;
}

export interface MswHandlerOptions<H> {
  /** msw's `http` (`import { http } from 'msw'`). */
  readonly http: MswHttpLike<H>;
  /** Origin (and optional path prefix) the handlers answer, e.g. "http://vllm.test". No trailing slash. */
  readonly baseUrl: string;
  /** Default 'mock-model'. */
  readonly model?: string;
  /** Tokens when a request sets no limit. Default 16. */
  readonly defaultMaxTokens?: number;
  /** Default 32_768. */
  readonly maxModelLen?: number;
  /** Delay before the first token, in ms. Default 0. */
  readonly ttftMs?: number;
  /** Delay between streamed tokens, in ms. Default 0. */
  readonly interTokenMs?: number;
}

const encoder = new TextEncoder();

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': JSON_CONTENT_TYPE } });
}

function wait(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * msw request handlers that answer like a standalone mock vLLM ('both' role, no KV hand-off): the
 * same JSON bodies and SSE streams as the HTTP server, for tests of OpenAI clients that use `fetch`
 * without opening sockets. Routes: POST /v1/completions, /v1/chat/completions; GET /v1/models,
 * /health, /version.
 *
 * @example
 * import { http } from 'msw';
 * import { setupServer } from 'msw/node';
 * const server = setupServer(...createMswHandlers({ http, baseUrl: 'http://vllm.test' }));
 * server.listen();
 * const client = new OpenAI({ baseURL: 'http://vllm.test/v1', apiKey: 'x' });
 */
export function createMswHandlers<H>(options: MswHandlerOptions<H>): H[] {
  const { http } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const model = options.model ?? DEFAULT_MODEL;
  const maxModelLen = options.maxModelLen ?? DEFAULT_MAX_MODEL_LEN;
  const ttftMs = options.ttftMs ?? 0;
  const interTokenMs = options.interTokenMs ?? 0;

  const complete =
    (route: CompletionRoute): Resolver =>
    async ({ request }) => {
      const parsed = parseRequestBody(new Uint8Array(await request.arrayBuffer()));
      if (parsed === undefined)
        return json(400, vllmErrorBody(400, '1 validation error: body: JSON decode error'));
      const validated = validateCompletionRequest(route, parsed);
      if (!validated.ok) {
        const e = validated.error;
        return json(e.status, vllmErrorBody(e.status, e.message, e.param));
      }
      const planned = planGeneration(validated.value, {
        baseId:
          request.headers.get('x-request-id') ??
          validated.value.bodyRequestId ??
          randomUUID().replaceAll('-', ''),
        model,
        defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
        maxModelLen,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      if (!planned.ok) return json(planned.error.status, vllmErrorBody(400, planned.error.message));
      const plan = planned.value;
      if (!plan.stream) {
        await wait(ttftMs + interTokenMs * Math.max(plan.tokens - 1, 0));
        return new Response(renderJsonBody(plan), {
          status: 200,
          headers: { 'content-type': JSON_CONTENT_TYPE },
        });
      }
      const steps = streamSteps(plan);
      let first = true;
      const body = new ReadableStream<Uint8Array>({
        // Pull-based: the next step is produced only when the client reads, after its delay.
        async pull(controller) {
          await wait(first ? ttftMs : interTokenMs);
          first = false;
          const next = steps.next();
          if (next.done === true) {
            controller.close();
            return;
          }
          const text = next.value.map((d) => (d === '[DONE]' ? SSE_DONE : formatSseData(d))).join('');
          controller.enqueue(encoder.encode(text));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': SSE_CONTENT_TYPE } });
    };

  return [
    http.post(`${base}/v1/completions`, complete('completions')),
    http.post(`${base}/v1/chat/completions`, complete('chat')),
    http.get(`${base}/v1/models`, () => json(200, modelList(model, maxModelLen))),
    http.get(`${base}/health`, () => new Response(null, { status: 200 })),
    http.get(`${base}/version`, () => json(200, { version: MOCK_VLLM_VERSION })),
  ];
}
