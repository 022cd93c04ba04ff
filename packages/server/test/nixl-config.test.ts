import { describe, expect, it } from 'vitest';
import { formatConfigIssue } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load.js';
import { parseArgv } from '../src/config/parse-argv.js';

const WORKERS = ['--prefill', 'http://127.0.0.1:20001', '--decode', 'http://127.0.0.1:20002'];

function nixlOf(argv: readonly string[], file?: string) {
  const result = loadConfig({
    argv: file === undefined ? argv : [...argv, '--config', 'pd.yaml'],
    readFile: () => file ?? '',
  });
  if (!result.ok) throw result.error;
  return { kvConnector: result.value.kvConnector, nixl: result.value.nixl };
}

function problems(argv: readonly string[]): string[] {
  const result = loadConfig({ argv });
  if (result.ok) throw new Error('expected a failure');
  return result.error.issues.map(formatConfigIssue);
}

describe('NIXL configuration', () => {
  it('defaults to recompute and rewriting remote_host', () => {
    expect(nixlOf([...WORKERS, '--kv-connector', 'nixl'])).toEqual({
      kvConnector: 'nixl',
      nixl: { onMissingParams: 'recompute', rewriteRemoteHost: true },
    });
  });

  it('takes --nixl-on-missing-params and every spelling of the boolean --nixl-rewrite-remote-host', () => {
    const base = [...WORKERS, '--kv-connector', 'nixl', '--nixl-on-missing-params', 'fail'];
    expect(nixlOf([...base, '--no-nixl-rewrite-remote-host']).nixl).toEqual({
      onMissingParams: 'fail',
      rewriteRemoteHost: false,
    });
    for (const [flag, value] of [
      ['--nixl-rewrite-remote-host', true],
      ['--nixl-rewrite-remote-host=true', true],
      ['--nixl-rewrite-remote-host=FALSE', false],
      ['--nixl-rewrite-remote-host=0', false],
      ['--nixl-rewrite-remote-host=yes', true],
    ] as const) {
      expect(nixlOf([...base, flag]).nixl?.rewriteRemoteHost, flag).toBe(value);
    }
  });

  it('reads nixl.onMissingParams and nixl.rewriteRemoteHost from a config file; flags win', () => {
    const file = 'kvConnector: nixl\nnixl: {onMissingParams: fail, rewriteRemoteHost: false}\n';
    expect(nixlOf(WORKERS, file).nixl).toEqual({ onMissingParams: 'fail', rewriteRemoteHost: false });
    expect(nixlOf([...WORKERS, '--nixl-rewrite-remote-host'], file).nixl?.rewriteRemoteHost).toBe(true);
  });

  it('refuses bad values, a value after --no-..., and the flag given twice', () => {
    expect(problems([...WORKERS, '--nixl-on-missing-params', 'ignore'])).toEqual([
      expect.stringMatching(/^--nixl-on-missing-params: .*recompute.*fail/),
    ]);
    expect(problems([...WORKERS, '--nixl-rewrite-remote-host=maybe'])).toEqual([
      "--nixl-rewrite-remote-host: expected true or false, got 'maybe'",
    ]);
    expect(problems([...WORKERS, '--no-nixl-rewrite-remote-host=false'])).toEqual([
      '--no-nixl-rewrite-remote-host: takes no value',
    ]);
    expect(problems([...WORKERS, '--nixl-rewrite-remote-host', '--no-nixl-rewrite-remote-host'])).toEqual([
      expect.stringMatching(/^--nixl-rewrite-remote-host: given more than once/),
    ]);
  });

  it('does not take the next token as the boolean value, and suggests the right spelling of a typo', () => {
    const parsed = parseArgv(['--nixl-rewrite-remote-host', 'false']);
    expect(parsed.values).toEqual({ nixl: { rewriteRemoteHost: true } });
    expect(parsed.issues.map((i) => i.path)).toEqual(['false']);
    expect(parseArgv(['--no-nixl-rewrite-remote-hots']).issues[0]?.message).toBe(
      'unknown flag (did you mean --no-nixl-rewrite-remote-host?)',
    );
  });

  it('accepts IPv6 workers without :zmq:// with NIXL only (P2P NCCL cannot use IPv6 ZMQ addresses)', () => {
    const ipv6 = ['--prefill', 'http://[::1]:20001', '--decode', 'http://[fd00::2]:20002/'];
    const result = loadConfig({ argv: [...ipv6, '--kv-connector', 'nixl'] });
    if (!result.ok) throw result.error;
    expect(result.warnings).toEqual([]);
    expect(result.value.prefill[0]?.address).toMatchObject({
      url: 'http://[::1]:20001',
      hostHeader: '[::1]:20001',
    });
    expect(result.value.decode[0]?.address.url).toBe('http://[fd00::2]:20002');
    // NIXL is the default without :zmq://, so P2P NCCL is asked for by name here.
    expect(problems([...ipv6, '--kv-connector', 'p2p-nccl'])).toEqual([
      expect.stringMatching(/^--prefill\[0\]: .*IPv6/),
      expect.stringMatching(/^--decode\[0\]: .*IPv6/),
    ]);
  });
});
