import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServerError } from '../errors.js';
import { bearerAuth } from './auth.js';
import { JSON_CONTENT_TYPE, sendError } from './context.js';

/** A session id longer than this is not one we could have recorded from a header. */
const MAX_SESSION_ID_CHARS = 4_096;

function sessionIdFrom(request: FastifyRequest): unknown {
  const query = request.query as Record<string, unknown> | undefined;
  if (query?.['session_id'] !== undefined) return query['session_id'];
  const body = request.body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return (body as Record<string, unknown>)['session_id'];
  }
  return undefined;
}

/**
 * vllm-router's `POST /finish_session`: a client says a session is over, so sticky_least_loaded
 * stops counting it against its workers (otherwise it would until its TTL). The id comes as
 * `?session_id=` (how clients call it) or in a JSON body `{"session_id": ...}`. Answers 200 whether
 * or not a policy knew the session (`released` says), as vllm-router does for an unknown one.
 */
export async function finishSessionRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const auth = bearerAuth(ctx.config.apiKeys);
  if (auth !== undefined) app.addHook('onRequest', auth);
  app.post('/finish_session', (request: FastifyRequest, reply: FastifyReply) => {
    const id = sessionIdFrom(request);
    if (typeof id !== 'string' || id === '' || id.length > MAX_SESSION_ID_CHARS) {
      sendError(
        reply,
        new ServerError(
          'PD_ERR_BAD_REQUEST',
          'session_id is required: POST /finish_session?session_id=ID, or a JSON body {"session_id": "ID"}',
          { param: 'session_id' },
        ),
      );
      return;
    }
    const released = ctx.finishSession(id);
    reply
      .code(200)
      .header('content-type', JSON_CONTENT_TYPE)
      .send(JSON.stringify({ status: 'ok', session_id: id, released }));
  });
}
