import { PyNumber, type PyValue } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { checkPrefillParams, pyTruthy } from './nixl-params.js';

describe('pyTruthy', () => {
  it("is Python's bool() for parsed JSON values", () => {
    const falsy: PyValue[] = [
      null,
      false,
      '',
      [],
      new Map(),
      new PyNumber('0'),
      new PyNumber('0.0'),
      new PyNumber('-0.0'),
    ];
    const truthy: PyValue[] = [
      true,
      'x',
      [null],
      new Map([['a', null]]),
      new PyNumber('1e-05'),
      new PyNumber('NaN'),
    ];
    for (const v of falsy) expect(pyTruthy(v)).toBe(false);
    for (const v of truthy) expect(pyTruthy(v)).toBe(true);
    expect(pyTruthy(undefined)).toBe(false);
  });
});

describe('checkPrefillParams', () => {
  const params = (entries: [string, PyValue][]) =>
    new Map<string, PyValue>([['kv_transfer_params', new Map(entries)]]);
  const full: [string, PyValue][] = [
    ['do_remote_prefill', true],
    ['remote_block_ids', [new PyNumber('1')]],
    ['remote_engine_id', 'e'],
    ['remote_host', 'h'],
    ['remote_port', new PyNumber('5600')],
  ];

  it('accepts what vLLM answers, with or without remote_request_id (connector v1)', () => {
    expect(checkPrefillParams(params(full)).kind).toBe('usable');
    expect(checkPrefillParams(params([...full, ['remote_request_id', 'cmpl-x-0']])).kind).toBe('usable');
  });

  it('lists every problem of unusable params', () => {
    const check = checkPrefillParams(
      params([
        ['do_remote_prefill', true],
        ['remote_block_ids', [new PyNumber('1')]],
        ['remote_engine_id', ''],
        ['remote_port', new PyNumber('70000')],
      ]),
    );
    expect(check).toEqual({
      kind: 'unusable',
      reason: 'invalid_params',
      detail:
        'kv_transfer_params: remote_engine_id is not a string, remote_host is not a string, remote_port is not a port number',
    });
    const notList = checkPrefillParams(
      params([...full.slice(0, 1), ['remote_block_ids', 'abc'], ...full.slice(2)]),
    );
    expect(notList.kind === 'unusable' && notList.detail).toBe(
      'kv_transfer_params: remote_block_ids is not a list',
    );
  });
});
