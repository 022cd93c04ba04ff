import { ServerError } from '../errors.js';
import type { UpstreamErrorKind } from '../metrics.js';
import { getHeaders } from '../upstream/headers.js';
import { classifyUpstreamError, describeKind, errorDetail } from '../upstream/map-error.js';
import { headerText, readBody } from '../upstream/read-body.js';
import type { Worker } from '../workers/worker.js';
import type { RouterContext } from './context.js';

/**
 * Longest wait for one decode worker's model list (capped by --decode-ttft-timeout-ms). A model
 * list is a cheap answer a healthy vLLM gives at once, even under load; the TTFT budget (300 s by
 * default) is sized for generation and would leave `GET /v1/models` hanging on a stuck worker.
 */
export const MODELS_ATTEMPT_TIMEOUT_MS = 5_000;
/** Decode workers asked at most, one after another: the total wait is at most this many attempts. */
export const MODELS_MAX_ATTEMPTS = 3;
/** A model list is small; anything bigger than this is not one. */
const MODELS_BODY_LIMIT_BYTES = 1_048_576;

/** A decode worker's HTTP answer to `GET /v1/models`. */
export interface ModelsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

type Attempt =
  | { readonly answer: ModelsAnswer }
  | { readonly kind: UpstreamErrorKind; readonly error: unknown };

/**
 * The kind of a failed `/v1/models` call. map-error matches undici's `code`s, but an aborted
 * signal's TimeoutError or AbortError (a DOMException) has none and would count as a malformed
 * answer: matched here by `name` first.
 *
 * @example
 * classifyModelsError(new DOMException('t', 'TimeoutError')) // 'timeout'
 */
export function classifyModelsError(error: unknown): UpstreamErrorKind {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  return classifyUpstreamError(error);
}

async function ask(
  ctx: RouterContext,
  worker: Worker,
  budgetMs: number,
  signal: AbortSignal,
): Promise<Attempt> {
  // Aborted by its own budget (a TimeoutError), or by `signal` (every client left).
  const attempt = AbortSignal.any([signal, AbortSignal.timeout(budgetMs)]);
  try {
    const upstream = await worker.pool.request({
      method: 'GET',
      path: '/v1/models',
      headers: getHeaders(worker.address.hostHeader, ctx.authorization, ctx.userAgent),
      headersTimeout: budgetMs,
      bodyTimeout: budgetMs,
      signal: attempt,
    });
    const body = await readBody(
      upstream.body,
      headerText(upstream.headers['content-encoding']),
      MODELS_BODY_LIMIT_BYTES,
    );
    const type = upstream.headers['content-type'];
    return {
      answer: {
        status: upstream.statusCode,
        contentType: (Array.isArray(type) ? type[0] : type) ?? 'application/json',
        body,
      },
    };
  } catch (error) {
    return { kind: classifyModelsError(error), error };
  }
}

/**
 * Asks the available decode workers in order, at most MODELS_MAX_ATTEMPTS of them, each for at
 * most min(MODELS_ATTEMPT_TIMEOUT_MS, --decode-ttft-timeout-ms). The first answer below 500 wins
 * (a 4xx is relayed as is). A 5xx or a transport failure moves on to the next worker; when none
 * answers below 500, the last 5xx answer is relayed, else the last failure is thrown as a
 * ServerError (PD_ERR_DECODE_TIMEOUT 504, PD_ERR_DECODE_UNAVAILABLE 502). `signal` (every waiting
 * client left) aborts the call in flight and rejects with its reason.
 *
 * @example
 * const answer = await fetchModels(ctx, controller.signal);
 */
export async function fetchModels(ctx: RouterContext, signal: AbortSignal): Promise<ModelsAnswer> {
  const decodes = ctx.registry.available('decode');
  if (decodes.length === 0)
    throw new ServerError('PD_ERR_NO_DECODE_WORKER', 'no healthy decode worker is available');
  const budgetMs = Math.min(MODELS_ATTEMPT_TIMEOUT_MS, ctx.config.decodeTtftTimeoutMs);
  let failedAnswer: ModelsAnswer | undefined;
  let failure: ServerError | undefined;
  for (const worker of decodes.slice(0, MODELS_MAX_ATTEMPTS)) {
    signal.throwIfAborted();
    const attempt = await ask(ctx, worker, budgetMs, signal);
    // The clients left: not the worker's fault, nothing to count.
    signal.throwIfAborted();
    if ('answer' in attempt) {
      if (attempt.answer.status < 500) return attempt.answer;
      worker.metrics.error('status');
      failedAnswer = attempt.answer;
      continue;
    }
    worker.metrics.error(attempt.kind);
    const name = ctx.debug ? `${worker.label} (${worker.url}: ${errorDetail(attempt.error)})` : worker.label;
    failure =
      attempt.kind === 'timeout'
        ? new ServerError('PD_ERR_DECODE_TIMEOUT', `${name} sent no model list within ${budgetMs} ms`, {
            cause: attempt.error,
          })
        : new ServerError('PD_ERR_DECODE_UNAVAILABLE', `${name} ${describeKind(attempt.kind)}`, {
            cause: attempt.error,
          });
  }
  if (failedAnswer !== undefined) return failedAnswer;
  throw failure ?? new ServerError('PD_ERR_DECODE_UNAVAILABLE', 'no decode worker answered');
}
