import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_HEADLINE, SDK_HEADER } from '../src/banner.js';
import {
  APP_DIR,
  DEFAULT_STACK_NAMES,
  DevProcess,
  listedPorts,
  listedProcesses,
  pidAlive,
  portFree,
} from './dev-process.js';
import { curlLines, runPrintedCurl } from './printed-curl.js';

const run = promisify(execFile);
const START_TIMEOUT_MS = 40_000;
/** SIGTERM to the children, SIGKILL 3 s later at worst: well within this. */
const STOP_TIMEOUT_MS = 15_000;

/** The printed SDK snippet: the indented lines after its header, up to the first blank line. */
function sdkSnippet(stdout: string): string {
  const lines = stdout.split('\n');
  const start = lines.indexOf(SDK_HEADER);
  if (start === -1) throw new Error(`no SDK snippet in:\n${stdout}`);
  const end = lines.indexOf('', start);
  return `${lines.slice(start + 1, end).join('\n')}\n`;
}

// One stack for the whole file (starting it is the slow part); every test uses what it printed.
describe('pnpm dev: the printed commands work and Ctrl-C leaves nothing running', () => {
  let dev: DevProcess;
  let tmp: string;

  beforeAll(async () => {
    await mkdir(join(APP_DIR, 'test-tmp'), { recursive: true });
    // Inside apps/dev so that `import 'openai'` resolves to apps/dev/node_modules, as for a user's project.
    tmp = await mkdtemp(join(APP_DIR, 'test-tmp', 'sdk-'));
    dev = new DevProcess(['--port', '0', '--base-port', '0']);
    await dev.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
  }, START_TIMEOUT_MS + 5_000);

  afterAll(async () => {
    await dev?.dispose();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
    await rmdir(join(APP_DIR, 'test-tmp')).catch(() => undefined);
  });

  it('lists the router and 2 prefill + 2 decode mocks, each with a KV port', () => {
    expect(dev.stdout).toContain(READY_HEADLINE);
    const listed = listedProcesses(dev.stdout);
    expect(listed.map((p) => p.name)).toEqual(DEFAULT_STACK_NAMES);
    expect(listed.slice(1).every((p) => p.kvPort !== undefined)).toBe(true);
    expect(new Set(listedPorts(dev.stdout)).size).toBe(9);
  });

  it('the printed non-streaming curl answers a chat completion', async () => {
    const line = curlLines(dev.stdout).find((l) => !l.includes(' -N '));
    expect(line).toBeDefined();
    const stdout = await runPrintedCurl(line ?? '', 20_000);
    const answer = JSON.parse(stdout) as { object: string; choices: { message: { content: string } }[] };
    expect(answer.object).toBe('chat.completion');
    expect(answer.choices[0]?.message.content).toContain(' tok0');
  });

  it('the printed curl -N streams the completion as SSE', async () => {
    const line = curlLines(dev.stdout).find((l) => l.includes(' -N '));
    expect(line).toBeDefined();
    const stdout = await runPrintedCurl(line ?? '', 20_000);
    expect(stdout).toContain('"content":" tok0"');
    expect(stdout.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('the printed openai SDK snippet prints the plain and the streamed completion', async () => {
    const file = join(tmp, 'hello.mjs');
    await writeFile(file, sdkSnippet(dev.stdout));
    const { stdout } = await run(process.execPath, [file], { cwd: APP_DIR, timeout: 20_000 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^ tok0 tok1 .* tok15$/);
  });

  it('SIGINT stops every process promptly: exit 0, no pid alive, every port free', async () => {
    const listed = listedProcesses(dev.stdout);
    const ports = listedPorts(dev.stdout);
    expect(listed.every((p) => pidAlive(p.pid))).toBe(true);
    dev.child.kill('SIGINT');
    const exit = await dev.waitForExit(STOP_TIMEOUT_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(dev.stdout).toContain('SIGINT: stopping 5 processes');
    expect(listed.filter((p) => pidAlive(p.pid))).toEqual([]);
    const busy: number[] = [];
    for (const port of ports) if (!(await portFree(port))) busy.push(port);
    expect(busy).toEqual([]);
  });
});
