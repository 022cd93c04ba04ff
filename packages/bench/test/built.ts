import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The end-to-end tests need the built bench (its mock-cluster child is forked from dist), the
 * built mock-vllm and the built server CLI. `pnpm test` (turbo) builds them first.
 */
const bench = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const child = fileURLToPath(new URL('../dist/mock-cluster-child.js', import.meta.url));
const server = fileURLToPath(new URL('../../server/dist/cli.js', import.meta.url));
const mock = fileURLToPath(new URL('../../mock-vllm/dist/index.js', import.meta.url));

export const BENCH_CLI = bench;

/** Why the end-to-end tests cannot run, or undefined when everything is built. */
export function missingBuild(needServer: boolean): string | undefined {
  const missing = [
    [bench, '@pd-router/bench'],
    [child, '@pd-router/bench'],
    [mock, '@pd-router/mock-vllm'],
    ...(needServer ? [[server, '@pd-router/server']] : []),
  ].filter(([path]) => !existsSync(path!));
  if (missing.length === 0) return undefined;
  return `not built: ${[...new Set(missing.map(([, pkg]) => pkg))].join(', ')} (run pnpm --filter @pd-router/bench... build)`;
}
