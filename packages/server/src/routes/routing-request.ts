import type { IncomingHttpHeaders } from 'node:http';
import { PyNumber, type PyObject, type PyValue } from '@pd-router/core';
import type { RoutingRequest } from '../policies/types.js';

/** Headers that pin a session to workers, in priority order (vllm-router's consistent_hash keys). */
const HASH_HEADERS = ['x-session-id', 'x-user-id', 'x-tenant-id', 'x-correlation-id'] as const;

/**
 * Headers that name a client session, in priority order: vllm-router's list for sticky_least_loaded
 * and rendezvous_hash (consistent_hash's, plus the per-request ids it checks last).
 */
const SESSION_HEADERS = [...HASH_HEADERS, 'x-request-id', 'x-trace-id'] as const;

/** A body field's value as vllm-router reads it: a string, or a number's text. */
function fieldText(value: PyValue | undefined): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (value instanceof PyNumber) return value.text;
  return undefined;
}

/** vllm-router's session id: the session headers, else `session_params.session_id`, `user`, `session_id`, `user_id`. */
function sessionIdOf(headers: IncomingHttpHeaders, body: PyObject): string | undefined {
  for (const name of SESSION_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  const params = body.get('session_params');
  if (params instanceof Map) {
    const nested = fieldText(params.get('session_id'));
    if (nested !== undefined) return nested;
  }
  return fieldText(body.get('user')) ?? fieldText(body.get('session_id')) ?? fieldText(body.get('user_id'));
}

function textOf(value: PyValue | undefined, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  // Token-id prompts: the ids are the prompt, and they make a stable key too.
  else if (value instanceof PyNumber) out.push(value.text);
  else if (Array.isArray(value)) for (const item of value) textOf(item, out);
}

/** Text of chat message contents: a string, or an array of parts whose `text` fields count. */
function messagesText(messages: PyValue | undefined, out: string[]): void {
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    if (!(message instanceof Map)) continue;
    const content = message.get('content');
    if (typeof content === 'string') out.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) if (part instanceof Map) textOf(part.get('text'), out);
    }
  }
}

/**
 * What policies may know about a request, computed lazily (most policies need neither value, and
 * each reads one at most once; the pair selector shares a value between its two pools itself).
 * Methods live on the prototype: one small object per request, no closures.
 *
 * @example
 * const request = new LazyRoutingRequest(headers, body);
 * request.hashKey(); // 'x-session-id value' or the prompt
 */
export class LazyRoutingRequest implements RoutingRequest {
  readonly #headers: IncomingHttpHeaders;
  readonly #body: PyObject;
  /** null: not looked up yet. */
  #session: string | undefined | null = null;

  constructor(headers: IncomingHttpHeaders, body: PyObject) {
    this.#headers = headers;
    this.#body = body;
  }

  hashKey(): string {
    for (const name of HASH_HEADERS) {
      const value = this.#headers[name];
      if (typeof value === 'string' && value !== '') return value;
    }
    const user = this.#body.get('user');
    if (typeof user === 'string' && user !== '') return user;
    return this.promptText();
  }

  sessionId(): string | undefined {
    if (this.#session === null) this.#session = sessionIdOf(this.#headers, this.#body);
    return this.#session;
  }

  promptText(): string {
    const out: string[] = [];
    const prompt = this.#body.get('prompt');
    if (prompt !== undefined) textOf(prompt, out);
    else messagesText(this.#body.get('messages'), out);
    return out.join('\n');
  }
}
