import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { parseArgv } from './parse-argv.js';

describe('parseArgv', () => {
  it('reads --flag value and --flag=value into config-file keys', () => {
    const parsed = parseArgv([
      '--port',
      '8080',
      '--host=0.0.0.0',
      '--cache-threshold=0.75',
      '--policy',
      'cache_aware',
    ]);
    expect(parsed.issues).toEqual([]);
    expect(parsed.values).toEqual({
      port: 8080,
      host: '0.0.0.0',
      cacheAware: { cacheThreshold: 0.75 },
      policy: 'cache_aware',
    });
    expect(parsed.sources.get('cacheAware.cacheThreshold')).toBe('--cache-threshold');
  });

  it("accepts repeatable workers, and vllm-router's --prefill URL [BOOTSTRAP_PORT|none]", () => {
    const parsed = parseArgv([
      '--vllm-pd-disaggregation',
      '--prefill',
      'http://p0:8000',
      '9000',
      '--prefill',
      'http://p1:8000',
      'NONE',
      '--prefill=http://p2:8000:zmq://p2:14579',
      '--decode',
      'http://d0:8000',
      '--decode=http://d1:8000',
    ]);
    expect(parsed.issues).toEqual([]);
    expect(parsed.values).toEqual({
      prefill: [
        { url: 'http://p0:8000', bootstrapPort: 9000 },
        'http://p1:8000',
        'http://p2:8000:zmq://p2:14579',
      ],
      decode: ['http://d0:8000', 'http://d1:8000'],
    });
  });

  it('takes --client-api-key repeated and comma-separated', () => {
    expect(parseArgv(['--client-api-key', 'a,b', '--client-api-key=c']).values).toEqual({
      apiKeys: ['a', 'b', 'c'],
    });
  });

  it('recognises --help/-h, --version/-V and --config', () => {
    expect(parseArgv(['-h'])).toMatchObject({ help: true, version: false });
    expect(parseArgv(['--version'])).toMatchObject({ help: false, version: true });
    expect(parseArgv(['--config', 'pd.yaml']).configFile).toBe('pd.yaml');
  });

  it('normalises log level spellings of vllm-router and Python', () => {
    expect(parseArgv(['--log-level', 'WARNING']).values).toEqual({ logLevel: 'warn' });
    expect(parseArgv(['--log-level', 'critical']).values).toEqual({ logLevel: 'fatal' });
  });

  it('accepts and ignores --eviction-interval', () => {
    const parsed = parseArgv(['--eviction-interval', '120']);
    expect(parsed.issues).toEqual([]);
    expect(parsed.values).toEqual({});
  });

  it('reports every problem at once, naming the flag', () => {
    const parsed = parseArgv([
      '--port',
      'eighty',
      '--cache-threshold',
      'high',
      '--prefil',
      'http://x:1',
      'stray',
      '--host',
      '--worker-urls',
      'http://w:8000',
      '--vllm-pd-disaggregation=yes',
      '--port',
      '1',
      '--client-api-key',
      'a,,b',
      '--upstream-api-key',
    ]);
    expect(parsed.issues).toEqual([
      { path: '--port', message: "expected an integer, got 'eighty'" },
      { path: '--cache-threshold', message: "expected a number, got 'high'" },
      { path: '--prefil', message: 'unknown flag (did you mean --prefill?)' },
      { path: 'stray', message: 'unexpected argument (every value belongs to a --flag)' },
      { path: '--host', message: 'requires a value (ADDR)' },
      {
        path: '--worker-urls',
        message:
          'a vllm-router flag that pd-router does not support: pd-router routes prefill/decode pairs only: use --prefill and --decode',
      },
      { path: '--vllm-pd-disaggregation', message: 'takes no value' },
      {
        path: '--port',
        message: 'given more than once (give it once; the last-wins rule would hide mistakes)',
      },
      { path: '--client-api-key', message: 'contains an empty item' },
      { path: '--upstream-api-key', message: 'requires a value (KEY)' },
    ]);
    expect([...parsed.failedKeys].sort()).toEqual([
      'apiKeys',
      'cacheAware.cacheThreshold',
      'host',
      'port',
      'upstreamApiKey',
    ]);
  });

  it("sets switches that have a config key, and takes vllm-router's space-separated selectors", () => {
    const parsed = parseArgv([
      '--service-discovery',
      '--prefill-selector',
      'app=vllm',
      'role=prefill',
      '--decode-selector=app=vllm,role=decode',
      '--selector',
      'team=a',
      '--port',
      '1',
    ]);
    expect(parsed.issues).toEqual([]);
    expect(parsed.values).toEqual({
      kubernetes: {
        enabled: true,
        prefillSelector: ['app=vllm', 'role=prefill'],
        decodeSelector: ['app=vllm', 'role=decode'],
        selector: ['team=a'],
      },
      port: 1,
    });
    expect(parseArgv(['--service-discovery=yes']).issues).toEqual([
      { path: '--service-discovery', message: 'takes no value' },
    ]);
  });

  it("accepts vllm-router's health and circuit-breaker flags with their meaning", () => {
    const parsed = parseArgv([
      '--cb-failure-threshold',
      '3',
      '--cb-success-threshold',
      '2',
      '--cb-timeout-duration-secs',
      '30',
      '--cb-window-duration-secs',
      '90',
      '--disable-circuit-breaker',
      '--health-check-interval-secs',
      '60',
      '--health-check-timeout-secs',
      '4',
      '--health-check-endpoint',
      '/ping',
    ]);
    expect(parsed.issues).toEqual([]);
    expect(parsed.values).toEqual({
      circuitBreaker: {
        failureThreshold: 3,
        successThreshold: 2,
        timeoutDurationSecs: 30,
        windowDurationSecs: 90,
        disabled: true,
      },
      healthCheck: { intervalSecs: 60, timeoutSecs: 4, endpoint: '/ping' },
    });
  });

  it('explains a stray token after --prefill URL', () => {
    expect(parseArgv(['--prefill', 'http://p:1', 'http://p:2']).issues).toEqual([
      {
        path: 'http://p:2',
        message: 'unexpected argument (after --prefill URL only a bootstrap port 1-65535 or none may follow)',
      },
    ]);
  });

  it('rejects a missing or flag-like worker URL', () => {
    expect(parseArgv(['--decode']).issues).toEqual([
      { path: '--decode', message: 'requires a value (URL[:zmq://HOST:PORT])' },
    ]);
    expect(parseArgv(['--prefill', '-h']).issues).toEqual([
      { path: '--prefill[0]', message: "requires a worker URL, got '-h'" },
    ]);
  });

  it('treats everything after -- as unexpected', () => {
    expect(parseArgv(['--', '--port', '1']).issues.map((i) => i.path)).toEqual(['--port', '1']);
    expect(parseArgv(['--', '--port', '1']).strays).toEqual(['--port', '1']);
  });

  it('lists tokens that belong to no flag in strays (--help and --version refuse them)', () => {
    expect(parseArgv(['--version', 'extra']).strays).toEqual(['extra']);
    expect(parseArgv(['--port', '1', 'a', '--help', 'b']).strays).toEqual(['a', 'b']);
    expect(parseArgv(['--bogus', 'value', '--help']).strays).toEqual([]);
    expect(parseArgv(['--prefill', 'http://p:1', '9000', '--version']).strays).toEqual([]);
  });
});
