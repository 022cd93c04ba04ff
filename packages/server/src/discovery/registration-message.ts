import { decode } from '@msgpack/msgpack';
import { err, ok, parseWorkerUrl, parseZmqAddress, type Result, type WorkerAddress } from '@pd-router/core';
import type { RejectReason } from '../workers/dynamic-metrics.js';
import type { WorkerRole } from '../workers/worker.js';
import { type Cidr, inCidrs } from './cidr.js';

/** A valid registration: which pool, and the worker's addresses. */
export interface Registration {
  readonly role: WorkerRole;
  /** `http://H:P:zmq://ZH:ZP`, as a static worker would be given. */
  readonly spec: string;
  readonly address: WorkerAddress;
}

export interface Refusal {
  readonly reason: RejectReason;
  readonly message: string;
}

/** Registrations are three short strings; anything near this is not one (and is not decoded). */
export const MAX_REGISTRATION_BYTES = 4_096;

const ROLES: Readonly<Record<string, WorkerRole>> = { P: 'prefill', D: 'decode' };

/**
 * Reads one message of vLLM's `P2pNcclEngine.ping` as the ROUTER receives it: the DEALER's
 * routing id frame, then one msgpack map `{type: "P"|"D", http_address: "ip:port",
 * zmq_address: "ip:port"}`. The map is the last frame, so a REQ-style empty delimiter frame in
 * between is tolerated. Never throws: anything else is a refusal with a reason (the metric label)
 * and a message (the log line). With an allow-list, both announced hosts must be IPv4 addresses
 * inside it.
 *
 * @example
 * parseRegistration([id, encode({ type: 'D', http_address: '10.0.0.2:8200', zmq_address: '10.0.0.2:14580' })], []);
 * // { ok: true, value: { role: 'decode', spec: 'http://10.0.0.2:8200:zmq://10.0.0.2:14580', address } }
 */
export function parseRegistration(
  frames: readonly Uint8Array[],
  allow: readonly Cidr[],
): Result<Registration, Refusal> {
  const refuse = (reason: RejectReason, message: string) => err({ reason, message });
  const payload = frames[frames.length - 1];
  if (frames.length < 2 || payload === undefined) {
    return refuse('frames', `expected a routing id and a msgpack frame, got ${frames.length} frame(s)`);
  }
  if (payload.byteLength > MAX_REGISTRATION_BYTES) {
    return refuse('not_msgpack', `a ${payload.byteLength}-byte frame is too large for a registration`);
  }
  let message: unknown;
  try {
    message = decode(payload);
  } catch (error) {
    return refuse('not_msgpack', `not msgpack: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (
    typeof message !== 'object' ||
    message === null ||
    Array.isArray(message) ||
    message instanceof Uint8Array
  ) {
    return refuse('not_a_map', `expected a msgpack map, got ${describe(message)}`);
  }
  const fields = message as Record<string, unknown>;
  const type = fields['type'];
  const role = typeof type === 'string' ? ROLES[type] : undefined;
  if (role === undefined)
    return refuse('unknown_type', `unknown type ${describe(type)} (expected "P" or "D")`);
  const http = fields['http_address'];
  const zmqText = fields['zmq_address'];
  if (typeof zmqText !== 'string') return refuse('bad_zmq_address', `zmq_address is ${describe(zmqText)}`);
  const zmq = parseZmqAddress(zmqText);
  if (!zmq.ok) return refuse('bad_zmq_address', zmq.error.message);
  if (typeof http !== 'string') return refuse('bad_http_address', `http_address is ${describe(http)}`);
  // vLLM sends "ip:port" (a scheme is tolerated); the port is never implied.
  const hasScheme = /^https?:\/\//i.test(http);
  if (!/:\d+\/?$/.test(http))
    return refuse('bad_http_address', `http_address ${describe(http)} has no :port`);
  const httpUrl = hasScheme ? http : `http://${http}`;
  const spec = `${httpUrl}:zmq://${zmq.value.text}`;
  const address = parseWorkerUrl(spec);
  if (!address.ok)
    return refuse('bad_http_address', `http_address ${JSON.stringify(http)}: ${address.error.message}`);
  if (allow.length > 0) {
    const httpHost = new URL(address.value.url).hostname;
    for (const host of [httpHost, zmq.value.host]) {
      if (!inCidrs(host, allow)) {
        return refuse(
          'not_allowed',
          `${host} (${role}, http ${http}, zmq ${zmq.value.text}) is outside --discovery-allow`,
        );
      }
    }
  }
  return ok({ role, spec, address: address.value });
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'nil';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes of binary`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return typeof value === 'object' ? 'a map' : `${typeof value} ${String(value)}`;
}
