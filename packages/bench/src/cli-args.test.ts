import { describe, expect, it } from 'vitest';
import { DEFAULTS, HELP, parseBenchArgs, QUICK_DEFAULTS, ROUTER_NAME } from './cli-args.js';

// --no-router keeps these tests independent of whether the server is built.
const parse = (...args: string[]) => parseBenchArgs(['--no-router', ...args]);

describe('parseBenchArgs', () => {
  it('has the documented defaults', () => {
    const { options, help, check } = parse();
    expect(help).toBe(false);
    expect(check).toBe(false);
    expect(options).toMatchObject({
      scenarios: ['chat-short', 'stream-256', 'prompt-100k', 'streams-1000'],
      durationMs: DEFAULTS.durationS * 1000,
      warmupMs: DEFAULTS.warmupS * 1000,
      rounds: DEFAULTS.rounds,
      preset: 'instant',
      quick: false,
      floor: true,
      compare: [],
      outDir: 'bench-results',
      requestTimeoutMs: 30_000,
      drainTimeoutMs: 30_000,
      maxRequests: DEFAULTS.maxRequests,
      cpuProf: false,
    });
    expect(options.router).toBeUndefined();
  });

  it('--quick lowers the defaults, and explicit flags still win', () => {
    const quick = parse('--quick').options;
    expect(quick.durationMs).toBe(QUICK_DEFAULTS.durationS * 1000);
    expect(quick.rounds).toBe(1);
    expect(parse('--quick', '--rounds', '3', '--duration-s', '2').options).toMatchObject({
      rounds: 3,
      durationMs: 2_000,
    });
  });

  it('takes lists comma-separated or repeated', () => {
    const { options } = parse(
      '--scenario',
      'chat-short,stream-256',
      '--scenario',
      'all',
      '--concurrency',
      '1,8',
      '--concurrency',
      '32',
    );
    expect(options.scenarios).toEqual(['chat-short', 'stream-256', 'all']);
    expect(options.concurrency).toEqual([1, 8, 32]);
    expect(parse('--rate', '100,200.5').options.rates).toEqual([100, 200.5]);
  });

  it('parses --compare templates and a custom --router', () => {
    const { options } = parseBenchArgs([
      '--router',
      'node my-router.js --port {port} --prefill {prefill}',
      '--compare',
      'py=python3 proxy.py --port {port}',
      '--no-floor',
      '--warmup-s',
      '0',
    ]);
    expect(options.router).toMatchObject({
      name: ROUTER_NAME,
      argv: ['node', 'my-router.js', '--port', '{port}', '--prefill', '{prefill}'],
    });
    expect(options.compare.map((c) => c.name)).toEqual(['py']);
    expect(options.floor).toBe(false);
    expect(options.warmupMs).toBe(0);
  });

  it.each([
    [['--rounds', '0']],
    [['--rounds', '1.5']],
    [['--duration-s', 'abc']],
    [['--concurrency', '0']],
    [['--concurrency', '4', '--rate', '100']],
    [['--bogus']],
    [['positional']],
    [['--compare', 'no-equals-sign']],
  ])('rejects %j with PD_ERR_BENCH_USAGE', (args) => {
    expect(() => parse(...args)).toThrow(expect.objectContaining({ code: 'PD_ERR_BENCH_USAGE' }));
  });

  it('documents every flag in --help', () => {
    for (const flag of [
      '--scenario',
      '--duration-s',
      '--warmup-s',
      '--rounds',
      '--preset',
      '--concurrency',
      '--rate',
      '--compare',
      '--router',
      '--no-router',
      '--no-floor',
      '--out',
      '--quick',
      '--request-timeout-s',
      '--drain-timeout-s',
      '--max-requests',
      '--cpu-prof',
      '--check',
      '--help',
    ]) {
      expect(HELP).toContain(flag);
    }
    expect(parseBenchArgs(['--help']).help).toBe(true);
  });
});
