import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { sendError } from '../routes/context.js';

export type AdminAuthHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * An onRequest hook requiring `Authorization: Bearer <adminKey>`. Both sides are hashed to
 * SHA-256 before `timingSafeEqual`, so the comparison takes the same time whatever the given
 * value's length (a plain buffer compare must first check lengths, which leaks the key's length).
 * Anything else gets 401 in OpenAI's error shape with `WWW-Authenticate: Bearer`.
 *
 * @example
 * app.addHook('onRequest', adminAuth('s3cret', (route, status) => metrics.request(route, status)));
 */
export function adminAuth(adminKey: string, count: (route: string, status: number) => void): AdminAuthHook {
  const expected = digest(`Bearer ${adminKey}`);
  return (request, reply, done) => {
    const given = request.headers.authorization;
    // Hashed even when absent, so a missing header costs what a wrong one does.
    const matches = timingSafeEqual(digest(typeof given === 'string' ? given : ''), expected);
    if (matches && typeof given === 'string') {
      done();
      return;
    }
    reply.header('www-authenticate', 'Bearer realm="pd-router admin"');
    sendError(reply, 401, 'PD_ERR_UNAUTHORIZED', 'authentication_error', 'missing or invalid admin API key');
    count(request.routeOptions.url ?? request.url, 401);
  };
}
