import type { FastifyInstance } from 'fastify';

/** How long a browser may cache a preflight answer: 10 minutes, Chromium's own cap. */
const PREFLIGHT_MAX_AGE_SECS = 600;

/**
 * `--cors-allowed-origins`: a request whose `Origin` is listed (or any, with `*`) gets
 * `Access-Control-Allow-Origin`, and an OPTIONS preflight from it is answered 204 with the methods
 * and headers it asks for. Other origins get no CORS header, so browsers refuse them. Set on the raw
 * response, so streamed answers (which bypass Fastify's reply headers) carry it too.
 *
 * @example installCors(app, ['https://chat.example.com']);
 */
export function installCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const any = origins.includes('*');
  const allowed = new Set(origins);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || !(any || allowed.has(origin))) {
      done();
      return;
    }
    reply.raw.setHeader('access-control-allow-origin', any ? '*' : origin);
    if (!any) reply.raw.setHeader('vary', 'Origin');
    const method = request.headers['access-control-request-method'];
    if (request.method !== 'OPTIONS' || method === undefined) {
      done();
      return;
    }
    const headers = request.headers['access-control-request-headers'];
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', headers ?? 'authorization, content-type')
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECS))
      .send();
  });
}
