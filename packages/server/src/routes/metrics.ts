import type { FastifyInstance } from 'fastify';

/** `GET /metrics` on the main port (when `prometheusPort` is 0): Prometheus text format. */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.header('content-type', ctx.metrics.registry.contentType).send(text);
  });
}
