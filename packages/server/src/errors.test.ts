import { PdError } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import {
  errorReply,
  errorTypeForStatus,
  openAiErrorBody,
  SERVER_ERROR_CODES,
  ServerError,
} from './errors.js';

describe('ServerError', () => {
  it('is a PdError with a code, a status and an OpenAI type', () => {
    const e = new ServerError('PD_ERR_PREFILL_TIMEOUT', 'late');
    expect(e).toBeInstanceOf(PdError);
    expect([e.code, e.statusCode, e.type, e.param, e.message]).toEqual([
      'PD_ERR_PREFILL_TIMEOUT',
      504,
      'timeout_error',
      null,
      'late',
    ]);
  });

  it('lets a relayed 4xx keep its status, and keeps the cause', () => {
    const cause = new Error('x');
    const e = new ServerError('PD_ERR_PREFILL_REJECTED', 'too long', {
      statusCode: 422,
      param: 'prompt',
      cause,
    });
    expect([e.statusCode, e.param, e.cause]).toEqual([422, 'prompt', cause]);
  });

  it('never uses 500 for an upstream fault', () => {
    for (const code of SERVER_ERROR_CODES) {
      if (
        code.includes('PREFILL') ||
        code.includes('DECODE') ||
        code.includes('STREAM') ||
        code.includes('WORKER')
      ) {
        expect(new ServerError(code, '').statusCode, code).not.toBe(500);
      }
    }
  });

  it('serializes to the OpenAI error shape', () => {
    expect(JSON.parse(new ServerError('PD_ERR_NOT_FOUND', 'no route').body())).toEqual({
      error: { message: 'no route', type: 'invalid_request_error', param: null, code: 'PD_ERR_NOT_FOUND' },
    });
    expect(openAiErrorBody('C', 'server_error', 'm', 'p')).toBe(
      '{"error":{"message":"m","type":"server_error","param":"p","code":"C"}}',
    );
  });

  it('turns any error into a status and a body: ours as is, core codes with their status, else 500', () => {
    const ours = new ServerError('PD_ERR_PREFILL_OVERLOADED', 'busy', { retryAfter: '2' });
    expect(errorReply(ours)).toBe(ours);
    expect([ours.statusCode, ours.type, ours.retryAfter]).toEqual([503, 'service_unavailable', '2']);
    const core = errorReply(new PdError('PD_ERR_JSON_SYNTAX', 'Expecting value', { statusCode: 400 }));
    expect([core.statusCode, core.code, core.type, core.message]).toEqual([
      400,
      'PD_ERR_JSON_SYNTAX',
      'invalid_request_error',
      'Expecting value',
    ]);
    const bug = errorReply(new TypeError('x is undefined'));
    expect([bug.statusCode, bug.code, bug.message]).toEqual([500, 'PD_ERR_INTERNAL', 'internal error']);
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [502, 'upstream_error'],
    [503, 'service_unavailable'],
    [504, 'timeout_error'],
    [500, 'server_error'],
  ])('status %i is %s', (status, type) => {
    expect(errorTypeForStatus(status)).toBe(type);
  });
});
