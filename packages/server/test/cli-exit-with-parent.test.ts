import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// PD_EXIT_WITH_PARENT=1 (what `pnpm dev` sets): pd-router and mock-vllm, whose CLIs share core's
// exitWithParent, stop as on SIGTERM once the process that started them is gone, even when that one
// was SIGKILLed. Needs both built CLIs (turbo builds mock-vllm, a dependency, before these tests).
const ROUTER_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const MOCK_CLI = join(
  dirname(createRequire(import.meta.url).resolve('@pd-router/mock-vllm/package.json')),
  'dist/cli.js',
);
const P = 'http://127.0.0.1:20003:zmq://127.0.0.1:21001';
const D = 'http://127.0.0.1:20005:zmq://127.0.0.1:22001';

/** A parent process that starts the CLI (sharing its stdout with us) and prints the CLI's pid. */
const PARENT_SCRIPT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write('child-pid ' + child.pid + '\\n');
setInterval(() => {}, 60000);
`;

interface Family {
  readonly parent: ChildProcess;
  output: string;
}

interface Cli {
  readonly name: string;
  readonly args: readonly string[];
  /** The line the CLI writes once it serves. */
  readonly ready: RegExp;
  /** Checks made while the CLI serves, before its parent is killed. */
  serving(family: Family): Promise<void>;
  /** Checks made once the CLI's process is gone. */
  stopped(family: Family): Promise<void>;
}

const CLIS: readonly Cli[] = [
  {
    name: 'pd-router',
    args: [ROUTER_CLI, '--prefill', P, '--decode', D, '--port', '0'],
    ready: /pd-router listening on /,
    serving: async () => {},
    stopped: async (family) => {
      // Written before it exited, but it may still be on its way through the pipe to us.
      await until(() => family.output.includes('pd-router stopped'), 'the stopped line', 15_000);
      expect(family.output).toContain('SIGTERM received');
    },
  },
  {
    name: 'mock-vllm',
    args: [MOCK_CLI, '--role', 'decode', '--port', '0', '--kv-port', '0', '--preset', 'instant'],
    ready: /^mock-vllm role=/m,
    serving: async (family) => {
      expect((await fetch(`${mockUrl(family)}/health`)).status).toBe(200);
    },
    stopped: async (family) => {
      // Its port is closed: it stopped serving, not just its process.
      await expect(fetch(`${mockUrl(family)}/health`)).rejects.toThrow();
    },
  },
];

function mockUrl(family: Family): string {
  return /url=(\S+)/.exec(family.output)?.[1] ?? '';
}

const started: number[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Starts parent + CLI, waits for the CLI's ready line; returns the family and the CLI's pid. */
async function startFamily(cli: Cli, env: Record<string, string>): Promise<{ family: Family; pid: number }> {
  const parent = spawn(process.execPath, ['-e', PARENT_SCRIPT, JSON.stringify(cli.args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENAI_API_KEY: 'k', ...env },
  });
  const family: Family = { parent, output: '' };
  for (const stream of [parent.stdout, parent.stderr])
    stream?.on('data', (chunk: Buffer) => {
      family.output += chunk.toString();
    });
  await until(() => cli.ready.test(family.output), `the ready line in:\n${family.output}`);
  const pid = Number(/child-pid (\d+)/.exec(family.output)?.[1]);
  started.push(pid);
  return { family, pid };
}

beforeAll(() => {
  for (const cli of [ROUTER_CLI, MOCK_CLI])
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);
});

afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe.each(CLIS)('$name with PD_EXIT_WITH_PARENT=1', (cli) => {
  it('stops cleanly (exit path of SIGTERM) when its parent is SIGKILLed', async () => {
    const { family, pid } = await startFamily(cli, { PD_EXIT_WITH_PARENT: '1' });
    await cli.serving(family);
    family.parent.kill('SIGKILL');
    await until(() => !alive(pid), `${cli.name} to exit`, 20_000);
    await cli.stopped(family);
  });

  it('is opt-in: without it the CLI outlives its parent', async () => {
    const { family, pid } = await startFamily(cli, { PD_EXIT_WITH_PARENT: '' });
    family.parent.kill('SIGKILL');
    // Several poll periods.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(alive(pid)).toBe(true);
  });
});
