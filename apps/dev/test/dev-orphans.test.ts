import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_DIR,
  DevProcess,
  type ListedProcess,
  listedPorts,
  listedProcesses,
  MAIN_JS,
  pidAlive,
  portFree,
  until,
} from './dev-process.js';

// Nothing `pnpm dev` started outlives it, however it dies: main.js SIGKILLed (its children see
// their parent gone: PD_EXIT_WITH_PARENT=1), or main.js's own parent (pnpm's shim) killed (main.js
// sees it and stops everything as on Ctrl-C).

const START_TIMEOUT_MS = 40_000;
/**
 * Children poll every 500 ms, then stop as on SIGTERM (the router drains for up to 1 s); slack for
 * a loaded machine, where a node process can take seconds to run its shutdown.
 */
const GONE_TIMEOUT_MS = 20_000;
const SMALL = [
  '--prefill-count',
  '1',
  '--decode-count',
  '1',
  '--preset',
  'instant',
  '--port',
  '0',
  '--base-port',
  '0',
];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function expectAllGoneSoon(listed: readonly ListedProcess[], ports: readonly number[]): Promise<void> {
  expect(listed).toHaveLength(3);
  await until(() => listed.every((p) => !pidAlive(p.pid)), 'every child to exit', GONE_TIMEOUT_MS);
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  expect(busy).toEqual([]);
}

function killListed(stdout: string): void {
  for (const p of listedProcesses(stdout)) if (pidAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
}

describe('pnpm dev leaves no orphans', () => {
  it('main.js SIGKILLed: the mocks and the router stop by themselves, ports freed', async () => {
    const dev = new DevProcess(SMALL);
    cleanups.push(() => dev.dispose());
    await dev.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
    const listed = listedProcesses(dev.stdout);
    const ports = listedPorts(dev.stdout);
    expect(listed.every((p) => pidAlive(p.pid))).toBe(true);
    dev.child.kill('SIGKILL');
    await dev.waitForExit(GONE_TIMEOUT_MS);
    await expectAllGoneSoon(listed, ports);
  }, 90_000);

  it("main.js's parent killed (pnpm's shim): main.js stops every child and exits", async () => {
    // A stand-in for pnpm: starts main.js, sharing its output with us, and prints main.js's pid.
    const script = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write('main-pid ' + child.pid + '\\n');
setInterval(() => {}, 60000);
`;
    const shim: ChildProcess = spawn(process.execPath, ['-e', script, JSON.stringify([MAIN_JS, ...SMALL])], {
      cwd: APP_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [shim.stdout, shim.stderr])
      stream?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
    let mainPid = 0;
    cleanups.push(() => {
      if (shim.exitCode === null && shim.signalCode === null) shim.kill('SIGKILL');
      if (mainPid > 0 && pidAlive(mainPid)) process.kill(mainPid, 'SIGKILL');
      killListed(output);
    });
    await until(
      () => output.includes('Ctrl-C stops everything'),
      `the banner in:\n${output}`,
      START_TIMEOUT_MS,
    );
    mainPid = Number(/main-pid (\d+)/.exec(output)?.[1]);
    const listed = listedProcesses(output);
    const ports = listedPorts(output);
    shim.kill('SIGKILL');
    await until(() => !pidAlive(mainPid), 'main.js to exit', GONE_TIMEOUT_MS);
    // Printed before it exited, but possibly still in the pipe to us.
    await until(
      () => output.includes('parent process gone: stopping 3 processes...') && output.includes('stopped'),
      `the stop lines in:\n${output}`,
      GONE_TIMEOUT_MS,
    );
    await expectAllGoneSoon(listed, ports);
  }, 90_000);
});
