import type { FastifyInstance } from 'fastify';
import type { WorkerRegistry } from '../workers/registry.js';
import { JSON_CONTENT_TYPE } from './context.js';

interface PoolHealth {
  healthy: number;
  total: number;
}

function poolHealth(registry: WorkerRegistry): { prefill: PoolHealth; decode: PoolHealth } {
  const prefill = { healthy: registry.available('prefill').length, total: 0 };
  const decode = { healthy: registry.available('decode').length, total: 0 };
  for (const w of registry.list()) {
    if (w.role === 'prefill') prefill.total += 1;
    else decode.total += 1;
  }
  return { prefill, decode };
}

const poolSchema = {
  type: 'object',
  properties: { healthy: { type: 'integer' }, total: { type: 'integer' } },
} as const;
const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    reason: { type: 'string' },
    prefill: poolSchema,
    decode: poolSchema,
  },
} as const;
const okSchema = { type: 'object', properties: { status: { type: 'string' } } } as const;

/**
 * `GET /health`: 200 when at least one prefill and one decode worker can take requests, else 503
 * naming the empty pool. `/readiness` is the same, and also 503 while shutting down. `/liveness`
 * answers 200 as long as the process serves HTTP.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const state = (readiness: boolean) => {
    const pools = poolHealth(ctx.registry);
    let reason: string | undefined;
    if (readiness && ctx.closing) reason = 'shutting down';
    else if (readiness && ctx.startup !== undefined) reason = ctx.startup;
    else if (pools.prefill.healthy === 0) reason = 'no healthy prefill worker';
    else if (pools.decode.healthy === 0) reason = 'no healthy decode worker';
    return reason === undefined ? { status: 'ok', ...pools } : { status: 'unavailable', reason, ...pools };
  };
  const schema = { response: { 200: healthSchema, 503: healthSchema } };
  app.get('/health', { schema }, (_request, reply) => {
    const body = state(false);
    const status = body.status === 'ok' ? 200 : 503;
    return reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(body);
  });
  app.get('/readiness', { schema }, (_request, reply) => {
    const body = state(true);
    const status = body.status === 'ok' ? 200 : 503;
    return reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(body);
  });
  app.get('/liveness', { schema: { response: { 200: okSchema } } }, (_request, reply) => {
    return reply.header('content-type', JSON_CONTENT_TYPE).send({ status: 'ok' });
  });
}
