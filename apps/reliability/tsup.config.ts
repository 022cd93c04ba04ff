import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

// Only the soak runner is built (the suite runs from source under vitest). undici is a
// devDependency here, so tsup would bundle it: keep it external, resolved from node_modules.
export default defineConfig(baseConfig(['scripts/soak.ts'], { dts: false, external: ['undici'] }));
