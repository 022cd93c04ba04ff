import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** Longest client request id echoed and logged; longer ones are cut (a header is not a log line). */
const MAX_CLIENT_REQUEST_ID_LENGTH = 256;

/** The first of `headers` (lower case) present on `request`, cut to a sane length. */
export function clientRequestId(request: IncomingMessage, headers: readonly string[]): string | undefined {
  for (const name of headers) {
    const value = request.headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (text !== undefined && text !== '') return text.slice(0, MAX_CLIENT_REQUEST_ID_LENGTH);
  }
  return undefined;
}

/**
 * `--request-id-headers`: the client's own request id, from the first of those headers it sent, is
 * echoed back as `x-request-id` (on the raw response, so streamed answers carry it too) and bound to
 * the request's log lines as `clientRequestId`. It is never sent upstream: the workers' headers are
 * built from a fixed template, not copied from the client's.
 *
 * @example installClientRequestId(app, ['x-request-id', 'x-trace-id']);
 */
export function installClientRequestId(app: FastifyInstance, headers: readonly string[]): void {
  if (headers.length === 0) return;
  app.addHook('onRequest', (request, reply, done) => {
    const id = clientRequestId(request.raw, headers);
    if (id !== undefined) reply.raw.setHeader('x-request-id', id);
    done();
  });
}

/** Fastify's childLoggerFactory: the root logger, or a child carrying the client's request id. */
export function requestLogger(headers: readonly string[]) {
  return (logger: FastifyBaseLogger, _bindings: unknown, _options: unknown, raw: IncomingMessage) => {
    const id = headers.length === 0 ? undefined : clientRequestId(raw, headers);
    return id === undefined ? logger : logger.child({ clientRequestId: id });
  };
}
