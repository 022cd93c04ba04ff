import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// PD_EXIT_WITH_PARENT=1 (what `pnpm dev` sets): pd-router stops, as on SIGTERM, once the process
// that started it is gone, even when that one was SIGKILLed. Needs the built CLI.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
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

const started: number[] = [];

function startFamily(env: Record<string, string>): Family {
  const parent = spawn(
    process.execPath,
    ['-e', PARENT_SCRIPT, JSON.stringify([CLI, '--prefill', P, '--decode', D, '--port', '0'])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: 'k', ...env } },
  );
  const family: Family = { parent, output: '' };
  for (const stream of [parent.stdout, parent.stderr])
    stream?.on('data', (chunk: Buffer) => {
      family.output += chunk.toString();
    });
  return family;
}

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

/** Waits for the router to listen and returns its pid. */
async function routerPid(family: Family): Promise<number> {
  await until(
    () => /pd-router listening on /.test(family.output),
    `the listening line in:\n${family.output}`,
  );
  const pid = Number(/child-pid (\d+)/.exec(family.output)?.[1]);
  started.push(pid);
  return pid;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm --filter @pd-router/server build first`);
});

afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('PD_EXIT_WITH_PARENT=1', () => {
  it('pd-router stops cleanly (exit path of SIGTERM) when its parent is SIGKILLed', async () => {
    const family = startFamily({ PD_EXIT_WITH_PARENT: '1' });
    const pid = await routerPid(family);
    family.parent.kill('SIGKILL');
    await until(() => !alive(pid), 'the router to exit', 20_000);
    // Written before it exited, but it may still be on its way through the pipe to us.
    await until(() => family.output.includes('pd-router stopped'), 'the stopped line', 15_000);
    expect(family.output).toContain('SIGTERM received');
  });

  it('is opt-in: without it the router outlives its parent', async () => {
    const family = startFamily({ PD_EXIT_WITH_PARENT: '' });
    const pid = await routerPid(family);
    family.parent.kill('SIGKILL');
    // Several poll periods.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(alive(pid)).toBe(true);
  });
});
