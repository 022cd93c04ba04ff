import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

// mock-cluster-child and bare-proxy are separate entries: each runs as its own process.
export default defineConfig(
  baseConfig(['src/index.ts', 'src/cli.ts', 'src/mock-cluster-child.ts', 'src/bare-proxy.ts']),
);
