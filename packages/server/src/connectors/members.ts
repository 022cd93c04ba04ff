import { type PyObject, serializePyJson } from '@pd-router/core';

/** Parse options of vLLM's proxies: `json.loads(bytes)` (BOM and UTF-16/32 detected). */
export const PYTHON_BYTES = { encoding: 'python-bytes' } as const;
export const KV_TRANSFER_PARAMS = 'kv_transfer_params';
export const KV_MEMBER_PREFIX = '"kv_transfer_params": ';
const STREAM_MEMBER = '"stream": false';
const MAX_TOKENS_MEMBER = '"max_tokens": 1';
const MAX_COMPLETION_TOKENS_MEMBER = '"max_completion_tokens": 1';

/** A client body's members serialized once, and the prefill body's members built from them. */
export interface SplitMembers {
  /** `"key": value` of every client member, in dict order. */
  readonly members: string[];
  /** Index of the client's own `kv_transfer_params` in `members`, or -1. */
  readonly kvIndex: number;
  /** The prefill body's members, in dict order. */
  readonly prefill: string[];
}

/**
 * Serializes each client member once and builds the prefill body as vLLM's proxies do (NIXL's toy
 * proxy, Mooncake's proxy): `kv_transfer_params` = `kvMember`, `stream: false` and `max_tokens: 1`
 * (each in place, else appended in that order, as a Python dict appends new keys),
 * `max_completion_tokens: 1` when present, and the keys in `dropped` left out.
 *
 * @example
 * splitMembers(body, '"kv_transfer_params": {}', new Set(['stream_options'])).prefill.join(', ')
 */
export function splitMembers(body: PyObject, kvMember: string, dropped: ReadonlySet<string>): SplitMembers {
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
        prefill.push(kvMember);
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
      default:
        if (!dropped.has(key)) prefill.push(member);
    }
  }
  if (kvIndex < 0) prefill.push(kvMember);
  if (!hasStream) prefill.push(STREAM_MEMBER);
  if (!hasMaxTokens) prefill.push(MAX_TOKENS_MEMBER);
  return { members, kvIndex, prefill };
}

/** The client body with its `kv_transfer_params` replaced by `member` (in place, else last). */
export function withKvMember(members: readonly string[], kvIndex: number, member: string): string {
  const copy = members.slice();
  if (kvIndex >= 0) copy[kvIndex] = member;
  else copy.push(member);
  return `{${copy.join(', ')}}`;
}
