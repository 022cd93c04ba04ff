/**
 * Install paths a newcomer follows (issue 15 item 13): no document sends anyone to the npm registry
 * for a package that is not there, `scripts/pack-tarballs.sh` packs the tarballs the docs install,
 * and the README's non-root pnpm setup works from an empty HOME.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.js';
import { run } from './support/process.js';

/** Packing four packages on a loaded 2-core machine. */
const PACK_TIMEOUT_MS = 120_000;

function markdownFiles(): string[] {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).map((f) => join('docs', f))];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(REPO_ROOT, group))) files.push(join(group, name, 'README.md'));
  }
  return files
    .filter((f) => f.endsWith('.md'))
    .filter((f) => {
      try {
        readFileSync(join(REPO_ROOT, f));
        return true;
      } catch {
        return false;
      }
    });
}

describe('install paths', () => {
  it('no document tells anyone to install a @pd-router package from the registry', () => {
    const registryInstall = /\b(npm (i|install|add)|pnpm add|yarn add|npx -p)\s+(-\S+\s+)*@pd-router\//;
    for (const file of markdownFiles()) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      expect(
        text.split('\n').filter((line) => registryInstall.test(line)),
        file,
      ).toEqual([]);
    }
  });

  it(
    'scripts/pack-tarballs.sh packs the tarballs docs/deployment.md installs',
    async () => {
      const out = await mkdtemp(join(tmpdir(), 'pd-router-packs-'));
      try {
        // turbo built every package before this test runs: pack only.
        const result = await run('bash', [join(REPO_ROOT, 'scripts/pack-tarballs.sh'), '--no-build', out], {
          cwd: REPO_ROOT,
          timeoutMs: PACK_TIMEOUT_MS,
        });
        expect(result.code, result.report).toBe(0);
        const packed = readdirSync(out).sort();
        const deployment = readFileSync(join(REPO_ROOT, 'docs/deployment.md'), 'utf8');
        const named = [...deployment.matchAll(/pd-router-[a-z-]+-\d+\.\d+\.\d+\.tgz/g)].map((m) => m[0]);
        expect(named.length).toBeGreaterThan(0);
        for (const tarball of named) expect(packed, tarball).toContain(tarball);
        expect(packed).toHaveLength(4);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
    PACK_TIMEOUT_MS + 10_000,
  );

  it("the README's non-root pnpm setup works from an empty HOME", async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('# mkdir -p ~/.local/bin'));
    expect(line).toBeDefined();
    const home = await mkdtemp(join(tmpdir(), 'pd-router-empty-home-'));
    try {
      const script = `${(line as string).slice(2)} && command -v pnpm && pnpm --version`;
      const result = await run('bash', ['-c', script], {
        cwd: REPO_ROOT,
        timeoutMs: 120_000,
        env: {
          HOME: home,
          // Node's own folder only: no pnpm that root installed elsewhere may answer instead.
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
          COREPACK_INTEGRITY_KEYS: '0',
          COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
          NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt',
        },
      });
      expect(result.code, result.report).toBe(0);
      const pinned = (
        JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string }
      ).packageManager.replace('pnpm@', '');
      expect(result.stdout).toContain(`${home}/.local/bin/pnpm`);
      expect(result.stdout.trim().split('\n').at(-1)).toBe(pinned);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 130_000);
});
