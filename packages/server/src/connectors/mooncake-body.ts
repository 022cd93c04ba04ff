import type { CoreError } from '@pd-router/core';
import {
  canonicalRequest,
  err,
  ok,
  type PyObject,
  parsePyJson,
  type Result,
  serializePyJson,
} from '@pd-router/core';
import { ServerError } from '../errors.js';
import { batchedParam } from './batch.js';
import { KV_MEMBER_PREFIX, PYTHON_BYTES, splitMembers, withKvMember } from './members.js';
import type { PreparedRequest } from './types.js';

/** Where the prefill body's `kv_transfer_params` goes in the member list. */
const KV_SLOT = '\u0000kv';
/** Removed from the prefill body only; `min_tokens` and `min_completion_tokens` stay, as the proxy keeps them. */
const PREFILL_DROPPED: ReadonlySet<string> = new Set(['stream_options']);

/**
 * A client request as vLLM's Mooncake proxy (`examples/disaggregated/mooncake_connector/
 * mooncake_connector_proxy.py`) shapes it, parsed once: the client's members serialized once, and
 * the prefill body as a template that only lacks the `transfer_id`.
 */
export class MooncakeRequest implements PreparedRequest {
  readonly body: PyObject;
  /** Unused: the prefill body holds the request id (`prefillBody`). */
  readonly prefill = '';
  /** Unused: the decode body names the prefill's engine (`decodeBody`). */
  readonly decode = undefined;
  /** `"key": value` of every client member, in dict order. */
  readonly #members: readonly string[];
  /** Index of the client's own `kv_transfer_params` in `members`, or -1. */
  readonly #kvIndex: number;
  /** The prefill body split where its `kv_transfer_params` goes. */
  readonly #prefillHead: string;
  readonly #prefillTail: string;

  constructor(body: PyObject, members: readonly string[], kvIndex: number, prefill: readonly string[]) {
    this.body = body;
    this.#members = members;
    this.#kvIndex = kvIndex;
    const text = `{${prefill.join(', ')}}`;
    const at = text.indexOf(KV_SLOT);
    this.#prefillHead = text.slice(0, at);
    this.#prefillTail = text.slice(at + KV_SLOT.length);
  }

  /**
   * The prefill body: the client's, with `kv_transfer_params` = `{"do_remote_decode": true,
   * "do_remote_prefill": false, "transfer_id": "xfer-<id>"}`, `stream: false`, `max_tokens: 1` (each in
   * place, else appended in that order), `max_completion_tokens: 1` when present, no `stream_options`.
   * `min_tokens` and `min_completion_tokens` are kept, as the proxy keeps them.
   */
  prefillBody(requestId: string): string {
    return `${this.#prefillHead}${KV_MEMBER_PREFIX}{"do_remote_decode": true, "do_remote_prefill": false, "transfer_id": ${serializePyJson(`xfer-${requestId}`)}}${this.#prefillTail}`;
  }

  /**
   * The decode body: the client's, with `kv_transfer_params` (in place, else last) naming the
   * prefill's bootstrap server and the engine id of the DP rank the prefill runs on.
   */
  decodeBody(requestId: string, bootstrapAddr: string, engineId: string): string {
    const member =
      `${KV_MEMBER_PREFIX}{"do_remote_decode": false, "do_remote_prefill": true, ` +
      `"remote_bootstrap_addr": ${serializePyJson(bootstrapAddr)}, "remote_engine_id": ${serializePyJson(engineId)}, ` +
      `"transfer_id": ${serializePyJson(`xfer-${requestId}`)}}`;
    return withKvMember(this.#members, this.#kvIndex, member);
  }
}

/**
 * Parses a client body as the Mooncake proxy does (`await request.json()`: BOM and UTF-16/32
 * detected, invalid UTF-8 a 400) and prepares both legs' bodies. A request of several sequences
 * (`n` > 1, a list of prompts) is a 400 `PD_ERR_MOONCAKE_BATCH_UNSUPPORTED`: vLLM's sub-requests
 * of a batch would share one `transfer_id`, so their KV transfers could not be told apart.
 *
 * @example
 * const r = prepareMooncakeRequest(Buffer.from('{"prompt": "hi", "max_tokens": 5}'));
 * r.ok && r.value.prefillBody(id); // '{"prompt": "hi", "max_tokens": 1, "kv_transfer_params": {...}, "stream": false}'
 */
export function prepareMooncakeRequest(raw: Uint8Array): Result<MooncakeRequest, CoreError | ServerError> {
  const parsed = parsePyJson(raw, PYTHON_BYTES);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  // Core words the not-an-object error (and its byte position); this path is rare.
  if (!(body instanceof Map)) {
    const words = canonicalRequest(raw, PYTHON_BYTES);
    return words.ok
      ? err(new ServerError('PD_ERR_BAD_REQUEST', 'the request body must be a JSON object'))
      : words;
  }
  const batched = batchedParam(body);
  if (batched !== undefined) {
    const what = batched === 'n' ? 'n > 1 is' : 'a list of prompts is';
    return err(
      new ServerError(
        'PD_ERR_MOONCAKE_BATCH_UNSUPPORTED',
        `${what} not supported with the Mooncake connector: vLLM's sequences of one request share its transfer_id, so their KV cannot be told apart. Send one request per prompt and per sample.`,
        { param: batched },
      ),
    );
  }
  const { members, kvIndex, prefill } = splitMembers(body, KV_SLOT, PREFILL_DROPPED);
  return ok(new MooncakeRequest(body, members, kvIndex, prefill));
}
