import { formatSseData, SSE_DONE } from '@pd-router/core';
import { admitCompletion, type IntakeOptions } from './completion-intake.js';
import type { CompletionRoute } from './completion-request.js';
import { vllmErrorJson } from './error-body.js';
import type { GenerationPlan } from './generation-plan.js';
import { JSON_CONTENT_TYPE, SSE_CONTENT_TYPE, sleep } from './http-io.js';
import { INFO_ROUTES, type InfoSource, infoAnswer } from './info-routes.js';
import { MockMetrics } from './metrics.js';
import { renderJsonBody, streamSteps } from './openai-responses.js';
import { DEFAULT_MAX_MODEL_LEN, DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from './options.js';

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
  /** Answer 404 (vLLM's NotFoundError) when a request names another model. Default false. */
  readonly strictModel?: boolean;
}

const encoder = new TextEncoder();

function respond(status: number, contentType: string | undefined, body: string): Response {
  // No body at all for an empty answer: a string body would get a text/plain type the server never sends.
  return new Response(
    body === '' ? null : body,
    contentType === undefined ? { status } : { status, headers: { 'content-type': contentType } },
  );
}

function sseChunk(frames: readonly string[]): Uint8Array {
  return encoder.encode(frames.map((d) => (d === '[DONE]' ? SSE_DONE : formatSseData(d))).join(''));
}

/**
 * msw request handlers that answer like a standalone mock vLLM ('both' role, no KV hand-off, no
 * faults): the same status, Content-Type and bytes as the HTTP server, for tests of OpenAI clients
 * that use `fetch` without opening sockets. Requests go through the server's own admission code
 * (media type, JSON, schema, context length) and info routes; the handlers keep the server's
 * counters, so /load and /metrics report this set of handlers. Routes: POST /v1/completions,
 * /v1/chat/completions; GET /v1/models, /health, /ping, /version, /load, /metrics.
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
  const intake: IntakeOptions = {
    model: options.model ?? DEFAULT_MODEL,
    strictModel: options.strictModel ?? false,
    defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    maxModelLen: options.maxModelLen ?? DEFAULT_MAX_MODEL_LEN,
  };
  const ttftMs = options.ttftMs ?? 0;
  const interTokenMs = options.interTokenMs ?? 0;
  const metrics = new MockMetrics();
  let inflight = 0;
  // No concurrency limit and no KV wait: every request in flight is running, none waits.
  const state = (): InfoSource => ({
    model: intake.model,
    maxModelLen: intake.maxModelLen,
    metrics,
    load: inflight,
    running: inflight,
    waiting: 0,
    nixl: undefined,
  });

  const answerJson = async (plan: GenerationPlan, signal: AbortSignal): Promise<Response> => {
    try {
      if (!(await sleep(ttftMs, signal))) return Response.error();
      metrics.promptTokens += plan.promptTokens;
      if (!(await sleep(interTokenMs * Math.max(plan.tokens - 1, 0), signal))) return Response.error();
      const text = renderJsonBody(plan);
      metrics.countFinished(plan);
      return respond(200, JSON_CONTENT_TYPE, text);
    } finally {
      inflight -= 1;
    }
  };

  const answerStream = (plan: GenerationPlan, signal: AbortSignal): Response => {
    const steps = streamSteps(plan);
    let next = steps.next(); // one step ahead, so the stream closes with its last step
    let first = true;
    let open = true;
    const stop = new AbortController();
    const end = (finished: boolean): void => {
      if (!open) return;
      open = false;
      inflight -= 1;
      if (finished) metrics.countFinished(plan);
      stop.abort();
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => end(false);
    signal.addEventListener('abort', onAbort, { once: true });
    const body = new ReadableStream<Uint8Array>({
      // Pull-based: the next step is produced only when the client reads, after its delay.
      async pull(controller) {
        const waited = await sleep(first ? ttftMs : interTokenMs, stop.signal);
        if (!waited || !open || next.done === true) {
          controller.error(new Error('request aborted'));
          return;
        }
        if (first) metrics.promptTokens += plan.promptTokens;
        first = false;
        const frames = next.value;
        next = steps.next();
        controller.enqueue(sseChunk(frames));
        if (next.done === true) {
          controller.close();
          end(true);
        }
      },
      cancel() {
        end(false);
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': SSE_CONTENT_TYPE } });
  };

  const complete =
    (route: CompletionRoute): Resolver =>
    async ({ request }) => {
      const admitted = admitCompletion(intake, route, {
        contentType: request.headers.get('content-type') ?? undefined,
        requestId: request.headers.get('x-request-id') ?? undefined,
        body: new Uint8Array(await request.arrayBuffer()),
      });
      if (!admitted.ok) {
        metrics.requestErrors += 1;
        const e = admitted.error;
        return respond(e.status, JSON_CONTENT_TYPE, vllmErrorJson(e.status, e.message, e.param));
      }
      const { plan } = admitted.value;
      inflight += 1;
      return plan.stream ? answerStream(plan, request.signal) : answerJson(plan, request.signal);
    };

  const info =
    (path: string): Resolver =>
    () => {
      const answer = infoAnswer(path, state());
      if (answer === undefined) return respond(404, JSON_CONTENT_TYPE, '{"detail":"Not Found"}');
      return respond(answer.status, answer.contentType, answer.body);
    };

  return [
    http.post(`${base}/v1/completions`, complete('completions')),
    http.post(`${base}/v1/chat/completions`, complete('chat')),
    ...INFO_ROUTES.map((path) => http.get(`${base}${path}`, info(path))),
  ];
}
