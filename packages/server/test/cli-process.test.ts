import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/config/flags.js';
import { VERSION } from '../src/version.js';

// The built CLI as a real process: `pnpm --filter @pd-router/server build` first (turbo's test
// task depends on build).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const P = 'http://127.0.0.1:20003:zmq://127.0.0.1:21001';
const D = 'http://127.0.0.1:20005:zmq://127.0.0.1:22001';

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Settles on 'close', not 'exit': once stdout and stderr are fully read too. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENAI_API_KEY: 'k' },
  });
  children.push(child);
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    // 'exit' can come before the last output is read: the tests read stdout once this settles.
    exited: new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  return run;
}

async function runToEnd(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = start(args);
  const { code } = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Starts the router on a free port and returns it with that port (read from its log line). */
async function listening(args: readonly string[]): Promise<{ run: Run; port: number }> {
  const run = start(['--prefill', P, '--decode', D, '--port', '0', ...args]);
  const pattern =
    /pd-router listening on http:\/\/127\.0\.0\.1:(\d+) \(prefill: 1, decode: 1, policy: round_robin, connector: p2p-nccl, metrics: http:\/\/127\.0\.0\.1:\d+\/metrics; prefill workers: http:\/\/127\.0\.0\.1:20003; decode workers: http:\/\/127\.0\.0\.1:20005\)/;
  await until(() => pattern.test(run.stdout) || run.child.exitCode !== null, 'the listening line');
  const match = pattern.exec(run.stdout);
  if (match === null) throw new Error(`router did not start:\n${run.stdout}\n${run.stderr}`);
  return { run, port: Number(match[1]) };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm --filter @pd-router/server build first`);
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('pd-router --help and --version', () => {
  it('--help lists every flag and exits 0', async () => {
    const { code, stdout, stderr } = await runToEnd(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const option of OPTIONS) expect(stdout).toContain(`  ${option.flag}`);
    expect(stdout).toContain('default: round_robin');
  });

  it('-h wins over other mistakes on the line', async () => {
    const { code, stdout } = await runToEnd(['--bogus', '-h']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage:');
  });

  it('--version or --help with a stray argument exits 2 and prints nothing on stdout', async () => {
    for (const flag of ['--version', '--help']) {
      const { code, stdout, stderr } = await runToEnd([flag, 'extra']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`pd-router: extra: unexpected argument (${flag} takes no arguments)\n`);
    }
  });

  it('--version prints the package version', async () => {
    const { code, stdout } = await runToEnd(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`pd-router ${VERSION}\n`);
  });
});

describe('pd-router configuration errors exit 2 with every problem on stderr', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pd-router-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an unknown flag', async () => {
    const { code, stdout, stderr } = await runToEnd(['--prefill', P, '--decode', D, '--bogus-flag', 'x']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('pd-router: --bogus-flag: unknown flag\n');
    expect(stderr).toContain("run 'pd-router --help'");
  });

  it('bad values, all at once', async () => {
    const { code, stderr } = await runToEnd([
      '--prefill',
      P,
      '--decode',
      D,
      '--port',
      'abc',
      '--policy',
      'nope',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("pd-router: --port: expected an integer, got 'abc'\n");
    expect(stderr).toContain(
      'pd-router: --policy: must be one of: round_robin, random, consistent_hash, power_of_two, cache_aware, sticky_least_loaded, rendezvous_hash, pd_aware (got "nope")\n',
    );
  });

  it('a bad field in a YAML --config file, with its path', async () => {
    const file = join(dir, 'pd.yaml');
    await writeFile(
      file,
      `prefill: ["${P}"]\ndecode: ["${D}"]\ncacheAware:\n  cacheThreshold: 2\nprometheusPort: -1\n`,
    );
    const { code, stderr } = await runToEnd(['--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`pd-router: ${file}: cacheAware.cacheThreshold: must be <= 1 (got 2)\n`);
    expect(stderr).toContain(`pd-router: ${file}: prometheusPort: must be >= 0 (got -1)\n`);
  });

  it('a missing --config file', async () => {
    const { code, stderr } = await runToEnd(['--config', join(dir, 'absent.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toContain('absent.yaml: no such file');
  });
});

describe('pd-router serving', () => {
  it('logs where it listens, then exits 0 on SIGTERM', async () => {
    const { run, port } = await listening([]);
    const res = await fetch(`http://127.0.0.1:${port}/liveness`);
    await res.arrayBuffer();
    expect(res.status).toBeLessThan(500);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    // The last line, logged after close(), still reaches stdout (the batched log is flushed by hand).
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.some((l) => l.includes('SIGTERM received: finishing in-flight requests'))).toBe(true);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ level: 30, msg: 'pd-router stopped' });
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runToEnd(['--prefill', P, '--decode', D, '--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toContain(`pd-router: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  describe('with a request in flight (a prefill worker that never answers)', () => {
    let silent: Server;
    let silentPort: number;
    const sockets = new Set<Socket>();
    let prefillsSeen = 0;
    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          if (chunk.toString('latin1').startsWith('POST /v1/completions ')) prefillsSeen++;
        });
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    async function routerWithStuckRequest(
      extra: readonly string[],
    ): Promise<{ run: Run; request: Promise<unknown> }> {
      const { run, port } = await (async () => {
        const r = start([
          '--prefill',
          `http://127.0.0.1:${silentPort}:zmq://127.0.0.1:21001`,
          '--decode',
          D,
          '--port',
          '0',
          '--prefill-timeout-ms',
          '60000',
          ...extra,
        ]);
        const pattern = /pd-router listening on http:\/\/127\.0\.0\.1:(\d+)/;
        await until(() => pattern.test(r.stdout) || r.child.exitCode !== null, 'the listening line');
        return { run: r, port: Number(pattern.exec(r.stdout)?.[1]) };
      })();
      const before = prefillsSeen;
      const request = fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', prompt: 'hi', max_tokens: 5 }),
      }).catch((error: unknown) => error);
      await until(() => prefillsSeen > before, 'the prefill request to reach the worker');
      return { run, request };
    }

    it('exits after --shutdown-timeout-ms when in-flight requests do not finish', async () => {
      const { run, request } = await routerWithStuckRequest(['--shutdown-timeout-ms', '300']);
      const sent = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
      expect(run.stdout).toContain('in-flight requests still running after 300 ms');
      await request;
    });

    it('exits at once on a second signal', async () => {
      const { run, request } = await routerWithStuckRequest(['--shutdown-timeout-ms', '60000']);
      run.child.kill('SIGTERM');
      await until(() => run.stdout.includes('SIGTERM received'), 'the first signal to be handled');
      run.child.kill('SIGINT');
      expect(await run.exited).toEqual({ code: 130, signal: null });
      expect(run.stderr).toContain('SIGINT again: exiting now');
      await request;
    });
  });
});
