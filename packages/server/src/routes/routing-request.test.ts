import type { PyObject } from '@pd-router/core';
import { parsePyJson } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { LazyRoutingRequest } from './routing-request.js';

function body(json: string): PyObject {
  const parsed = parsePyJson(new TextEncoder().encode(json));
  if (!parsed.ok || !(parsed.value instanceof Map)) throw new Error('bad test body');
  return parsed.value;
}

describe('LazyRoutingRequest', () => {
  it('keys on the first session header, then the body user, then the prompt', () => {
    const b = body('{"user": "u1", "prompt": "p"}');
    expect(new LazyRoutingRequest({ 'x-user-id': 'uid', 'x-session-id': 'sid' }, b).hashKey()).toBe('sid');
    expect(new LazyRoutingRequest({ 'x-correlation-id': 'cid' }, b).hashKey()).toBe('cid');
    expect(new LazyRoutingRequest({ 'x-session-id': '' }, b).hashKey()).toBe('u1');
    expect(new LazyRoutingRequest({}, body('{"prompt": "p"}')).hashKey()).toBe('p');
  });

  it('reads completion prompts (strings, lists, token ids) and chat message contents', () => {
    expect(new LazyRoutingRequest({}, body('{"prompt": ["a", "b"]}')).promptText()).toBe('a\nb');
    expect(new LazyRoutingRequest({}, body('{"prompt": [1, 2, 3]}')).promptText()).toBe('1\n2\n3');
    const chat = body(
      '{"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]}]}',
    );
    expect(new LazyRoutingRequest({}, chat).promptText()).toBe('sys\nhi');
    expect(new LazyRoutingRequest({}, body('{}')).promptText()).toBe('');
  });
});
