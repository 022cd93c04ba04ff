import type { Options } from 'tsup';

/** One build config shared by every package: ESM + .d.ts for Node 20. */
export function baseConfig(entry: string[], extra: Partial<Options> = {}): Options {
  return { entry, format: ['esm'], dts: true, clean: true, target: 'node20', sourcemap: true, ...extra };
}
