import type { JsonValue } from './request-body.js';

/** vLLM's default KV cache block size, in tokens. */
export const NIXL_BLOCK_SIZE = 16;

/**
 * Blocks a prefill hands over for a prompt: full blocks only, as the NIXL connector did before hybrid
 * allocation ("if prompt < block_size, no xfer"), so a prompt shorter than one block hands over none.
 */
export function nixlBlockCount(promptTokens: number): number {
  return Math.floor(promptTokens / NIXL_BLOCK_SIZE);
}

/** Python truthiness of a parsed JSON value: the connector tests `params.get(...)`, not `is True`. */
export function pyTruthy(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function asObject(value: JsonValue | undefined): { readonly [key: string]: JsonValue } | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/**
 * True when a request asks a prefill to keep its KV for a remote decode: truthy `do_remote_decode`
 * (vLLM also skips requests still marked `do_remote_prefill`: those are decode-side).
 */
export function wantsRemoteDecode(params: JsonValue | undefined): boolean {
  const p = asObject(params);
  return p !== undefined && pyTruthy(p['do_remote_decode']) && !pyTruthy(p['do_remote_prefill']);
}

/** The remote side of a transfer, as a decode reads it from valid `kv_transfer_params`. */
export interface NixlRemoteParams {
  readonly engineId: string;
  readonly requestId: string;
  readonly host: string;
  readonly port: number;
  readonly blockIds: readonly number[];
}

export type DecodeParamsCheck =
  | { readonly kind: 'remote'; readonly params: NixlRemoteParams }
  /** `do_remote_prefill` with empty (or no) `remote_block_ids`: nothing to read, prefill locally. */
  | { readonly kind: 'no-blocks' }
  /** No params, or no truthy `do_remote_prefill`: a plain request for this decode. */
  | { readonly kind: 'missing' }
  /** vLLM's "Got invalid KVTransferParams": a required field missing (or, here, mistyped). */
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

const REQUIRED = ['remote_engine_id', 'remote_request_id', 'remote_host', 'remote_port'] as const;

/**
 * Classifies a decode request's `kv_transfer_params` in the connector's order: params and
 * `do_remote_prefill` first, then `remote_block_ids`, then the four address fields (presence, as
 * vLLM checks; the mock also checks their types, since it really connects).
 *
 * @example
 * checkDecodeParams({ do_remote_prefill: true, remote_block_ids: [] }) // { kind: 'no-blocks' }
 */
export function checkDecodeParams(value: JsonValue | undefined): DecodeParamsCheck {
  const p = asObject(value);
  if (p === undefined || !pyTruthy(p['do_remote_prefill'])) return { kind: 'missing' };
  const blocks = p['remote_block_ids'];
  if (!pyTruthy(blocks)) return { kind: 'no-blocks' };
  const problems: string[] = REQUIRED.filter((key) => !(key in p)).map((key) => `${key} missing`);
  if (problems.length > 0) return { kind: 'invalid', problems };
  const engineId = p['remote_engine_id'];
  const requestId = p['remote_request_id'];
  const host = p['remote_host'];
  const port = p['remote_port'];
  if (typeof engineId !== 'string' || engineId === '') problems.push('remote_engine_id not a string');
  if (typeof requestId !== 'string' || requestId === '') problems.push('remote_request_id not a string');
  if (typeof host !== 'string' || host === '') problems.push('remote_host not a string');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    problems.push('remote_port not a port number');
  const blockIds =
    Array.isArray(blocks) && blocks.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0)
      ? (blocks as number[])
      : undefined;
  if (blockIds === undefined) problems.push('remote_block_ids not a list of block ids');
  if (problems.length > 0) return { kind: 'invalid', problems };
  return {
    kind: 'remote',
    params: {
      engineId: engineId as string,
      requestId: requestId as string,
      host: host as string,
      port: port as number,
      blockIds: blockIds as number[],
    },
  };
}

/** What a prefill puts into its answer's `kv_transfer_params`. */
export interface PrefillParamsInput {
  readonly blockIds: readonly number[];
  readonly engineId: string;
  readonly requestId: string;
  readonly host: string;
  readonly port: number;
  /** Leave `remote_engine_id` out (fault `nixl-bad-params`). */
  readonly omitEngineId?: boolean;
}

/**
 * The `kv_transfer_params` of a prefill's answer, keys in the order vLLM's
 * `NixlConnectorScheduler.request_finished` builds its dict (connector v2, `remote_request_id` included).
 *
 * @example
 * Object.keys(prefillKvTransferParams({ blockIds: [1], engineId: 'e', requestId: 'r', host: 'localhost', port: 5600 }))
 * // do_remote_prefill, do_remote_decode, remote_block_ids, remote_engine_id, remote_request_id, remote_host, remote_port, tp_size
 */
export function prefillKvTransferParams(i: PrefillParamsInput): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {
    do_remote_prefill: true,
    do_remote_decode: false,
    remote_block_ids: [...i.blockIds],
  };
  if (i.omitEngineId !== true) out['remote_engine_id'] = i.engineId;
  out['remote_request_id'] = i.requestId;
  out['remote_host'] = i.host;
  out['remote_port'] = i.port;
  out['tp_size'] = 1;
  return out;
}

/**
 * The IPv4 loopback address a side-channel host stands for, without any DNS lookup: `localhost` is
 * 127.0.0.1 and 127.0.0.0/8 stays as it is. Anything else is undefined: the mock never connects off
 * the machine (IPv6 `::1` included: its side channel listens on IPv4).
 *
 * @example
 * loopbackHost('localhost') // '127.0.0.1'
 * loopbackHost('10.0.0.5')  // undefined
 */
export function loopbackHost(host: string): string | undefined {
  if (host.toLowerCase() === 'localhost') return '127.0.0.1';
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (m === null) return undefined;
  return m.slice(1).every((octet) => Number(octet) <= 255) ? host : undefined;
}
