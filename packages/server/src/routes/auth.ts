import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendError } from './context.js';

export type AuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/**
 * An onRequest hook that accepts `Authorization: Bearer <key>` for any of `keys` (compared in
 * constant time) and answers 401 otherwise. Undefined when no key is configured: no hook, no cost.
 *
 * @example
 * const hook = bearerAuth(['sk-1']);
 * if (hook) app.addHook('onRequest', hook);
 */
export function bearerAuth(keys: readonly string[]): AuthHook | undefined {
  if (keys.length === 0) return undefined;
  const expected = keys.map((k) => Buffer.from(`Bearer ${k}`));
  return (request, reply, done) => {
    const given = request.headers.authorization;
    if (typeof given === 'string') {
      const buf = Buffer.from(given);
      for (const e of expected) {
        if (e.length === buf.length && timingSafeEqual(e, buf)) return done();
      }
    }
    reply.header('www-authenticate', 'Bearer');
    sendError(reply, 401, 'PD_ERR_UNAUTHORIZED', 'authentication_error', 'missing or invalid API key');
    request.server.pd.metrics.request(request.routeOptions.url ?? request.url, 401);
  };
}
