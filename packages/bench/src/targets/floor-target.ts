import { randomFillSync, randomUUID } from 'node:crypto';
import type { PyObject, PyValue } from '@pd-router/core';
import {
  canonicalize,
  createRequestId,
  PyNumber,
  parsePyJson,
  prefillBody,
  serializePyJson,
} from '@pd-router/core';
import type { Dispatcher } from 'undici';
import type { KvConnectorName } from '../cluster/cluster-protocol.js';
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
 *
 * With NIXL the decode body depends on the prefill's answer (its `kv_transfer_params`), so the
 * floor reads that answer and appends its params to a decode body head built once per run.
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
  kvConnector: KvConnectorName = 'p2p-nccl',
): LoadTarget {
  if (kvConnector === 'nixl') return createNixlFloorTarget(cluster, spec, settings);
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

function dispatchOptions(spec: RequestSpec, id: string, body: Buffer | string): Dispatcher.DispatchOptions {
  return {
    path: spec.path,
    method: 'POST',
    headers: [
      'content-type',
      'application/json',
      'accept',
      spec.stream ? 'text/event-stream' : '*/*',
      'x-request-id',
      id,
    ],
    body,
  };
}

const PYTHON_BYTES = { encoding: 'python-bytes' } as const;
/** vLLM's NIXL toy proxy's request skeleton (what a prefill needs to hold its blocks for a decode). */
const SKELETON: PyObject = new Map<string, PyValue>([
  ['do_remote_decode', true],
  ['do_remote_prefill', false],
  ['remote_engine_id', null],
  ['remote_block_ids', null],
  ['remote_host', null],
  ['remote_port', null],
]);

/**
 * NIXL bodies of a client body: the prefill body (the toy proxy's edits) and the decode body's
 * head, to which each request appends its prefill's `kv_transfer_params` and the closing brace.
 */
export function nixlFloorBodies(clientBody: Uint8Array): {
  prefill: Buffer;
  decodeHead: string;
  plain: string;
} {
  const parsed = parsePyJson(clientBody, PYTHON_BYTES);
  if (
    !parsed.ok ||
    !(parsed.value instanceof Map) ||
    parsed.value.size === 0 ||
    parsed.value.has('kv_transfer_params')
  ) {
    throw new Error('floor: the scenario body must be a non-empty JSON object without kv_transfer_params');
  }
  const body = parsed.value;
  const prefill = new Map(body);
  prefill.set('kv_transfer_params', SKELETON);
  prefill.set('stream', false);
  prefill.set('max_tokens', new PyNumber('1'));
  if (prefill.has('max_completion_tokens')) prefill.set('max_completion_tokens', new PyNumber('1'));
  for (const key of ['stream_options', 'min_tokens', 'min_completion_tokens']) prefill.delete(key);
  const plain = serializePyJson(body);
  return {
    prefill: Buffer.from(serializePyJson(prefill), 'latin1'),
    decodeHead: `${plain.slice(0, -1)}, "kv_transfer_params": `,
    plain,
  };
}

/** The prefill answer's `kv_transfer_params` when usable (a non-empty object), else undefined. */
function answeredParams(answer: Buffer | undefined): PyObject | undefined {
  if (answer === undefined) return undefined;
  const parsed = parsePyJson(answer, PYTHON_BYTES);
  if (!parsed.ok || !(parsed.value instanceof Map)) return undefined;
  const params = parsed.value.get('kv_transfer_params');
  return params instanceof Map && params.size > 0 ? params : undefined;
}

/**
 * The NIXL floor: prefill (skeleton params), read its answer, decode with the answered params.
 * Built from @pd-router/core alone; per request only the prefill's answer is parsed and its params
 * serialized, the least any NIXL proxy must do. An answer without params fails the request
 * (`prefill_no_kv_params`): the floor must never measure a decode that recomputes.
 */
function createNixlFloorTarget(
  cluster: ClusterAddresses,
  spec: RequestSpec,
  settings: PoolSettings,
): LoadTarget {
  const { prefill, decodeHead } = nixlFloorBodies(spec.body);
  const prefillPool = createPool(cluster.prefill.url, settings);
  const decodePool = createPool(cluster.decode.url, settings);

  return {
    stream: spec.stream,
    send(probe: RequestProbe): void {
      const id = randomUUID();
      sendStep({
        dispatcher: prefillPool,
        options: dispatchOptions(spec, id, prefill),
        probe,
        measured: false,
        collect: true,
        next: (answer) => {
          const params = answeredParams(answer);
          if (params === undefined) {
            probe.fail('prefill_no_kv_params');
            return;
          }
          const body = `${decodeHead}${serializePyJson(params)}}`;
          sendStep({
            dispatcher: decodePool,
            options: dispatchOptions(spec, id, body),
            probe,
            measured: true,
          });
        },
      });
    },
    async close(): Promise<void> {
      await Promise.all([prefillPool.destroy(), decodePool.destroy()]);
    },
  };
}
