import { describe, expect, it } from 'vitest';
import { StreamIdleError } from './leg.js';
import { classifyUpstreamError, describeKind, errorDetail, legError } from './map-error.js';

function coded(code: string, cause?: unknown): Error {
  return Object.assign(new Error(code), { code }, cause === undefined ? {} : { cause });
}

describe('classifyUpstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'connect'],
    ['ENOTFOUND', 'connect'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
    ['ECONNRESET', 'reset'],
    ['UND_ERR_SOCKET', 'reset'],
    ['EPIPE', 'reset'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['HPE_INVALID_CONSTANT', 'bad_response'],
    ['Z_DATA_ERROR', 'bad_response'],
  ])('%s is %s', (code, kind) => {
    expect(classifyUpstreamError(coded(code))).toBe(kind);
  });

  it("classifies the relay's own idle timeout as a timeout", () => {
    expect(classifyUpstreamError(new StreamIdleError(600))).toBe('timeout');
    expect(errorDetail(new StreamIdleError(600))).toBe(
      'ERR_STREAM_IDLE: the upstream sent nothing for 600 ms',
    );
  });

  it('looks at the cause when the outer code says nothing', () => {
    expect(classifyUpstreamError(coded('UND_ERR_WHATEVER', coded('ECONNRESET')))).toBe('reset');
    expect(classifyUpstreamError(new Error('plain'))).toBe('bad_response');
    expect(classifyUpstreamError('a string')).toBe('bad_response');
  });

  it('describes every kind without addresses, and details errors for logs', () => {
    for (const kind of [
      'connect',
      'reset',
      'timeout',
      'status',
      'stream_idle',
      'stream_broken',
      'bad_response',
    ] as const) {
      expect(describeKind(kind)).not.toMatch(/\d/);
    }
    expect(errorDetail(coded('ECONNREFUSED'))).toBe('ECONNREFUSED: ECONNREFUSED');
    expect(errorDetail(new Error('x'))).toBe('x');
    expect(errorDetail(42)).toBe('42');
  });

  it('legError: a timeout is a 504 naming the budget, any other failure a 502 naming what happened', () => {
    const cause = new Error('x');
    expect(legError('prefill', 'prefill worker #1', 'timeout', 300, '', cause)).toMatchObject({
      code: 'PD_ERR_PREFILL_TIMEOUT',
      message: 'prefill worker #1 did not answer completely within 300 ms',
      statusCode: 504,
    });
    expect(legError('decode', 'decode worker #2', 'timeout', 5, ' (d)', cause).message).toBe(
      'decode worker #2 sent no first byte within 5 ms (d)',
    );
    expect(legError('decode', 'decode worker #2', 'connect', 5, '', cause)).toMatchObject({
      code: 'PD_ERR_DECODE_UNAVAILABLE',
      message: 'decode worker #2 could not be reached',
      statusCode: 502,
    });
    expect(legError('prefill', 'P', 'reset', 5, '', cause).code).toBe('PD_ERR_PREFILL_UNAVAILABLE');
  });
});
