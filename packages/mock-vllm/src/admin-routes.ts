import type { ServerResponse } from 'node:http';
import { sendJson } from './http-io.js';
import { waitingCount } from './info-routes.js';
import type { MockContext } from './mock-context.js';
import { summarizeReceived } from './received-request.js';

/** What the admin routes need from the instance besides its context. */
export interface AdminHooks {
  /** Replaces the faults (also reopens or closes the listener for `refuse`); throws on invalid specs. */
  setFaults(value: unknown): void;
  /** Clears received requests, verdicts, faults, metrics and pending KV notices. */
  reset(): void;
  readonly url: string;
  readonly kvAddress: string;
}

/**
 * The mock's own routes under /_mock/: faults (GET, POST, DELETE), received (GET), verdicts (GET),
 * state (GET) and reset (POST). Not part of vLLM's API.
 */
export function handleAdminRoute(
  ctx: MockContext,
  hooks: AdminHooks,
  method: string,
  path: string,
  body: Buffer,
  res: ServerResponse,
): void {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_mock/faults':
      sendJson(res, 200, { faults: ctx.faults.list() });
      return;
    case 'POST /_mock/faults': {
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
        hooks.setFaults(value);
      } catch (e) {
        sendJson(res, 400, { error: (e as Error).message });
        return;
      }
      sendJson(res, 200, { faults: ctx.faults.list() });
      return;
    }
    case 'DELETE /_mock/faults':
      hooks.setFaults([]);
      sendJson(res, 200, { faults: [] });
      return;
    case 'GET /_mock/received':
      sendJson(res, 200, { count: ctx.received.length, requests: ctx.received.map(summarizeReceived) });
      return;
    case 'GET /_mock/verdicts': {
      const passed = ctx.verdicts.filter((v) => v.ok).length;
      sendJson(res, 200, {
        enabled: ctx.checker !== undefined,
        count: ctx.verdicts.length,
        passed,
        failed: ctx.verdicts.length - passed,
        verdicts: ctx.verdicts,
      });
      return;
    }
    case 'GET /_mock/state':
      sendJson(res, 200, {
        role: ctx.options.role,
        url: hooks.url,
        kvAddress: hooks.kvAddress,
        model: ctx.options.model,
        preset: ctx.options.preset,
        timing: ctx.options.timing,
        running: ctx.perf?.running ?? ctx.scheduler.running,
        waiting: waitingCount(ctx),
        inflight: ctx.inflight,
        pendingKv: ctx.inbox.pendingCount,
        kvConnector: ctx.options.kvConnector,
        ...(ctx.nixl === undefined
          ? {}
          : {
              nixl: {
                engineId: ctx.nixl.engineId,
                sideChannelPort: ctx.nixl.channel.port,
                remoteHost: ctx.nixl.host,
                remotePort: ctx.nixl.port,
                heldRequests: ctx.nixl.blocks.heldRequests,
                heldBlocks: ctx.nixl.blocks.heldBlocks,
              },
            }),
        ...(ctx.mooncake === undefined
          ? {}
          : {
              mooncake: {
                engineIds: ctx.mooncake.engineIds,
                workerPort: ctx.mooncake.channel.port,
                bootstrapPort: ctx.mooncake.bootstrap?.port ?? null,
                heldTransfers: ctx.mooncake.sends.heldCount,
              },
            }),
        faults: ctx.faults.list(),
      });
      return;
    case 'POST /_mock/reset':
      hooks.reset();
      sendJson(res, 200, { ok: true });
      return;
    default:
      sendJson(res, 404, { error: `no mock admin route ${route}` });
  }
}
