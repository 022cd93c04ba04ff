import type { FastifyInstance } from 'fastify';
import { ServerError } from '../errors.js';
import { getHeaders } from '../upstream/headers.js';
import { classifyUpstreamError, describeKind, errorDetail } from '../upstream/map-error.js';
import { readBody } from '../upstream/read-body.js';
import { bearerAuth } from './auth.js';
import { type RouterContext, sendServerError } from './context.js';

/** How long a decode worker's model list is served from cache: models change only on restarts. */
export const MODELS_CACHE_TTL_MS = 5_000;
/** A model list is small; anything bigger than this is not one. */
const MODELS_BODY_LIMIT_BYTES = 1_048_576;

interface CachedModels {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly expires: number;
}

/** Asks the available decode workers in order; the first HTTP answer wins. */
async function fetchModels(ctx: RouterContext): Promise<CachedModels> {
  const decodes = ctx.registry.available('decode');
  if (decodes.length === 0)
    throw new ServerError('PD_ERR_NO_DECODE_WORKER', 'no healthy decode worker is available');
  let last: ServerError | undefined;
  const timeout = ctx.config.decodeTtftTimeoutMs;
  for (const worker of decodes) {
    try {
      const upstream = await worker.pool.request({
        method: 'GET',
        path: '/v1/models',
        headers: getHeaders(worker.address.hostHeader, ctx.authorization, ctx.userAgent),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      const encoding = upstream.headers['content-encoding'];
      const body = await readBody(
        upstream.body,
        Array.isArray(encoding) ? encoding.join(', ') : encoding,
        MODELS_BODY_LIMIT_BYTES,
      );
      const type = upstream.headers['content-type'];
      return {
        status: upstream.statusCode,
        contentType: (Array.isArray(type) ? type[0] : type) ?? 'application/json',
        body,
        expires: performance.now() + MODELS_CACHE_TTL_MS,
      };
    } catch (error) {
      const kind = classifyUpstreamError(error);
      worker.metrics.error(kind);
      const name = ctx.debug ? `${worker.label} (${worker.url}: ${errorDetail(error)})` : worker.label;
      last = new ServerError('PD_ERR_DECODE_UNAVAILABLE', `${name} ${describeKind(kind)}`, { cause: error });
    }
  }
  throw last ?? new ServerError('PD_ERR_DECODE_UNAVAILABLE', 'no decode worker answered');
}

/**
 * `GET /v1/models`: a decode worker's answer (status, content type, body), cached for
 * MODELS_CACHE_TTL_MS; concurrent misses share one upstream call.
 */
export async function modelsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const auth = bearerAuth(ctx.config.apiKeys);
  if (auth !== undefined) app.addHook('onRequest', auth);
  let cached: CachedModels | undefined;
  let pending: Promise<CachedModels> | undefined;
  app.get('/v1/models', async (_request, reply) => {
    if (cached === undefined || cached.expires <= performance.now()) {
      pending ??= fetchModels(ctx).finally(() => {
        pending = undefined;
      });
      try {
        const fresh = await pending;
        // Only a successful list is worth caching; an error is retried on the next call.
        cached = fresh.status === 200 ? fresh : undefined;
        ctx.metrics.request('/v1/models', fresh.status);
        return reply.code(fresh.status).header('content-type', fresh.contentType).send(fresh.body);
      } catch (error) {
        const e = error instanceof ServerError ? error : new ServerError('PD_ERR_INTERNAL', 'internal error');
        ctx.metrics.request('/v1/models', e.statusCode);
        sendServerError(reply, e);
        return reply;
      }
    }
    ctx.metrics.request('/v1/models', cached.status);
    return reply.code(cached.status).header('content-type', cached.contentType).send(cached.body);
  });
}
