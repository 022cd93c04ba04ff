import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouterMetrics } from '../metrics.js';
import { CLIENT_CLOSED_STATUS } from './outcome.js';

/** The route label of requests no route matched (404). */
const UNMATCHED = '(unmatched)';

/**
 * The status a response is counted with once its connection is done with it: the status sent;
 * 499 when the client left before the answer was complete. A response the router broke off
 * itself (a decode stream failing mid-body) is destroyed with an error and keeps its status.
 */
export function countedStatus(res: ServerResponse): number {
  return res.writableFinished || res.errored !== null ? res.statusCode : CLIENT_CLOSED_STATUS;
}

/**
 * Counts every response in `pd_router_requests_total{route,status}` in one place: when its
 * response closes, whatever wrote it (a route, a hook, the error handler, a hijacked stream), and
 * clients that left first as 499. The label is the route's pattern (`/v1/completions`,
 * `/admin/workers/:role/:worker`); a 405 names the path, anything else unmatched is `(unmatched)`.
 * One listener per route, made once: nothing is allocated per request.
 */
export function countResponses(app: FastifyInstance, metrics: RouterMetrics): void {
  const byRoute = new Map<string, (this: ServerResponse) => void>();
  const listenerFor = (route: string): ((this: ServerResponse) => void) => {
    let listener = byRoute.get(route);
    if (listener === undefined) {
      listener = function countOnClose(this: ServerResponse): void {
        metrics.request(route, countedStatus(this));
      };
      byRoute.set(route, listener);
    }
    return listener;
  };
  const unmatched = (request: FastifyRequest, res: ServerResponse): void => {
    const status = countedStatus(res);
    metrics.request(status === 405 ? (request.url.split('?', 1)[0] ?? request.url) : UNMATCHED, status);
  };
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    const res = reply.raw;
    if (route !== undefined) res.on('close', listenerFor(route));
    else res.on('close', () => unmatched(request, res));
    done();
  });
}
