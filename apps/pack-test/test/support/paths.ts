import { fileURLToPath } from 'node:url';

/** The monorepo root (this file is apps/pack-test/test/support/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The packages published to npm, with the commands each one installs. */
export const PUBLISHED_PACKAGES = [
  { dir: 'core', name: '@pd-router/core', bins: [] },
  { dir: 'server', name: '@pd-router/server', bins: ['pd-router'] },
  { dir: 'mock-vllm', name: '@pd-router/mock-vllm', bins: ['mock-vllm'] },
  { dir: 'bench', name: '@pd-router/bench', bins: ['pd-bench'] },
] as const;

export type PublishedPackage = (typeof PUBLISHED_PACKAGES)[number];
