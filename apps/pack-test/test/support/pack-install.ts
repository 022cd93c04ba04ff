import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PUBLISHED_PACKAGES, type PublishedPackage, REPO_ROOT } from './paths.js';
import { run } from './process.js';

export interface PackedPackage {
  readonly pkg: PublishedPackage;
  /** Absolute path of the .tgz. */
  readonly tarball: string;
  /** Paths inside the tarball (relative to its `package/` folder), as pnpm reports them. */
  readonly files: readonly string[];
}

const PACK_TIMEOUT_MS = 60_000;
/** A cold npm cache downloads ~140 packages (zeromq's prebuilt addon is the big one). */
const INSTALL_TIMEOUT_MS = 120_000;

function isPackJson(value: unknown): value is { filename: string; files: { path: string }[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { filename?: unknown; files?: unknown };
  return typeof v.filename === 'string' && Array.isArray(v.files);
}

/**
 * `pnpm pack` of every published package into `destination`. pnpm (not npm) rewrites the
 * `workspace:^` ranges to real versions and adds the repository's LICENSE, as `pnpm publish`
 * would. The packages must be built (turbo runs `^build` before this app's tests).
 */
export async function packAll(destination: string): Promise<PackedPackage[]> {
  const packed: PackedPackage[] = [];
  for (const pkg of PUBLISHED_PACKAGES) {
    const dir = join(REPO_ROOT, 'packages', pkg.dir);
    if (!existsSync(join(dir, 'dist', 'index.js'))) {
      throw new Error(`${pkg.name} is not built (no dist/index.js): run \`pnpm build\` first`);
    }
    const result = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], {
      cwd: dir,
      timeoutMs: PACK_TIMEOUT_MS,
    });
    if (result.code !== 0) throw new Error(`pnpm pack failed:\n${result.report}`);
    const json: unknown = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
    if (!isPackJson(json)) throw new Error(`unexpected pnpm pack --json output:\n${result.report}`);
    packed.push({ pkg, tarball: json.filename, files: json.files.map((f) => f.path) });
  }
  return packed;
}

/**
 * The environment npm runs in: ours, minus what `pnpm run` adds for its own scripts (npm would
 * read `npm_config_*` as its configuration), without prompts, audit or funding noise.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(npm_(lifecycle|package|execpath|node_execpath|command)|npm_config_user_agent$|pnpm_|INIT_CWD$)/i.test(
        key,
      )
    ) {
      continue;
    }
    env[key] = value;
  }
  env['npm_config_audit'] = 'false';
  env['npm_config_fund'] = 'false';
  env['npm_config_update_notifier'] = 'false';
  env['npm_config_yes'] = 'true';
  return env;
}

/**
 * Creates a project in `projectDir` (outside the workspace) that depends on the tarballs only, and
 * `npm install`s it. Third-party dependencies come from the registry; `@pd-router/*` ranges in the
 * tarballs are satisfied by the tarballs themselves. A quick failure (a registry hiccup) is retried once; a timeout is not.
 */
export async function installTarballs(projectDir: string, packed: readonly PackedPackage[]): Promise<void> {
  const dependencies: Record<string, string> = {};
  for (const p of packed) dependencies[p.pkg.name] = `file:${p.tarball}`;
  const manifest = {
    name: 'pd-router-pack-consumer',
    version: '0.0.0',
    private: true,
    type: 'module',
    dependencies,
  };
  await writeFile(join(projectDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error'];
  let result = await run('npm', args, { cwd: projectDir, env: npmEnv(), timeoutMs: INSTALL_TIMEOUT_MS });
  if (result.code !== 0 && result.code !== null) {
    result = await run('npm', args, { cwd: projectDir, env: npmEnv(), timeoutMs: INSTALL_TIMEOUT_MS });
  }
  if (result.code !== 0) throw new Error(`npm install of the tarballs failed:\n${result.report}`);
}
