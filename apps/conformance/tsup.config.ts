import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

// undici is a devDependency of this private app (installed with the workspace): load it, don't bundle it.
export default defineConfig(baseConfig(['src/main.ts'], { dts: false, external: ['undici'] }));
