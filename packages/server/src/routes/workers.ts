import type { FastifyInstance } from 'fastify';
import { adminWorkerSchema } from '../admin/worker-view.js';
import { bearerAuth } from './auth.js';
import { JSON_CONTENT_TYPE } from './context.js';

// The public list shows a subset of the admin view's fields (in this order), typed as the admin API types them.
const { id, role, url, zmq, source, healthy, kvReady, draining, inFlight } = adminWorkerSchema.properties;
const workerSchema = {
  type: 'object',
  properties: { id, role, url, zmq, source, healthy, kvReady, draining, inFlight },
} as const;
const listSchema = {
  type: 'object',
  properties: {
    workers: { type: 'array', items: workerSchema },
    /** What an operator must know, e.g. discovery open to a whole network. */
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const NO_WARNINGS: readonly string[] = [];

/**
 * `GET /workers`: every worker with its role, addresses, health and in-flight count, and warnings
 * about how the worker set is exposed (discovery without `--discovery-allow`). It names
 * internal addresses, so it takes the same API keys as the completion routes (or the admin key).
 */
export async function workersRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const keys =
    ctx.config.adminApiKey === undefined
      ? ctx.config.apiKeys
      : [...ctx.config.apiKeys, ctx.config.adminApiKey];
  const auth = bearerAuth(keys);
  if (auth !== undefined) app.addHook('onRequest', auth);
  app.get('/workers', { schema: { response: { 200: listSchema } } }, (_request, reply) => {
    const workers = ctx.registry.list().map((w) => ({
      id: w.id,
      role: w.role,
      url: w.url,
      zmq: w.address.zmq.text,
      source: w.source,
      healthy: w.healthy,
      kvReady: w.health.kvReady,
      draining: w.draining,
      inFlight: w.inFlight,
    }));
    // Decorated by installDynamicWorkers, after this plugin is registered: looked up per request.
    const warnings = app.hasDecorator('dynamicWorkers') ? app.dynamicWorkers.warnings : NO_WARNINGS;
    return reply.header('content-type', JSON_CONTENT_TYPE).send({ workers, warnings });
  });
}
