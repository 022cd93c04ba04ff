import { describe, expect, it } from 'vitest';
import { DevError } from './errors.js';
import { type DevOptions, parseDevArgs } from './options.js';

function options(argv: string[]): DevOptions {
  const command = parseDevArgs(argv);
  if (command.kind !== 'run') throw new Error('expected run');
  return command.options;
}

function problem(argv: string[]): string {
  try {
    parseDevArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(DevError);
    expect((error as DevError).code).toBe('PD_ERR_DEV_OPTION_INVALID');
    return (error as DevError).message;
  }
  throw new Error('expected a DevError');
}

describe('parseDevArgs', () => {
  it('defaults: 2P2D, realistic, round_robin, router on 10001, mocks from 20001', () => {
    expect(options([])).toEqual({
      prefillCount: 2,
      decodeCount: 2,
      policy: 'round_robin',
      port: 10_001,
      basePort: 20_001,
      preset: 'realistic',
      kvConnector: undefined,
      logLevel: undefined,
    });
  });

  it('reads every option, as "--flag value" and "--flag=value"', () => {
    expect(
      options([
        '--prefill-count',
        '3',
        '--decode-count=1',
        '--policy',
        'cache_aware',
        '--port=0',
        '--base-port',
        '30000',
        '--preset',
        'bench-fast',
        '--kv-connector',
        'p2p-nccl',
        '--log-level=debug',
      ]),
    ).toEqual({
      prefillCount: 3,
      decodeCount: 1,
      policy: 'cache_aware',
      port: 0,
      basePort: 30_000,
      preset: 'bench-fast',
      kvConnector: 'p2p-nccl',
      logLevel: 'debug',
    });
  });

  it('skips the "--" that `pnpm dev -- ...` hands on', () => {
    expect(options(['--', '--port', '8000']).port).toBe(8000);
    expect(parseDevArgs(['--', '--help'])).toEqual({ kind: 'help' });
  });

  it('--help and -h win', () => {
    expect(parseDevArgs(['--port', '1', '-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--prefill-count', '0'], '--prefill-count: must be 1-100, got 0 (see --help)'],
    [['--decode-count', '2.5'], '--decode-count: expected an integer, got "2.5" (see --help)'],
    [['--port', '65536'], '--port: must be 0-65535, got 65536 (see --help)'],
    [['--port'], '--port: missing value (see --help)'],
    [['--port', '--policy', 'x'], '--port: missing value (see --help)'],
    [['--policy', 'a b'], '--policy: expected a name, got "a b" (see --help)'],
    [
      ['--base-port', '65000'],
      '--base-port: 65000 leaves no room for the KV ports (the last would be 66003) (see --help)',
    ],
    [['extra'], 'unknown option "extra" (see --help)'],
  ])('rejects %j', (argv, message) => {
    expect(problem(argv)).toBe(message);
  });
});
