import { describe, expect, it } from 'vitest';
import {
  checkDecodeParams,
  loopbackHost,
  nixlBlockCount,
  prefillKvTransferParams,
  pyTruthy,
  wantsRemoteDecode,
} from './nixl-params.js';

const valid = {
  do_remote_prefill: true,
  do_remote_decode: false,
  remote_block_ids: [4, 5],
  remote_engine_id: 'e-1',
  remote_request_id: 'cmpl-x-0',
  remote_host: 'localhost',
  remote_port: 5600,
  tp_size: 1,
};

describe('NIXL kv_transfer_params', () => {
  it('builds the prefill answer in vLLM request_finished key order', () => {
    const params = prefillKvTransferParams({
      blockIds: [1, 2],
      engineId: 'e',
      requestId: 'r',
      host: 'localhost',
      port: 5600,
    });
    expect(JSON.stringify(params)).toBe(
      '{"do_remote_prefill":true,"do_remote_decode":false,"remote_block_ids":[1,2],"remote_engine_id":"e",' +
        '"remote_request_id":"r","remote_host":"localhost","remote_port":5600,"tp_size":1}',
    );
    const bad = prefillKvTransferParams({
      blockIds: [],
      engineId: 'e',
      requestId: 'r',
      host: 'h',
      port: 1,
      omitEngineId: true,
    });
    expect(Object.keys(bad)).not.toContain('remote_engine_id');
    expect(Object.keys(bad)).toHaveLength(7);
  });

  it('counts full blocks of 16 tokens only', () => {
    expect([0, 15, 16, 31, 32, 100].map(nixlBlockCount)).toEqual([0, 0, 1, 1, 2, 6]);
  });

  it('tests flags with Python truthiness', () => {
    expect([null, false, 0, '', [], {}].map((v) => pyTruthy(v))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([true, 1, 'x', [0], { a: 1 }].map((v) => pyTruthy(v))).toEqual([true, true, true, true, true]);
    expect(pyTruthy(undefined)).toBe(false);
    expect(wantsRemoteDecode({ do_remote_decode: true, do_remote_prefill: false })).toBe(true);
    expect(wantsRemoteDecode({ do_remote_decode: 1 })).toBe(true);
    expect(wantsRemoteDecode({ do_remote_decode: false })).toBe(false);
    expect(wantsRemoteDecode({ do_remote_decode: true, do_remote_prefill: true })).toBe(false);
    expect(wantsRemoteDecode(null)).toBe(false);
    expect(wantsRemoteDecode(undefined)).toBe(false);
  });

  it('classifies decode params in the connector order', () => {
    expect(checkDecodeParams(valid)).toEqual({
      kind: 'remote',
      params: { engineId: 'e-1', requestId: 'cmpl-x-0', host: 'localhost', port: 5600, blockIds: [4, 5] },
    });
    expect(checkDecodeParams(undefined)).toEqual({ kind: 'missing' });
    expect(checkDecodeParams(null)).toEqual({ kind: 'missing' });
    expect(checkDecodeParams({})).toEqual({ kind: 'missing' });
    expect(checkDecodeParams({ ...valid, do_remote_prefill: false })).toEqual({ kind: 'missing' });
    // vLLM looks at the blocks before the address fields: no blocks, no warning.
    expect(checkDecodeParams({ do_remote_prefill: true, remote_block_ids: [] })).toEqual({
      kind: 'no-blocks',
    });
    const { remote_engine_id: _, ...noEngine } = valid;
    expect(checkDecodeParams(noEngine)).toEqual({ kind: 'invalid', problems: ['remote_engine_id missing'] });
    expect(checkDecodeParams({ ...valid, remote_port: '5600' })).toMatchObject({ kind: 'invalid' });
    expect(checkDecodeParams({ ...valid, remote_host: null })).toMatchObject({ kind: 'invalid' });
    expect(checkDecodeParams({ ...valid, remote_block_ids: [[1, 2]] })).toMatchObject({ kind: 'invalid' });
    expect(checkDecodeParams({ ...valid, remote_block_ids: 'abc' })).toMatchObject({ kind: 'invalid' });
  });

  it('resolves loopback side-channel hosts without DNS and refuses the rest', () => {
    expect(loopbackHost('localhost')).toBe('127.0.0.1');
    expect(loopbackHost('LOCALHOST')).toBe('127.0.0.1');
    expect(loopbackHost('127.0.0.1')).toBe('127.0.0.1');
    expect(loopbackHost('127.1.2.3')).toBe('127.1.2.3');
    for (const host of ['10.0.0.5', '127.0.0.256', 'example.com', '::1', '0.0.0.0', '127.0.0.1.nip.io']) {
      expect(loopbackHost(host), host).toBeUndefined();
    }
  });
});
