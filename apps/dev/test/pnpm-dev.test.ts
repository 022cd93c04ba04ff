import { readFileSync } from 'node:fs';
import { delimiter, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { READY_HEADLINE } from '../src/banner.js';
import {
  DEFAULT_STACK_NAMES,
  DevProcess,
  groupAlive,
  listedPorts,
  listedProcesses,
  pidAlive,
  portFree,
  until,
} from './dev-process.js';
import { findExecutable } from './executables.js';
import { curlLines, runPrintedCurl } from './printed-curl.js';

// The README's first command, run from the repository root through the real `pnpm` on PATH (the root
// package.json script: turbo's build, then `exec node apps/dev/dist/main.js`), in a process group of
// its own as a terminal runs a job, stopped by SIGINT to that group as Ctrl-C does.
//
// `pnpm install`, before it on the README's line, is .ci/run's first step: not rerun here, in a
// node_modules others share. The only addition is `--port 0 --base-port 0`, options the README
// documents for `pnpm dev`: the default ports (10001, 20001-20004, 21001-21004; options.test.ts checks
// them) would make this test fail whenever a developer's own `pnpm dev` runs, and tests use free ports.
//
// turbo's build is a cache hit when the suite runs after `turbo run build` (as `pnpm test` and CI
// do): about a second. Run right after editing a dependency's sources, it rebuilds them first.

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** pnpm and turbo start, the build (a rebuild on a loaded machine when sources changed), the stack. */
const START_TIMEOUT_MS = 150_000;
/** main.js stops its children with SIGTERM, SIGKILL after 3 s at worst; slack for a loaded machine. */
const STOP_TIMEOUT_MS = 30_000;
const PORT_ARGS = ['--port', '0', '--base-port', '0'];

/** The command on the README's `pnpm dev` line of its first code block, e.g. `pnpm install && pnpm dev`. */
function readmeFirstDevCommand(): string {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
  const block = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const line = block.split('\n').find((l) => /\bpnpm dev\b/.test(l));
  if (line === undefined) throw new Error("README.md's first bash block has no `pnpm dev` line");
  return line.replace(/\s+#.*$/, '').trim();
}

/**
 * This environment as a user's terminal has it: without what pnpm's script runner (npm_*, pnpm_*
 * config, node_modules/.bin on PATH), turbo and vitest add for this test run, which would configure
 * the inner pnpm, turbo and the stack differently.
 */
function terminalEnv(): NodeJS.ProcessEnv {
  const added = /^(npm_|pnpm_config_|PNPM_PACKAGE_NAME$|VITEST|TURBO_HASH$|NODE_PATH$)/;
  const vitestDefines = new Set(['TEST', 'NODE_ENV', 'PROD', 'DEV', 'BASE_URL', 'MODE', 'SSR', 'FORCE_TTY']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!added.test(key) && !vitestDefines.has(key)) env[key] = value;
  }
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes(`node_modules${sep}.bin`))
    .join(delimiter);
  return env;
}

/** CI=true as .ci/run sets it (other CI systems set 1). */
function inCi(): boolean {
  const ci = process.env['CI'] ?? '';
  return ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

let dev: DevProcess | undefined;
afterEach(async () => {
  await dev?.dispose();
  dev = undefined;
});

describe("the README's first command", () => {
  it(
    '`pnpm dev` from the repo root brings the stack up, its printed curl works, Ctrl-C stops everything',
    async (ctx) => {
      const command = readmeFirstDevCommand();
      expect(command.split('&&').at(-1)?.trim()).toBe('pnpm dev');
      expect(readFileSync(`${REPO_ROOT}README.md`, 'utf8')).toMatch(
        /`pnpm dev [^`]*--port \d+ --base-port 0\b/,
      );

      const env = terminalEnv();
      const pnpm = findExecutable('pnpm', env['PATH']);
      if (pnpm === undefined) {
        const why =
          "pnpm is not on PATH (corepack enable puts it there; in CI, .ci/run puts corepack's shim there)";
        if (inCi()) throw new Error(`${why}: this test runs \`pnpm dev\` itself`);
        console.warn(`skipped: ${why}`);
        return ctx.skip(why);
      }

      const startedAt = performance.now();
      dev = new DevProcess(['dev', ...PORT_ARGS], {
        ownGroup: true,
        launcher: { file: pnpm, prefix: [], cwd: REPO_ROOT, env },
      });
      const group = dev.groupId ?? 0;
      await dev.waitForStdout('Ctrl-C stops everything', START_TIMEOUT_MS);
      const readyMs = performance.now() - startedAt;

      expect(dev.stdout).toContain(`${READY_HEADLINE} (2 prefill + 2 decode mock vLLM, preset realistic`);
      const listed = listedProcesses(dev.stdout);
      const ports = listedPorts(dev.stdout);
      expect(listed.map((p) => p.name)).toEqual(DEFAULT_STACK_NAMES);
      expect(listed.every((p) => pidAlive(p.pid))).toBe(true);

      const curl = curlLines(dev.stdout)[0] ?? '';
      const answer = JSON.parse(await runPrintedCurl(curl, 20_000)) as {
        object: string;
        choices: { message: { content: string } }[];
      };
      expect(answer.object).toBe('chat.completion');
      expect(answer.choices[0]?.message.content).toContain(' tok0');

      const stoppingAt = performance.now();
      process.kill(-group, 'SIGINT');
      expect(await dev.waitForExit(STOP_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      // pnpm, turbo's leftovers, main.js, the mocks and the router: nothing of the job is left.
      await until(() => !groupAlive(group), 'every process of the group to exit', STOP_TIMEOUT_MS);
      const stopMs = performance.now() - stoppingAt;
      // The mocks and the router got the SIGINT too: some may be gone before main.js counts them.
      expect(dev.stdout).toMatch(/^SIGINT: stopping [0-5] processes\.\.\.$/m);
      expect(dev.stdout).toMatch(/^stopped$/m);
      expect(dev.stderr).not.toMatch(/ELIFECYCLE|ERR_PNPM|pnpm dev:/);
      expect(listed.filter((p) => pidAlive(p.pid))).toEqual([]);
      const busy: number[] = [];
      for (const port of ports) if (!(await portFree(port))) busy.push(port);
      expect(busy).toEqual([]);
      console.log(
        `${command.split('&&').at(-1)?.trim()} ${PORT_ARGS.join(' ')}: ready after ${Math.round(readyMs)} ms, ` +
          `everything gone ${Math.round(stopMs)} ms after SIGINT (turbo: ${/Cached:\s+(.*)/.exec(dev.stdout)?.[1]?.trim()})`,
      );
    },
    START_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS + 30_000,
  );
});
