import { canonicalRequest, err, ok, type PyObject, parsePyJson, serializePyJson } from '@pd-router/core';
import type { NixlConfig } from '../config/types.js';
import { ServerError } from '../errors.js';
import { NIXL_TOY_PROXY_HEADER_ORDER } from '../upstream/headers.js';
import { batchedParam } from './batch.js';
import { hostOf, isLocalHost } from './local-host.js';
import { KV_MEMBER_PREFIX, PYTHON_BYTES, splitMembers, withKvMember } from './members.js';
import { checkPrefillParams } from './nixl-params.js';
import { runSequential } from './sequential.js';
import type { DecodeRequest, PreparedRequest, SequentialConnector } from './types.js';
import { uuid4 } from './uuid4.js';

/**
 * A prefill answer is one token plus whatever the client asked to be echoed (`echo`, prompt
 * logprobs), so it can approach the prompt's size several times over; beyond this it is refused.
 */
export const NIXL_PREFILL_ANSWER_LIMIT_BYTES = 67_108_864;

/** The toy proxy's fixed request dict, as httpx 0.23.3 (json.dumps defaults) writes it. */
const SKELETON_MEMBER =
  KV_MEMBER_PREFIX +
  '{"do_remote_decode": true, "do_remote_prefill": false, "remote_engine_id": null, "remote_block_ids": null, "remote_host": null, "remote_port": null}';
/** Removed from the prefill body only (the decode keeps them as the client sent them). */
const PREFILL_DROPPED: ReadonlySet<string> = new Set([
  'stream_options',
  'min_tokens',
  'min_completion_tokens',
]);

export interface NixlConnectorOptions extends NixlConfig {
  /** Most JSON values in a client body (`--max-json-elements`); default: no limit. */
  readonly maxElements?: number;
  /** Whether a host is this machine; tests replace it to make a loopback prefill look remote. */
  readonly isLocalHost?: (host: string) => boolean;
}

/** A NIXL request: the client's members serialized once, reused by the decode body. */
class NixlPreparedRequest implements PreparedRequest {
  readonly body: PyObject;
  readonly prefill: string;
  readonly decode = undefined;
  /** `"key": value` of every client member, in dict order. */
  readonly members: readonly string[];
  /** Index of the client's own `kv_transfer_params` in `members`, or -1. */
  readonly kvIndex: number;

  constructor(body: PyObject, prefill: string, members: readonly string[], kvIndex: number) {
    this.body = body;
    this.prefill = prefill;
    this.members = members;
    this.kvIndex = kvIndex;
  }

  /** The client body, re-serialized, with `kv_transfer_params` set to `member` (in place, else last). */
  decodeWith(member: string | undefined): string {
    if (member === undefined) return `{${this.members.join(', ')}}`;
    return withKvMember(this.members, this.kvIndex, member);
  }
}

function batchError(body: PyObject): ServerError | undefined {
  const param = batchedParam(body);
  if (param === 'n') {
    return new ServerError(
      'PD_ERR_NIXL_BATCH_UNSUPPORTED',
      'n > 1 is not supported with the NIXL connector: vLLM hands over the KV of one sequence only. Send n separate requests.',
      { param: 'n' },
    );
  }
  if (param === 'prompt') {
    return new ServerError(
      'PD_ERR_NIXL_BATCH_UNSUPPORTED',
      'a list of prompts is not supported with the NIXL connector: vLLM returns the kv_transfer_params of the first prompt only. Send one request per prompt.',
      { param: 'prompt' },
    );
  }
  return undefined;
}

/**
 * vLLM's NixlConnector, exactly as its toy proxy (`tests/v1/kv_connector/nixl_integration/
 * toy_proxy_server.py`) drives it, byte for byte (docs/kv-connectors.md):
 * - parsing is `json.loads(bytes)` (BOM, UTF-16/32 detected; invalid UTF-8 is a 400);
 * - prefill body: the client's, with `kv_transfer_params` set to the request skeleton, `stream:
 *   false` and `max_tokens: 1` (in place, else appended in that order), `max_completion_tokens: 1`
 *   when present, and without `stream_options`, `min_tokens`, `min_completion_tokens`;
 * - decode body: the client's, with the prefill's `kv_transfer_params` (in place, else last);
 * - X-Request-Id: a uuid4, the same on both legs.
 *
 * Where the toy proxy answers 500 or passes junk on, this connector is stricter (docs/kv-connectors.md):
 * batched requests are a 400, an answer that is not a JSON object is a 502, unusable params make
 * the decode recompute (counted and logged) or fail (`onMissingParams: 'fail'`), and a loopback
 * `remote_host` from a remote prefill is rewritten to the prefill's host (`rewriteRemoteHost`).
 *
 * @example
 * const connector = createNixlConnector({ onMissingParams: 'recompute', rewriteRemoteHost: true });
 */
