import { describe, expect, it } from 'vitest';
import { formatConfigIssue } from './config-error.js';
import { loadConfig } from './load.js';

const P = 'http://127.0.0.1:20003:zmq://127.0.0.1:21001';
const D = 'http://127.0.0.1:20005:zmq://127.0.0.1:22001';

function issues(argv: string[]): string[] {
  const result = loadConfig({ argv, env: {} });
  return result.ok ? [] : result.error.issues.map(formatConfigIssue);
}

describe('dynamic-worker settings', () => {
  it("maps vllm-router's health and circuit-breaker flags; pd-router's ms spellings win when given", () => {
    const health = (argv: string[]) => {
      const result = loadConfig({ argv: ['--prefill', P, '--decode', D, ...argv], env: {} });
      if (!result.ok) throw result.error;
      return result.value.health;
    };
    expect(health([])).toEqual({
      checkIntervalMs: 10_000,
      checkTimeoutMs: 5_000,
      checkPath: '/health',
      failureThreshold: 3,
      successThreshold: 2,
      circuitFailureThreshold: 10,
      circuitSuccessThreshold: 3,
      circuitOpenMs: 60_000,
      circuitWindowMs: 120_000,
    });
    expect(
      health([
        '--cb-failure-threshold',
        '4',
        '--cb-success-threshold',
        '1',
        '--cb-timeout-duration-secs',
        '7',
        '--cb-window-duration-secs',
        '9',
        '--health-check-interval-secs',
        '60',
        '--health-check-timeout-secs',
        '2',
        '--health-check-endpoint',
        '/ping',
      ]),
    ).toMatchObject({
      circuitFailureThreshold: 4,
      circuitSuccessThreshold: 1,
      circuitOpenMs: 7_000,
      circuitWindowMs: 9_000,
      checkIntervalMs: 60_000,
      checkTimeoutMs: 2_000,
      checkPath: '/ping',
    });
    expect(
      health([
        '--cb-timeout-duration-secs',
        '7',
        '--circuit-open-ms',
        '1500',
        '--health-check-interval-secs',
        '60',
        '--health-check-interval-ms',
        '0',
        '--health-check-timeout-ms',
        '250',
        '--cb-failure-threshold',
        '4',
        '--circuit-failure-threshold',
        '6',
      ]),
    ).toMatchObject({
      circuitOpenMs: 1_500,
      checkIntervalMs: 0,
      checkTimeoutMs: 250,
      circuitFailureThreshold: 6,
    });
    expect(health(['--disable-circuit-breaker'])?.circuitFailureThreshold).toBe(0);
    expect(health(['--circuit-failure-threshold', '0'])?.circuitFailureThreshold).toBe(0);
    expect(issues(['--prefill', P, '--decode', D, '--health-check-endpoint', 'health'])).toHaveLength(1);
    expect(issues(['--prefill', P, '--decode', D, '--cb-failure-threshold', '0'])).toHaveLength(1);
  });

  it('needs no static worker when workers register over ZMQ, and reads the discovery flags', () => {
    const result = loadConfig({
      argv: [
        '--vllm-discovery-address',
        '0.0.0.0:30001',
        '--discovery-ttl-ms',
        '800',
        '--discovery-allow',
        '10.0.0.0/8,192.168.1.7',
      ],
    });
    if (!result.ok) throw result.error;
    expect(result.value.prefill).toEqual([]);
    expect(result.value.decode).toEqual([]);
    expect(result.value.discovery).toEqual({
      host: '0.0.0.0',
      port: 30_001,
      ttlMs: 800,
      allow: ['10.0.0.0/8', '192.168.1.7'],
      ratePerSender: 10,
    });
    expect(result.value.kubernetes).toBeUndefined();
  });

  it('still requires both pools without a discovery source, and static workers may join discovered ones', () => {
    expect(issues([])).toHaveLength(2);
    const both = loadConfig({ argv: ['--prefill', P, '--vllm-discovery-address', '127.0.0.1:0'] });
    expect(both.ok && both.value.prefill.length).toBe(1);
    expect(both.ok && both.value.discovery?.port).toBe(0);
  });

  it('rejects bad addresses, CIDRs and labels, all at once', () => {
    expect(
      issues([
        '--vllm-discovery-address',
        'tcp://1.2.3.4:99999',
        '--discovery-allow',
        '10.0.0.1/8,fe80::/10',
        '--service-discovery',
        '--prefill-selector',
        'app',
        '--decode-selector',
        'role=Bad Value',
      ]),
    ).toEqual([
      '--discovery-allow[0]: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
      '--discovery-allow[1]: "fe80::/10" is not an IPv4 CIDR (A.B.C.D/N)',
      '--vllm-discovery-address: "tcp://1.2.3.4:99999": the port must be 0-65535',
      '--prefill-selector[0]: "app" is not key=value',
      '--decode-selector[0]: "role=Bad Value": "Bad Value" is not a valid label value',
    ]);
    expect(issues(['--vllm-discovery-address', '30001'])).toEqual([
      '--vllm-discovery-address: expected HOST:PORT, got "30001"',
    ]);
  });

  it('builds the Kubernetes settings and needs a role selector', () => {
    const result = loadConfig({
      argv: [
        '--service-discovery',
        '--prefill-selector',
        'app=vllm',
        'role=prefill',
        '--decode-selector',
        'role=decode',
      ],
    });
    if (!result.ok) throw result.error;
    expect(result.value.kubernetes).toEqual({
      namespace: undefined,
      selector: [],
      prefillSelector: ['app=vllm', 'role=prefill'],
      decodeSelector: ['role=decode'],
      port: 8_000,
      kubeconfig: undefined,
    });
    expect(issues(['--service-discovery', '--selector', 'app=vllm'])).toEqual([
      '--service-discovery: needs --prefill-selector and/or --decode-selector (KEY=VALUE labels telling prefill and decode pods apart)',
    ]);
  });

  it('warns about discovery settings that have no effect', () => {
    const result = loadConfig({
      argv: ['--prefill', P, '--decode', D, '--discovery-allow', '10.0.0.0/8', '--prefill-selector', 'a=b'],
    });
    expect(result.warnings).toEqual([
      '--discovery-allow: has no effect without --vllm-discovery-address',
      '--prefill-selector: has no effect without --service-discovery',
    ]);
  });

  it('reads the health and circuit-breaker settings, 0 turning each off', () => {
    const result = loadConfig({
      argv: [
        '--prefill',
        P,
        '--decode',
        D,
        '--health-check-interval-ms',
        '0',
        '--circuit-failure-threshold',
        '0',
      ],
    });
    if (!result.ok) throw result.error;
    expect(result.value.health).toMatchObject({ checkIntervalMs: 0, circuitFailureThreshold: 0 });
    expect(issues(['--prefill', P, '--decode', D, '--health-failure-threshold', '0'])).toEqual([
      '--health-failure-threshold: must be >= 1 (got 0)',
    ]);
  });
});
