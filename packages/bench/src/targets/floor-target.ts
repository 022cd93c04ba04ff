import { randomFillSync } from 'node:crypto';
import { canonicalize, createRequestId, prefillBody } from '@pd-router/core';
import type { Dispatcher } from 'undici';
import type { ClusterAddresses } from '../cluster/mock-cluster.js';
import type { LoadTarget } from '../load/generator.js';
import { sendStep } from '../load/http-step.js';
import type { RequestProbe } from '../load/recorder.js';
import { createPool, type PoolSettings, type RequestSpec } from './http-target.js';

/**
 * The floor: what a PD request costs with no router at all. The generator itself sends the
 * prefill (the client body with max_tokens 1, as the reference proxy makes it), reads it to the
 * end, then sends the decode (the canonical client body) with the same P2P NCCL request id, so the
 * mock's KV hand-off runs exactly as behind a router. The bodies come from @pd-router/core, the
 * same code the router uses, but are built once per run, not per request: the floor is the cost
 * of the two upstream calls and nothing else.
 */

/** The two upstream bodies of a client body, or an Error saying why the body is not usable. */
export function floorBodies(clientBody: Uint8Array): { prefill: Buffer; decode: Buffer } {
  const decode = canonicalize(clientBody);
  if (!decode.ok) throw new Error(`floor: the scenario body is not valid JSON: ${decode.error.message}`);
  const prefill = prefillBody(clientBody);
  if (!prefill.ok) throw new Error(`floor: the scenario body is not valid JSON: ${prefill.error.message}`);
  // ensure_ascii output: latin1 and utf8 bytes are the same.
  return { prefill: Buffer.from(prefill.value, 'latin1'), decode: Buffer.from(decode.value, 'latin1') };
}

/**
 * @example
 * const floor = createFloorTarget(cluster, spec, { connections: 64, timeoutMs: 30_000 });
 */
export function createFloorTarget(
  cluster: ClusterAddresses,
  spec: RequestSpec,
  settings: PoolSettings,
): LoadTarget {
  const { prefill, decode } = floorBodies(spec.body);
  const prefillPool = createPool(cluster.prefill.url, settings);
  const decodePool = createPool(cluster.decode.url, settings);
  const random16 = new Uint8Array(16);
  const accept = spec.stream ? 'text/event-stream' : '*/*';

  const options = (id: string, body: Buffer): Dispatcher.DispatchOptions => ({
    path: spec.path,
    method: 'POST',
    headers: ['content-type', 'application/json', 'accept', accept, 'x-request-id', id],
    body,
  });

  return {
    stream: spec.stream,
    send(probe: RequestProbe): void {
      const id = createRequestId(
        cluster.prefill.kvAddress,
        cluster.decode.kvAddress,
        randomFillSync(random16),
      );
      sendStep({
        dispatcher: prefillPool,
        options: options(id, prefill),
        probe,
        measured: false,
        next: () => sendStep({ dispatcher: decodePool, options: options(id, decode), probe, measured: true }),
      });
    },
    async close(): Promise<void> {
      await Promise.all([prefillPool.destroy(), decodePool.destroy()]);
    },
  };
}
