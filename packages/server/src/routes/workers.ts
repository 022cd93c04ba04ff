import type { FastifyInstance } from 'fastify';
import { bearerAuth } from './auth.js';
import { JSON_CONTENT_TYPE } from './context.js';

const workerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    url: { type: 'string' },
    zmq: { type: 'string' },
    source: { type: 'string' },
    healthy: { type: 'boolean' },
    draining: { type: 'boolean' },
    inFlight: { type: 'integer' },
  },
} as const;
const listSchema = {
  type: 'object',
  properties: { workers: { type: 'array', items: workerSchema } },
} as const;

/**
 * `GET /workers`: every worker with its role, addresses, health and in-flight count. It names
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
      draining: w.draining,
      inFlight: w.inFlight,
    }));
    return reply.header('content-type', JSON_CONTENT_TYPE).send({ workers });
  });
}
