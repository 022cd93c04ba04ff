import { parseWorkerUrl } from '@pd-router/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ServerError } from '../errors.js';
import { ADMIN_REALM, bearerAuth } from '../routes/auth.js';
import { JSON_CONTENT_TYPE, sendError } from '../routes/context.js';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker, WorkerRole } from '../workers/worker.js';
import { adminWorkerSchema, adminWorkerView } from './worker-view.js';

const ROLES = ['prefill', 'decode'] as const;
const ZMQ_UNUSED = { zmqUnused: true } as const;

const workerParams = {
  type: 'object',
  required: ['role', 'worker'],
  properties: {
    role: { type: 'string', enum: ROLES },
    worker: { type: 'string', minLength: 1 },
  },
} as const;

const oneWorker = { type: 'object', properties: { worker: adminWorkerSchema } } as const;
const addedWorker = {
  type: 'object',
  properties: { worker: adminWorkerSchema, warnings: { type: 'array', items: { type: 'string' } } },
} as const;
const workerList = {
  type: 'object',
  properties: {
    workers: { type: 'array', items: adminWorkerSchema },
    discovery: {
      type: 'object',
      properties: {
        zmq: { type: ['string', 'null'] },
        kubernetes: { type: 'boolean' },
        warnings: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

interface WorkerParams {
  readonly role: WorkerRole;
  readonly worker: string;
}

interface AddBody {
  readonly role: WorkerRole;
  readonly url: string;
  readonly bootstrap_port?: number;
}

/**
 * The worker `ref` names among `role`'s workers: its id (`decode:http://10.0.0.2:8200`), its URL
 * (`http://10.0.0.2:8200`, URL-encoded in the path), its `host:port`, or the spec it was added
 * with.
 */
function findWorker(registry: WorkerRegistry, role: WorkerRole, ref: string): Worker | undefined {
  const trimmed = ref.endsWith('/') ? ref.slice(0, -1) : ref;
  return registry
    .list()
    .find(
      (w) =>
        w.role === role &&
        (w.id === trimmed || w.url === trimmed || w.address.hostHeader === trimmed || w.spec === ref),
    );
}

/**
 * The admin API (registered only when `--admin-api-key` is set, and only for that key): list the
 * workers with their state, add one, remove one, drain or undrain one. Removing or draining never
 * cuts requests in flight: the registry keeps a removed worker's connections until they finish.
 * An encapsulated route plugin, so its auth hook guards these routes only.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  const registry = ctx.registry;
  const adminKey = ctx.config.adminApiKey;
  if (adminKey === undefined) return;
  const auth = bearerAuth([adminKey], ADMIN_REALM);
  if (auth !== undefined) app.addHook('onRequest', auth);

  const send = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(body);
  const notFound = (reply: FastifyReply, params: WorkerParams): void => {
    sendError(
      reply,
      new ServerError('PD_ERR_WORKER_NOT_FOUND', `no ${params.role} worker ${JSON.stringify(params.worker)}`),
    );
  };

  app.get('/admin/workers', { schema: { response: { 200: workerList } } }, (_request, reply) => {
    const dynamic = app.hasDecorator('dynamicWorkers') ? app.dynamicWorkers : undefined;
    return send(reply, 200, {
      workers: registry.list().map(adminWorkerView),
      discovery: {
        zmq: dynamic?.zmq?.address ?? null,
        kubernetes: ctx.config.kubernetes !== undefined,
        warnings: dynamic?.warnings ?? [],
      },
    });
  });

  app.post<{ Body: AddBody }>(
    '/admin/workers',
    {
      schema: {
        body: {
          type: 'object',
          required: ['role', 'url'],
          properties: {
            role: { type: 'string', enum: ROLES },
            url: { type: 'string', minLength: 1 },
            // Mooncake prefills: their bootstrap server's port (8998 when absent).
            bootstrap_port: { type: 'integer', minimum: 1, maximum: 65_535 },
          },
          additionalProperties: false,
        },
        response: { 201: addedWorker },
      },
    },
    (request, reply) => {
      const { role, url, bootstrap_port: bootstrapPort } = request.body;
      // NIXL needs no ZMQ address, so `http://[::1]:8000` is a whole worker there (as on the CLI).
      const parsed = parseWorkerUrl(url, ctx.config.kvConnector === 'nixl' ? ZMQ_UNUSED : undefined);
      if (!parsed.ok) {
        sendError(
          reply,
          new ServerError(parsed.error.code, parsed.error.message, { statusCode: 400, param: 'url' }),
        );
        return reply;
      }
      const address = parsed.value;
      const existing = registry.get(`${role}:${address.url}`);
      if (existing !== undefined) {
        sendError(
          reply,
          new ServerError(
            'PD_ERR_WORKER_EXISTS',
            `${role} worker ${address.url} is already in the pool (source: ${existing.source})`,
          ),
        );
        return reply;
      }
      if (bootstrapPort !== undefined) ctx.mooncake?.setPort(address.url, bootstrapPort);
      const worker = registry.add({ role, spec: url, address, source: 'admin', pending: true });
      const warnings: string[] = [];
      if (address.zmqFromHttp && ctx.config.kvConnector === 'p2p-nccl') {
        warnings.push(
          `${url} has no :zmq://HOST:PORT, so request ids name ${address.zmq.text} (its HTTP address) as its P2P NCCL ZMQ address`,
        );
      }
      request.log.info({ worker: worker.url, role, zmq: address.zmq.text }, 'admin: worker added');
      return send(reply, 201, { worker: adminWorkerView(worker), warnings });
    },
  );

  app.delete<{ Params: WorkerParams }>(
    '/admin/workers/:role/:worker',
    { schema: { params: workerParams, response: { 200: oneWorker } } },
    (request, reply) => {
      const worker = findWorker(registry, request.params.role, request.params.worker);
      if (worker === undefined) return notFound(reply, request.params);
      registry.remove(worker.id);
      request.log.info(
        { worker: worker.url, role: worker.role, inFlight: worker.inFlight, source: worker.source },
        'admin: worker removed (in-flight requests finish)',
      );
      return send(reply, 200, { worker: adminWorkerView(worker) });
    },
  );

  for (const action of ['drain', 'undrain'] as const) {
    app.post<{ Params: WorkerParams }>(
      `/admin/workers/:role/:worker/${action}`,
      { schema: { params: workerParams, response: { 200: oneWorker } } },
      (request, reply) => {
        const worker = findWorker(registry, request.params.role, request.params.worker);
        if (worker === undefined) return notFound(reply, request.params);
        registry.drain(worker.id, action === 'drain');
        request.log.info(
          { worker: worker.url, role: worker.role, inFlight: worker.inFlight },
          `admin: worker ${action}ed`,
        );
        return send(reply, 200, { worker: adminWorkerView(worker) });
      },
    );
  }
}
