import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The file behind a dependency's `bin` entry: what `npx NAME` would run. The dev stack starts the
 * built CLIs this way, as a user would, instead of importing them.
 *
 * @example
 * resolveBin('@pd-router/server', 'pd-router') // '/…/packages/server/dist/cli.js'
 */
export function resolveBin(packageName: string, binName: string): string {
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin =
    typeof manifest === 'object' && manifest !== null ? (manifest as { bin?: unknown }).bin : undefined;
  const relative =
    typeof bin === 'string'
      ? bin
      : typeof bin === 'object' && bin !== null
        ? (bin as Record<string, unknown>)[binName]
        : undefined;
  if (typeof relative !== 'string') throw new Error(`${packageName} has no "${binName}" bin entry`);
  return join(dirname(manifestPath), relative);
}
