import { PyNumber, type PyObject, type PyValue } from '@pd-router/core';

/**
 * Why a decode goes without `kv_transfer_params` (and so recomputes the prompt), as counted in
 * `pd_router_nixl_recomputes_total{reason}`.
 * - `null_params`: the prefill answered `"kv_transfer_params": null`. vLLM does this when the
 *   request did not end length-capped (the first token was EOS or a stop string), or when the
 *   prefill runs without a KV connector: nothing is held for the decode.
 * - `missing_params`: the answer has no `kv_transfer_params` key (not a vLLM OpenAI answer).
 * - `empty_params`: a falsy value other than null (`{}`, `[]`, `""`, `0`, `false`).
 * - `invalid_params`: a truthy value the decode cannot use (see {@link checkPrefillParams}).
 */
/**
 * Why a NIXL decode went without the prefill's KV. `bad_answer`: the prefill's 2xx answer was not
 * a JSON object at all (it is also counted as the prefill's `bad_response` upstream error).
 */
export type NixlRecomputeReason =
  | 'null_params'
  | 'missing_params'
  | 'empty_params'
  | 'invalid_params'
  | 'bad_answer';

export type PrefillParamsCheck =
  | { readonly kind: 'usable'; readonly params: PyObject }
  | { readonly kind: 'unusable'; readonly reason: NixlRecomputeReason; readonly detail: string };

const KV_TRANSFER_PARAMS = 'kv_transfer_params';
const PORT = /^[1-9]\d{0,4}$/;
const FALSY_NUMBERS = new Set(['0', '0.0', '-0.0']);

/** Python's `bool(value)` for a parsed JSON value (NaN is truthy, as in Python). */
export function pyTruthy(value: PyValue | undefined): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  if (value instanceof PyNumber) return !FALSY_NUMBERS.has(value.text);
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  return value.size > 0;
}

function isNonEmptyString(value: PyValue | undefined): boolean {
  return typeof value === 'string' && value !== '';
}

function isPort(value: PyValue | undefined): boolean {
  return value instanceof PyNumber && PORT.test(value.text) && Number(value.text) <= 65_535;
}

function describe(value: PyValue): string {
  if (value === null) return 'null';
  if (value instanceof PyNumber) return 'a number';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map) return 'an object';
  return `a ${typeof value}`;
}

/**
 * Classifies the `kv_transfer_params` of a prefill's JSON answer the way the decode will read
 * them (vLLM's NixlConnector, `update_state_after_alloc`): usable params are an object with a
 * truthy `do_remote_prefill`; when `remote_block_ids` is non-empty, `remote_engine_id` and
 * `remote_host` must be non-empty strings, `remote_port` a port number and `remote_block_ids` a
 * list. Empty `remote_block_ids` (a prompt shorter than one block) are usable: the decode then
 * prefills that short prompt itself, as vLLM intends. `remote_request_id` (connector v2) is
 * not required, so older vLLM keeps working; prefill and decode run the same version anyway.
 *
 * @example checkPrefillParams(new Map([['kv_transfer_params', null]])) // unusable, null_params
 */
export function checkPrefillParams(answer: PyObject): PrefillParamsCheck {
  const params = answer.get(KV_TRANSFER_PARAMS);
  if (params === undefined) {
    return { kind: 'unusable', reason: 'missing_params', detail: 'the answer has no kv_transfer_params' };
  }
  if (params === null) {
    return {
      kind: 'unusable',
      reason: 'null_params',
      detail: 'kv_transfer_params is null (the prefill did not stop at max_tokens, or has no KV connector)',
    };
  }
  if (!pyTruthy(params)) {
    return {
      kind: 'unusable',
      reason: 'empty_params',
      detail: `kv_transfer_params is empty (${describe(params)})`,
    };
  }
  if (!(params instanceof Map)) {
    return {
      kind: 'unusable',
      reason: 'invalid_params',
      detail: `kv_transfer_params is ${describe(params)}`,
    };
  }
  const problems: string[] = [];
  if (!pyTruthy(params.get('do_remote_prefill'))) problems.push('do_remote_prefill is not true');
  const blocks = params.get('remote_block_ids');
  if (pyTruthy(blocks)) {
    if (!Array.isArray(blocks)) problems.push('remote_block_ids is not a list');
    if (!isNonEmptyString(params.get('remote_engine_id'))) problems.push('remote_engine_id is not a string');
    if (!isNonEmptyString(params.get('remote_host'))) problems.push('remote_host is not a string');
    if (!isPort(params.get('remote_port'))) problems.push('remote_port is not a port number');
  }
  if (problems.length > 0) {
    return {
      kind: 'unusable',
      reason: 'invalid_params',
      detail: `kv_transfer_params: ${problems.join(', ')}`,
    };
  }
  return { kind: 'usable', params };
}
