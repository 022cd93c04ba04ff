import { PdError } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import {
  errorTypeForStatus,
  openAiErrorBody,
  SERVER_ERROR_CODES,
  ServerError,
  serverErrorBody,
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
    expect(JSON.parse(serverErrorBody(new ServerError('PD_ERR_NOT_FOUND', 'no route')))).toEqual({
      error: { message: 'no route', type: 'invalid_request_error', param: null, code: 'PD_ERR_NOT_FOUND' },
    });
    expect(openAiErrorBody('C', 'server_error', 'm', 'p')).toBe(
      '{"error":{"message":"m","type":"server_error","param":"p","code":"C"}}',
    );
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
