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
import type { PreparedRequest } from './types.js';

const PYTHON_BYTES = { encoding: 'python-bytes' } as const;
const KV_TRANSFER_PARAMS = 'kv_transfer_params';
const KV_MEMBER_PREFIX = '"kv_transfer_params": ';
const STREAM_MEMBER = '"stream": false';
const MAX_TOKENS_MEMBER = '"max_tokens": 1';
const MAX_COMPLETION_TOKENS_MEMBER = '"max_completion_tokens": 1';
/** Where the prefill body's `kv_transfer_params` goes in the member list. */
const KV_SLOT = '\u0000kv';

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
    const members = this.#members.slice();
    if (this.#kvIndex >= 0) members[this.#kvIndex] = member;
    else members.push(member);
    return `{${members.join(', ')}}`;
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
  const members: string[] = [];
  const prefill: string[] = [];
  let kvIndex = -1;
  let hasStream = false;
  let hasMaxTokens = false;
  for (const [key, value] of body) {
    const member = `${serializePyJson(key)}: ${serializePyJson(value)}`;
    members.push(member);
    switch (key) {
      case KV_TRANSFER_PARAMS:
        kvIndex = members.length - 1;
        prefill.push(KV_SLOT);
        break;
      case 'stream':
        hasStream = true;
        prefill.push(STREAM_MEMBER);
        break;
      case 'max_tokens':
        hasMaxTokens = true;
        prefill.push(MAX_TOKENS_MEMBER);
        break;
      case 'max_completion_tokens':
        prefill.push(MAX_COMPLETION_TOKENS_MEMBER);
        break;
      case 'stream_options':
        break;
      default:
        prefill.push(member);
    }
  }
  // Python dict order: new keys are appended in the order the proxy sets them.
  if (kvIndex < 0) prefill.push(KV_SLOT);
  if (!hasStream) prefill.push(STREAM_MEMBER);
  if (!hasMaxTokens) prefill.push(MAX_TOKENS_MEMBER);
  return ok(new MooncakeRequest(body, members, kvIndex, prefill));
}
