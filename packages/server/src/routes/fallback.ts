import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorReply, ServerError } from '../errors.js';
import { sendError } from './context.js';

/**
 * Fastify's own errors as ours: input problems keep a 4xx with our code, anything else is
 * handed on as is (errorReply makes it a 500: a bug).
 */
function fromFastify(error: FastifyError | Error, maxPayloadSize: number): unknown {
  if (error instanceof ServerError) return error;
  const { code, statusCode } = error as FastifyError;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ServerError('PD_ERR_PAYLOAD_TOO_LARGE', `request body is larger than ${maxPayloadSize} bytes`);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new ServerError(
      'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
      'Content-Type must be application/json (or application/*+json)',
    );
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500)
    return new ServerError('PD_ERR_BAD_REQUEST', error.message, { statusCode });
  return error;
}

/**
 * Maps any error that reaches Fastify (body too large, bad media type, malformed request, a bug)
 * to an OpenAI-shaped JSON answer with our code. Never 500 for input problems.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const answer = errorReply(fromFastify(error, request.server.pd.config.maxPayloadSize));
  // The rest of a late body is not read: the connection cannot carry another request.
  if (answer.code === 'PD_ERR_BODY_TIMEOUT') reply.header('connection', 'close');
  const status = sendError(reply, answer);
  if (status >= 500) request.log.error({ err: error }, 'internal error');
  // The error's text goes under `detail` (as in the exchange's line): a `msg` field would be a
  // second "msg" key next to pino's own. The code is the one the client received.
  else request.log.info({ status, code: answer.code, detail: error.message }, 'request rejected');
}

/**
 * Unknown routes: 405 with `Allow` when the path exists for other methods, else 404; both JSON.
 * Also installs the error handler. Called on the root instance so every route shares them.
 */
export function installFallbacks(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let set = methodsByPath.get(route.url);
    if (set === undefined) {
      set = new Set();
      methodsByPath.set(route.url, set);
    }
    for (const m of methods) set.add(m);
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    const allowed = methodsByPath.get(path);
    if (allowed !== undefined) {
      const allow = [...allowed].sort().join(', ');
      reply.header('allow', allow);
      const message = `method ${request.method} is not allowed on ${path} (allowed: ${allow})`;
      sendError(reply, new ServerError('PD_ERR_METHOD_NOT_ALLOWED', message));
      return;
    }
    sendError(reply, new ServerError('PD_ERR_NOT_FOUND', `no route ${request.method} ${path}`));
  });
}
