import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendError } from './context.js';

export type AuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * An onRequest hook that accepts `Authorization: Bearer <key>` for any of `keys` and answers 401
 * otherwise. Undefined when no key is configured: no hook, no cost.
 *
 * Constant time, lengths included: both sides are SHA-256 digests (a plain buffer compare must
 * first check lengths, so the time to reject would tell a guess of the right length), and every
 * key is compared, without stopping at a match, so the time does not tell which key matched.
 *
 * @example
 * const hook = bearerAuth(['sk-1']);
 * if (hook) app.addHook('onRequest', hook);
 */
export function bearerAuth(keys: readonly string[]): AuthHook | undefined {
  if (keys.length === 0) return undefined;
  const expected = keys.map((k) => digest(`Bearer ${k}`));
  return (request, reply, done) => {
    const given = request.headers.authorization;
    // Hashed even when absent, so a missing header costs what a wrong one does.
    const hash = digest(typeof given === 'string' ? given : '');
    let match = false;
    for (const e of expected) match = timingSafeEqual(e, hash) || match;
    if (match && typeof given === 'string') return done();
    reply.header('www-authenticate', 'Bearer');
    sendError(reply, 401, 'PD_ERR_UNAUTHORIZED', 'authentication_error', 'missing or invalid API key');
    request.server.pd.metrics.request(request.routeOptions.url ?? request.url, 401);
  };
}
