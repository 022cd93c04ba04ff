import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      role: 'both',
      host: '127.0.0.1',
      port: 0,
      kvPort: 0,
      model: 'mock-model',
      preset: 'instant',
      kvHandoff: false,
      kvWaitTimeoutMs: 30_000,
      kvMode: 'error',
      registerIntervalMs: 3_000,
      defaultMaxTokens: 16,
      maxModelLen: 32_768,
    });
    expect(resolveOptions({ role: 'prefill' }).kvHandoff).toBe(true);
    expect(resolveOptions({ host: '0.0.0.0' }).advertiseHost).toBe('127.0.0.1');
  });

  it('defaults to P2P NCCL and takes the NIXL options', () => {
    const o = resolveOptions({ role: 'prefill' });
    expect(o).toMatchObject({
      kvConnector: 'p2p-nccl',
      nixlSideChannelHost: 'localhost',
      nixlSideChannelPort: undefined,
      nixlBlockTtlMs: 480_000,
      nixlReadTimeoutMs: 5_000,
    });
    expect(o.nixlEngineId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(resolveOptions({ role: 'prefill' }).nixlEngineId).not.toBe(o.nixlEngineId);
    let message = '';
    try {
      resolveOptions({
        kvConnector: 'lmcache' as 'nixl',
        nixlSideChannelPort: 0,
        nixlBlockTtlMs: 0,
        nixlReadTimeoutMs: -1,
        nixlEngineId: '',
        nixlSideChannelHost: '',
      });
    } catch (e) {
      expect(e).toMatchObject({ code: 'PD_ERR_MOCK_OPTION_INVALID' });
      message = (e as Error).message;
    }
    expect(() =>
      resolveOptions({ kvConnector: 'mooncake', mooncakeDpSize: 2, mooncakeEngineIds: ['a'] }),
    ).toThrow(/mooncakeEngineIds: must hold one non-empty string per DP rank/);
    const m = resolveOptions({ kvConnector: 'mooncake', mooncakeDpSize: 3, nixlEngineId: 'e' });
    expect(m).toMatchObject({
      kvMode: 'hang',
      mooncakeBootstrapPort: 0,
      mooncakeEngineIds: ['e', 'e_dp1', 'e_dp2'],
      mooncakeAbortTimeoutMs: 480_000,
    });
    expect(resolveOptions({ kvConnector: 'mooncake', kvMode: 'error' }).kvMode).toBe('error');
    for (const field of [
      'kvConnector',
      'nixlSideChannelPort',
      'nixlBlockTtlMs',
      'nixlReadTimeoutMs',
      'nixlEngineId',
      'nixlSideChannelHost',
    ])
      expect(message).toContain(field);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      resolveOptions({
        role: 'both',
        kvHandoff: true,
        port: -1,
        kvWaitTimeoutMs: 0,
        timing: { interTokenMs: -1 },
      });
    } catch (e) {
      expect(e).toMatchObject({ code: 'PD_ERR_MOCK_OPTION_INVALID' });
      message = (e as Error).message;
    }
    for (const field of ['kvHandoff', 'port', 'kvWaitTimeoutMs', 'timing.interTokenMs'])
      expect(message).toContain(field);
  });
});