export function createNixlConnector(options: NixlConnectorOptions): SequentialConnector {
  const isLocal = options.isLocalHost ?? isLocalHost;
  const fail = options.onMissingParams === 'fail';
  const clientParse =
    options.maxElements === undefined ? PYTHON_BYTES : { ...PYTHON_BYTES, maxElements: options.maxElements };
  const connector: SequentialConnector = {
    name: 'nixl',
    headerOrder: NIXL_TOY_PROXY_HEADER_ORDER,
    prefillAnswerLimitBytes: NIXL_PREFILL_ANSWER_LIMIT_BYTES,

    // `this`, not `connector`: a copy with other settings (tests: a smaller answer limit) runs with them.
    run(request, legs) {
      return runSequential(this, request, legs);
    },

    prepare(raw) {
      const parsed = parsePyJson(raw, clientParse);
      if (!parsed.ok) return parsed;
      const body = parsed.value;
      // Core words the not-an-object error (and its byte position); this path is rare.
      if (!(body instanceof Map)) return canonicalRequest(raw, PYTHON_BYTES);
      const batch = batchError(body);
      if (batch !== undefined) return err(batch);
      const { members, kvIndex, prefill } = splitMembers(body, SKELETON_MEMBER, PREFILL_DROPPED);
      return ok(new NixlPreparedRequest(body, `{${prefill.join(', ')}}`, members, kvIndex));
    },

    requestId(_prefill, _decode, random16) {
      return uuid4(random16);
    },

    // The client body without kv_transfer_params: vLLM's NixlConnector then prefills locally.
    decodeOnlyBody: (request) =>
      request instanceof NixlPreparedRequest ? request.decodeWith(undefined) : undefined,

    decodeBody(request, prefillAnswer, prefillAddress) {
      if (!(request instanceof NixlPreparedRequest)) {
        return err(new ServerError('PD_ERR_INTERNAL', 'the NIXL connector got a request it did not prepare'));
      }
      const answer = parsePyJson(prefillAnswer ?? new Uint8Array(0), PYTHON_BYTES);
      if (!answer.ok || !(answer.value instanceof Map)) {
        const why = answer.ok ? 'is not a JSON object' : `is not JSON (${answer.error.message})`;
        // As P2P NCCL, which never reads the answer, would go on: unless told to fail, the decode
        // recomputes (counted and logged, and the prefill's bad_response is counted by the flow).
        if (!fail) {
          return ok({
            body: request.decodeWith(undefined),
            recompute: { reason: 'bad_answer', detail: `the prefill worker's answer ${why}` },
          });
        }
        return err(
          new ServerError('PD_ERR_PREFILL_BAD_ANSWER', `the prefill worker's answer ${why}`, {
            cause: answer.ok ? undefined : answer.error,
          }),
        );
      }
      const check = checkPrefillParams(answer.value);
      if (check.kind === 'unusable') {
        // null is vLLM's own "nothing held" (first token EOS): never an error, the decode recomputes.
        if (fail && check.reason !== 'null_params') {
          const code =
            check.reason === 'invalid_params' ? 'PD_ERR_KV_PARAMS_INVALID' : 'PD_ERR_KV_PARAMS_MISSING';
          return err(new ServerError(code, `the prefill worker's answer is unusable: ${check.detail}`));
        }
        const decode: DecodeRequest = {
          body: request.decodeWith(undefined),
          recompute: { reason: check.reason, detail: check.detail },
        };
        return ok(decode);
      }
      let params = check.params;
      let rewrite: DecodeRequest['remoteHostRewrite'];
      const remoteHost = params.get('remote_host');
      if (options.rewriteRemoteHost && typeof remoteHost === 'string' && isLocal(remoteHost)) {
        const prefillHost = hostOf(prefillAddress);
        if (!isLocal(prefillHost)) {
          // Copy: Map order is kept, so remote_host stays where vLLM put it.
          params = new Map(params);
          params.set('remote_host', prefillHost);
          rewrite = { from: remoteHost, to: prefillHost };
        }
      }
      const body = request.decodeWith(KV_MEMBER_PREFIX + serializePyJson(params));
      return ok(rewrite === undefined ? { body } : { body, remoteHostRewrite: rewrite });
    },
  };
  return connector;
}
