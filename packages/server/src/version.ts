import { readFileSync } from 'node:fs';

/**
 * This package's version, for the upstream User-Agent (`pd-router/<version>`). Read once at load:
 * `../package.json` resolves to the package root from `src/` (tests) and from `dist/` (built).
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
