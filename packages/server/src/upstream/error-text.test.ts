import { describe, expect, it } from 'vitest';
import { prefillStatusError, upstreamMessage, upstreamParam } from './error-text.js';

const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('upstream error text', () => {
  it("quotes vLLM's, OpenAI's and FastAPI's message fields, else the text, at most 1,000 chars", () => {
    expect(upstreamMessage(body({ error: { message: 'too long', param: 'max_tokens' } }))).toBe('too long');
    expect(upstreamMessage(body({ object: 'error', message: 'bad model' }))).toBe('bad model');
    expect(upstreamMessage(body({ detail: 'Not Found' }))).toBe('Not Found');
    expect(upstreamMessage(body({ error: 'plain' }))).toBe('plain');
    expect(upstreamMessage(body('  Internal Server Error \n'))).toBe('Internal Server Error');
    expect(upstreamMessage(body('x'.repeat(5_000)))).toHaveLength(1_000);
    expect(upstreamParam(body({ error: { param: 'n' } }))).toBe('n');
    expect(upstreamParam(body('not json'))).toBeNull();
  });

  it("relays a prefill's 4xx with its status and param; any other status is the worker's failure", () => {
    const rejected = prefillStatusError(
      400,
      body({ error: { message: 'bad n', param: 'n' } }),
      'prefill worker #1',
      {},
    );
    expect(rejected).toMatchObject({
      code: 'PD_ERR_PREFILL_REJECTED',
      message: 'bad n',
      statusCode: 400,
      param: 'n',
    });
    const failed = prefillStatusError(502, body('bad gateway'), 'prefill worker #1', {});
    expect(failed.code).toBe('PD_ERR_PREFILL_UPSTREAM_STATUS');
    expect(failed.message).toBe('prefill worker #1 answered HTTP 502: bad gateway');
    expect(prefillStatusError(500, Buffer.alloc(0), 'P', {}).message).toBe('P answered HTTP 500');
  });

  it("relays a prefill's 503 as 503 and its 429 as 429, both with Retry-After (its own when in seconds)", () => {
    const overloaded = prefillStatusError(503, body('overloaded'), 'prefill worker #1', {});
    expect(overloaded).toMatchObject({
      code: 'PD_ERR_PREFILL_OVERLOADED',
      message: 'prefill worker #1 answered HTTP 503: overloaded',
      statusCode: 503,
      type: 'service_unavailable',
      retryAfter: '1',
    });
    const limited = prefillStatusError(429, body({ message: 'slow down' }), 'P', { 'retry-after': '7' });
    expect(limited).toMatchObject({ code: 'PD_ERR_PREFILL_REJECTED', statusCode: 429, retryAfter: '7' });
    const dated = prefillStatusError(503, body(''), 'P', { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' });
    expect(dated.retryAfter).toBe('1');
    expect(prefillStatusError(400, body(''), 'P', { 'retry-after': '7' }).retryAfter).toBeUndefined();
  });
});
