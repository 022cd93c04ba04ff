import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorTypeForStatus, ServerError } from '../errors.js';
import { sendError, sendServerError } from './context.js';

/** Fastify's own error codes that mean "bad request input", mapped to ours. */
const FASTIFY_CODES: Readonly<Record<string, 'PD_ERR_PAYLOAD_TOO_LARGE' | 'PD_ERR_UNSUPPORTED_MEDIA_TYPE'>> =
  {
    FST_ERR_CTP_BODY_TOO_LARGE: 'PD_ERR_PAYLOAD_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
  };

function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(unmatched)';
}

/**
 * Maps any error that reaches Fastify (body too large, bad media type, malformed request, a bug)
 * to an OpenAI-shaped JSON answer with our code. Never 500 for input problems.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const ctx = request.server.pd;
  let status: number;
  if (error instanceof ServerError) {
    status = error.statusCode;
    sendServerError(reply, error);
  } else {
    const fastifyCode = (error as FastifyError).code;
    const statusCode = (error as FastifyError).statusCode;
    const ours = fastifyCode === undefined ? undefined : FASTIFY_CODES[fastifyCode];
    if (ours === 'PD_ERR_PAYLOAD_TOO_LARGE') {
      status = 413;
      sendError(
        reply,
        413,
        ours,
        'invalid_request_error',
        `request body is larger than ${ctx.config.maxPayloadSize} bytes`,
      );
    } else if (ours === 'PD_ERR_UNSUPPORTED_MEDIA_TYPE') {
      status = 415;
      sendError(
        reply,
        415,
        ours,
        'invalid_request_error',
        'Content-Type must be application/json (or application/*+json)',
      );
    } else if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      status = statusCode;
      sendError(reply, status, 'PD_ERR_BAD_REQUEST', errorTypeForStatus(status), error.message);
    } else {
      status = 500;
      request.log.error({ err: error }, 'internal error');
      sendError(reply, 500, 'PD_ERR_INTERNAL', 'server_error', 'internal error');
    }
  }
  ctx.metrics.request(routeLabel(request), status);
  // The error's text goes under `detail` (as in the exchange's line): a `msg` field would be a
  // second "msg" key next to pino's own.
  if (status < 500)
    request.log.info(
      { status, code: (error as FastifyError).code, detail: error.message },
      'request rejected',
    );
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
    const ctx = request.server.pd;
    if (allowed !== undefined) {
      const allow = [...allowed].sort().join(', ');
      reply.header('allow', allow);
      sendError(
        reply,
        405,
        'PD_ERR_METHOD_NOT_ALLOWED',
        'invalid_request_error',
        `method ${request.method} is not allowed on ${path} (allowed: ${allow})`,
      );
      ctx.metrics.request(path, 405);
      return;
    }
    sendError(reply, 404, 'PD_ERR_NOT_FOUND', 'invalid_request_error', `no route ${request.method} ${path}`);
    ctx.metrics.request('(unmatched)', 404);
  });
}
