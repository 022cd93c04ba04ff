import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchError } from './errors.js';

/**
 * Path of one of the bench's own built entry points (`mock-cluster-child.js`, `bare-proxy.js`),
 * which run as separate processes. From dist (bundled) they sit next to this code; from src (the
 * tests run TypeScript) they are in ../dist.
 */
export function distFile(name: string): string {
  for (const url of [new URL(`./${name}`, import.meta.url), new URL(`../dist/${name}`, import.meta.url)]) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new BenchError('PD_ERR_BENCH_USAGE', `dist/${name} not found: build @pd-router/bench first`);
}
