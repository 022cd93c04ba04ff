import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { READY_HEADLINE } from '../src/banner.js';
import { DevProcess, listedPorts, listedProcesses, pidAlive, portFree } from './dev-process.js';

const START_TIMEOUT_MS = 40_000;
const STOP_TIMEOUT_MS = 15_000;
/** For the tests that start the stack: its start and stop budgets above, on a loaded machine. */
const STACK_TEST_TIMEOUT_MS = START_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000;
const SMALL = ['--prefill-count', '1', '--decode-count', '1', '--base-port', '0'];

let devs: DevProcess[] = [];
let blockers: Server[] = [];

function dev(args: readonly string[], options?: { ownGroup?: boolean }): DevProcess {
  const d = new DevProcess(args, options);
  devs.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(devs.map((d) => d.dispose()));
  await Promise.all(blockers.map((b) => new Promise((resolve) => b.close(resolve))));
  devs = [];
  blockers = [];
});

function listenOnFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    blockers.push(server);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

async function expectAllGone(stdout: string): Promise<void> {
  expect(listedProcesses(stdout).filter((p) => pidAlive(p.pid))).toEqual([]);
  const busy: number[] = [];
  for (const port of listedPorts(stdout)) if (!(await portFree(port))) busy.push(port);
  expect(busy).toEqual([]);
}

describe('pnpm dev options', () => {
  it('--help prints every option and exits 0 (also after pnpm\'s "--")', async () => {
    const d = dev(['--', '--help']);
    expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    for (const flag of [
      '--prefill-count',
      '--decode-count',
      '--policy',
      '--port',
      '--base-port',
      '--preset',
    ]) {
      expect(d.stdout).toContain(flag);
    }
  });

  it('an unknown option exits 2 with a message, before starting anything', async () => {
    const d = dev(['--prefil-count', '3']);
    expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 2, signal: null });
    expect(d.stderr).toBe('pnpm dev: unknown option "--prefil-count" (see --help)\n');
  });
});

describe('pnpm dev failures', () => {
  it('a busy router port is named, with the way out, and nothing starts', async () => {
    const port = await listenOnFreePort();
    const d = dev(['--port', String(port), ...SMALL]);
    expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
    expect(d.stderr).toContain(`port ${port} (pd-router) is already in use`);
    expect(d.stderr).toContain('--port N');
    expect(d.stdout).not.toContain(READY_HEADLINE);
  });

  it(
    'a router that refuses its flags is reported with its own message; the mocks are stopped',
    async () => {
      const d = dev(['--port', '0', '--policy', 'fastest', ...SMALL]);
      expect(await d.waitForExit(START_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
      expect(d.stderr).toMatch(/pd-router \(pid \d+\) exited with code 2 before it was ready/);
      expect(d.stderr).toContain('fastest');
      expect(d.stdout).not.toContain(READY_HEADLINE);
    },
    STACK_TEST_TIMEOUT_MS,
  );

  it(
    'a mock that dies is reported and everything else is stopped, exit 1',
    async () => {
      const d = dev(['--port', '0', ...SMALL]);
      await d.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
      const decode = listedProcesses(d.stdout).find((p) => p.name === 'decode-1');
      expect(decode).toBeDefined();
      process.kill(decode?.pid ?? 0, 'SIGKILL');
      expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 1, signal: null });
      expect(d.stderr).toContain(
        `decode-1 (pid ${decode?.pid}) exited on SIGKILL unexpectedly; stopping everything`,
      );
      await expectAllGone(d.stdout);
    },
    STACK_TEST_TIMEOUT_MS,
  );
});

describe('pnpm dev stops cleanly', () => {
  it(
    "on a terminal's Ctrl-C (SIGINT to the whole process group): exit 0, nothing left",
    async () => {
      const d = dev(['--port', '0', ...SMALL], { ownGroup: true });
      await d.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
      process.kill(-(d.child.pid ?? 0), 'SIGINT');
      expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      expect(d.stderr).toBe('');
      await expectAllGone(d.stdout);
    },
    STACK_TEST_TIMEOUT_MS,
  );

  it(
    'on SIGTERM: exit 0, nothing left',
    async () => {
      const d = dev(['--port', '0', ...SMALL]);
      await d.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
      d.child.kill('SIGTERM');
      expect(await d.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      expect(d.stdout).toContain('SIGTERM: stopping 3 processes');
      await expectAllGone(d.stdout);
    },
    STACK_TEST_TIMEOUT_MS,
  );
});
