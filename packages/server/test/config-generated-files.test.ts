import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown, migrationMarkdown, type VllmRouterFlag } from '../src/config/render.js';
import { configSchemaJson } from '../src/config/schema.js';

// Generated files must match their source: `pnpm --filter @pd-router/server gen:docs` rewrites them
// (vitest -u), and this test fails on any drift.
describe('generated configuration files', () => {
  it('config.schema.json is the schema in config/schema.ts', async () => {
    await expect(configSchemaJson()).toMatchFileSnapshot('../config.schema.json');
  });

  it('docs/configuration.md is generated from the option table and the schema', async () => {
    await expect(configurationMarkdown()).toMatchFileSnapshot('../../../docs/configuration.md');
  });

  it('docs/migration-vllm-router.md is generated from the schema and the vllm-router flag fixture', async () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../../fixtures/vllm-router/flags.json', import.meta.url), 'utf8'),
    ) as { flags: VllmRouterFlag[] };
    await expect(migrationMarkdown(fixture.flags)).toMatchFileSnapshot(
      '../../../docs/migration-vllm-router.md',
    );
  });
});
