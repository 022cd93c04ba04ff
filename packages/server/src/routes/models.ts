import type { FastifyInstance } from 'fastify';
import { bearerAuth, CLIENT_REALM } from './auth.js';
import { type RouterContext, sendError } from './context.js';
import { fetchModels, type ModelsAnswer } from './models-fetch.js';

/** How long a decode worker's model list is served from cache: models change only on restarts. */
export const MODELS_CACHE_TTL_MS = 5_000;

interface CachedModels extends ModelsAnswer {
  readonly expires: number;
}

/** One upstream call shared by every request that missed the cache while it runs. */
interface SharedFetch {
  readonly promise: Promise<ModelsAnswer>;
  readonly controller: AbortController;
  /** Requests still waiting for it; when the last one leaves, the call is aborted. */
  waiters: number;
}

function startFetch(ctx: RouterContext): SharedFetch {
  const controller = new AbortController();
  return { controller, waiters: 0, promise: fetchModels(ctx, controller.signal) };
}

/**
 * `GET /v1/models`: a decode worker's answer (status, content type, body), cached for
 * MODELS_CACHE_TTL_MS; concurrent misses share one upstream call, which is aborted when every
 * client waiting for it has disconnected. How workers are asked: fetchModels (models-fetch.ts).
 */
export async function modelsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const auth = bearerAuth(ctx.config.apiKeys, CLIENT_REALM, ctx.keyValidator);
  if (auth !== undefined) app.addHook('onRequest', auth);
  let cached: CachedModels | undefined;
  let pending: SharedFetch | undefined;
  app.get('/v1/models', async (_request, reply) => {
    if (cached !== undefined && cached.expires > performance.now()) {
      return reply.code(cached.status).header('content-type', cached.contentType).send(cached.body);
    }
    let shared = pending;
    if (shared === undefined) {
      const created = startFetch(ctx);
      const forget = (): void => {
        if (pending === created) pending = undefined;
      };
      created.promise.then(forget, forget);
      pending = created;
      shared = created;
    }
    const call = shared;
    call.waiters += 1;
    let waiting = true;
    const raw = reply.raw;
    const onClose = (): void => {
      if (!waiting || raw.writableFinished) return;
      waiting = false;
      call.waiters -= 1;
      if (call.waiters > 0) return;
      // Nobody is left to answer: stop asking, and let the next request start afresh.
      if (pending === call) pending = undefined;
      call.controller.abort(new Error('every client waiting for /v1/models disconnected'));
    };
    raw.on('close', onClose);
    try {
      const fresh = await call.promise;
      // The client left: nothing to send (counted as 499 when its connection closes).
      if (!waiting) return reply;
      // Only a successful list is worth caching; an error is retried on the next call.
      cached =
        fresh.status === 200 ? { ...fresh, expires: performance.now() + MODELS_CACHE_TTL_MS } : undefined;
      return reply.code(fresh.status).header('content-type', fresh.contentType).send(fresh.body);
    } catch (error) {
      if (!waiting) return reply;
      sendError(reply, error);
      return reply;
    } finally {
      raw.off('close', onClose);
      if (waiting) {
        waiting = false;
        call.waiters -= 1;
      }
    }
  });
}
