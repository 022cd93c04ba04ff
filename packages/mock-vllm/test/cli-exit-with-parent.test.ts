import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// PD_EXIT_WITH_PARENT=1 (what `pnpm dev` sets): the mock stops, as on SIGTERM, once the process
// that started it is gone, even when that one was SIGKILLed. Needs the built CLI.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A parent process that starts the CLI (sharing its stdout with us) and prints the CLI's pid. */
const PARENT_SCRIPT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write('child-pid ' + child.pid + '\\n');
setInterval(() => {}, 60000);
`;

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

/** Starts parent + mock, waits for the mock's ready line; returns the parent, the mock's pid and url. */
async function startFamily(
  env: Record<string, string>,
): Promise<{ parent: ChildProcess; pid: number; url: string }> {
  const args = [CLI, '--role', 'decode', '--port', '0', '--kv-port', '0', '--preset', 'instant'];
  const parent = spawn(process.execPath, ['-e', PARENT_SCRIPT, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  for (const stream of [parent.stdout, parent.stderr])
    stream?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  await until(() => /^mock-vllm role=/m.test(output), `the ready line in:\n${output}`);
  const pid = Number(/child-pid (\d+)/.exec(output)?.[1]);
  started.push(pid);
  return { parent, pid, url: /url=(\S+)/.exec(output)?.[1] ?? '' };
}

afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe.skipIf(!existsSync(CLI))('mock-vllm PD_EXIT_WITH_PARENT=1', () => {
  it('the mock stops when its parent is SIGKILLed, and its port is closed', async () => {
    const { parent, pid, url } = await startFamily({ PD_EXIT_WITH_PARENT: '1' });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    parent.kill('SIGKILL');
    await until(() => !alive(pid), 'the mock to exit', 10_000);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('is opt-in: without it the mock outlives its parent', async () => {
    const { parent, pid } = await startFamily({ PD_EXIT_WITH_PARENT: '' });
    parent.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(alive(pid)).toBe(true);
  });
});
