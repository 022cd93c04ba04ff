import { defineConfig } from 'vitest/config';

/** Runs `pnpm dev` itself, whose turbo build may rebuild (and first wipe) the dist the other files run. */
const PNPM_DEV_TEST = 'test/pnpm-dev.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'dev', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [PNPM_DEV_TEST] },
      },
      // After every other file, never beside them: with sources newer than dist (a run without
      // building first), its build would pull dist/main.js from under their processes.
      { extends: true, test: { name: 'pnpm-dev', include: [PNPM_DEV_TEST], sequence: { groupOrder: 1 } } },
    ],
  },
});
