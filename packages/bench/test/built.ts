import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The end-to-end tests need the built bench (its mock-cluster child is forked from dist), the
 * built mock-vllm and the built server CLI. `pnpm test` (turbo) builds them first.
 */
const bench = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const child = fileURLToPath(new URL('../dist/mock-cluster-child.js', import.meta.url));
const bare = fileURLToPath(new URL('../dist/bare-proxy.js', import.meta.url));
const server = fileURLToPath(new URL('../../server/dist/cli.js', import.meta.url));
const mock = fileURLToPath(new URL('../../mock-vllm/dist/index.js', import.meta.url));

export const BENCH_CLI = bench;
export const BARE_PROXY = bare;

/** Why the end-to-end tests cannot run, or undefined when everything is built. */
export function missingBuild(needServer: boolean): string | undefined {
  const missing = [
    [bench, '@pd-router/bench'],
    [child, '@pd-router/bench'],
    [bare, '@pd-router/bench'],
    [mock, '@pd-router/mock-vllm'],
    ...(needServer ? [[server, '@pd-router/server']] : []),
  ].filter(([path]) => !existsSync(path!));
  if (missing.length === 0) return undefined;
  return `not built: ${[...new Set(missing.map(([, pkg]) => pkg))].join(', ')} (run pnpm --filter @pd-router/bench... build)`;
}

/** True when `CI` is set to anything but an empty string, `0` or `false` (GitHub sets `true`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['CI']?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

export interface BuildGate {
  /** Skip the end-to-end tests: the build is missing and this is a developer's machine. */
  readonly skip: boolean;
  /** Throws when the build is missing (only reached in CI, where skipping would hide it). */
  check(): void;
}

/**
 * Locally a missing build skips the end-to-end tests with a warning; in CI (turbo builds first)
 * it is a failure, so a broken build step cannot turn the suite green by skipping.
 *
 * @example
 * const gate = buildGate(missingBuild(true));
 * describe.skipIf(gate.skip)('e2e', () => { beforeAll(() => gate.check()); ... });
 */
export function buildGate(
  missing: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = console.warn,
): BuildGate {
  const ci = isCi(env);
  if (missing !== undefined && !ci) warn(`end-to-end tests skipped: ${missing}`);
  return {
    skip: missing !== undefined && !ci,
    check: () => {
      if (missing !== undefined) throw new Error(`CI is set and the end-to-end tests cannot run: ${missing}`);
    },
  };
}
