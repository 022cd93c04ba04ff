import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultRouterTemplate, HELP, parseBenchArgs, serverCliPath } from './cli-args.js';

const parse = (...args: string[]) => parseBenchArgs(['--no-router', ...args]);

describe('--kv-connector', () => {
  it('is absent by default (p2p-nccl) and takes p2p-nccl or nixl', () => {
    expect(parse().options.kvConnector).toBeUndefined();
    expect(parse('--kv-connector', 'nixl').options.kvConnector).toBe('nixl');
    expect(parse('--kv-connector=p2p-nccl').options.kvConnector).toBe('p2p-nccl');
    expect(HELP).toContain('--kv-connector NAME');
  });

  it('refuses other names, and --bare (a P2P NCCL proxy) with nixl', () => {
    expect(() => parse('--kv-connector', 'mooncake')).toThrow(/--kv-connector expects p2p-nccl or nixl/);
    expect(() => parse('--kv-connector', 'nixl', '--bare')).toThrow(/--bare speaks P2P NCCL only/);
  });

  it.skipIf(!existsSync(serverCliPath()))('adds --kv-connector to the default router command', () => {
    expect(defaultRouterTemplate('nixl').argv.slice(-2)).toEqual(['--kv-connector', 'nixl']);
    expect(defaultRouterTemplate().argv).not.toContain('--kv-connector');
  });
});
