import { describe, expect, it } from 'vitest';
import { HELP_TEXT, parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('maps every flag to its option', () => {
    const cmd = parseCliArgs([
      '--role',
      'decode',
      '--port=8100',
      '--kv-port',
      '22001',
      '--host',
      '0.0.0.0',
      '--advertise-host',
      '10.0.0.1',
      '--model',
      'm',
      '--strict-model',
      '--api-key',
      'k',
      '--preset',
      'realistic',
      '--ttft-base-ms',
      '5',
      '--ttft-per-token-ms',
      '0.1',
      '--kv-load-per-token-ms',
      '0.2',
      '--inter-token-ms',
      '3',
      '--max-concurrency',
      '8',
      '--max-queue',
      '9',
      '--kv-handoff',
      'off',
      '--kv-wait-timeout-ms',
      '700',
      '--kv-mode',
      'hang',
      '--request-id-randomization',
      '--default-max-tokens',
      '4',
      '--max-model-len',
      '1024',
      '--fixtures',
      'fx',
      '--proxy-address',
      '127.0.0.1:30001',
      '--register-interval-ms',
      '100',
      '--fault',
      'status=503,times=1',
      '--fault=hang',
    ]);
    expect(cmd).toEqual({
      kind: 'run',
      options: {
        role: 'decode',
        port: 8100,
        kvPort: 22001,
        host: '0.0.0.0',
        advertiseHost: '10.0.0.1',
        model: 'm',
        strictModel: true,
        apiKey: 'k',
        preset: 'realistic',
        kvHandoff: false,
        kvWaitTimeoutMs: 700,
        kvMode: 'hang',
        requestIdRandomization: true,
        defaultMaxTokens: 4,
        maxModelLen: 1024,
        fixtures: 'fx',
        proxyAddress: '127.0.0.1:30001',
        registerIntervalMs: 100,
        timing: {
          ttftBaseMs: 5,
          ttftPerPromptTokenMs: 0.1,
          kvLoadPerPromptTokenMs: 0.2,
          interTokenMs: 3,
          maxConcurrency: 8,
          maxQueue: 9,
        },
        faults: [{ kind: 'status', status: 503, times: 1 }, { kind: 'hang' }],
      },
    });
  });

  it('maps the NIXL flags', () => {
    const cmd = parseCliArgs([
      '--kv-connector',
      'nixl',
      '--nixl-side-channel-host=127.0.0.1',
      '--nixl-side-channel-port',
      '5600',
      '--nixl-block-ttl-ms',
      '1000',
      '--nixl-read-timeout-ms',
      '250',
      '--nixl-engine-id',
      'engine-P1',
      '--fault',
      'nixl-refuse-reads,times=2',
    ]);
    expect(cmd).toEqual({
      kind: 'run',
      options: {
        kvConnector: 'nixl',
        nixlSideChannelHost: '127.0.0.1',
        nixlSideChannelPort: 5600,
        nixlBlockTtlMs: 1000,
        nixlReadTimeoutMs: 250,
        nixlEngineId: 'engine-P1',
        faults: [{ kind: 'nixl-refuse-reads', times: 2 }],
      },
    });
    expect(() => parseCliArgs(['--kv-connector', 'lmcache'])).toThrow(
      expect.objectContaining({ code: 'PD_ERR_MOCK_OPTION_INVALID' }),
    );
  });

  it('maps the Mooncake flags', () => {
    expect(
      parseCliArgs([
        '--kv-connector',
        'mooncake',
        '--mooncake-bootstrap-port',
        '8998',
        '--mooncake-dp-size',
        '2',
        '--mooncake-engine-id',
        'e0',
        '--mooncake-engine-id',
        'e1',
        '--mooncake-abort-timeout-ms',
        '1500',
        '--fault',
        'mooncake-bootstrap-down,mode=empty,times=2',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        kvConnector: 'mooncake',
        mooncakeBootstrapPort: 8998,
        mooncakeDpSize: 2,
        mooncakeEngineIds: ['e0', 'e1'],
        mooncakeAbortTimeoutMs: 1500,
        faults: [{ kind: 'mooncake-bootstrap-down', mode: 'empty', times: 2 }],
      },
    });
  });

  it('returns help, and the help lists every flag it parses', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    for (const flag of [
      '--role',
      '--kv-port',
      '--kv-wait-timeout-ms',
      '--kv-mode',
      '--fixtures',
      '--fault',
      '--kv-connector',
      '--nixl-side-channel-host',
      '--nixl-side-channel-port',
      '--nixl-block-ttl-ms',
      '--nixl-read-timeout-ms',
      '--nixl-engine-id',
      'nixl-no-params',
      'nixl-bad-params',
      'nixl-refuse-reads',
    ]) {
      expect(HELP_TEXT).toContain(flag);
    }
  });

  it.each([['--nope'], ['--role', 'x'], ['--port'], ['--port', 'abc'], ['--kv-mode', 'wait']])(
    'rejects %j',
    (...argv) => {
      expect(() => parseCliArgs(argv)).toThrow(
        expect.objectContaining({ code: 'PD_ERR_MOCK_OPTION_INVALID' }),
      );
    },
  );
});
