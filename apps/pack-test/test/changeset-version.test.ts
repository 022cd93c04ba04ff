/**
 * What `changeset version` would publish, applied to a copy of the workspace's manifests: each
 * package gets the bump its changesets ask for and a CHANGELOG that holds its own entries only.
 * The changelog generator copies a changeset's whole text under every package it names, so the
 * rule is one package per changeset (`.changeset/README.md`).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_PACKAGES, REPO_ROOT } from './support/paths.js';
import { run } from './support/process.js';

interface Changeset {
  readonly id: string;
  readonly releases: ReadonlyMap<string, string>;
  readonly summary: string;
}

/** Reads `.changeset/*.md`: the front matter's `"name": bump` lines, then the text. */
function readChangesets(dir: string): Changeset[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      if (match === null) throw new Error(`.changeset/${file} has no front matter`);
      const releases = new Map<string, string>();
      for (const line of (match[1] ?? '').split('\n')) {
        const release = /^"([^"]+)":\s*(major|minor|patch)\s*$/.exec(line.trim());
        if (release !== null) releases.set(release[1] ?? '', release[2] ?? '');
      }
      return { id: file.slice(0, -3), releases, summary: (match[2] ?? '').trim() };
    });
}

/** The first line of a summary: what a changelog entry starts with. */
function firstLine(summary: string): string {
  return summary.split('\n')[0] ?? '';
}

const changesets = readChangesets(join(REPO_ROOT, '.changeset'));

describe('changeset version', () => {
  it('every changeset names exactly one published package', () => {
    const published: readonly string[] = PUBLISHED_PACKAGES.map((p) => p.name);
    for (const changeset of changesets) {
      expect([...changeset.releases.keys()], `.changeset/${changeset.id}.md`).toHaveLength(1);
      for (const name of changeset.releases.keys()) expect(published).toContain(name);
      expect(changeset.summary, `.changeset/${changeset.id}.md has no text`).not.toBe('');
    }
  });

  it('bumps each package once and writes changelogs with its own entries only', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pd-router-version-'));
    try {
      // The manifests and the changesets are all `changeset version` reads and writes.
      for (const file of ['package.json', 'pnpm-workspace.yaml'])
        cpSync(join(REPO_ROOT, file), join(work, file));
      cpSync(join(REPO_ROOT, '.changeset'), join(work, '.changeset'), { recursive: true });
      for (const root of ['packages', 'apps']) {
        for (const name of readdirSync(join(REPO_ROOT, root))) {
          const manifest = join(REPO_ROOT, root, name, 'package.json');
          mkdirSync(join(work, root, name), { recursive: true });
          cpSync(manifest, join(work, root, name, 'package.json'));
        }
      }
      const cli = join(REPO_ROOT, 'node_modules', '@changesets', 'cli', 'bin.js');
      const result = await run(process.execPath, [cli, 'version'], { cwd: work, timeoutMs: 60_000 });
      expect(result.code, result.report).toBe(0);

      for (const pkg of PUBLISHED_PACKAGES) {
        const before = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', pkg.dir, 'package.json'), 'utf8'));
        const after = JSON.parse(readFileSync(join(work, 'packages', pkg.dir, 'package.json'), 'utf8'));
        const own = changesets.filter((c) => c.releases.has(pkg.name));
        const others = changesets.filter((c) => !c.releases.has(pkg.name));
        if (own.length === 0) {
          expect(after.version, pkg.name).toBe(before.version);
          continue;
        }
        const [major = 0, minor = 0, patch = 0] = String(before.version).split('.').map(Number);
        const types = own.map((c) => c.releases.get(pkg.name));
        const expected = types.includes('major')
          ? `${major + 1}.0.0`
          : types.includes('minor')
            ? `${major}.${minor + 1}.0`
            : `${major}.${minor}.${patch + 1}`;
        expect(after.version, pkg.name).toBe(expected);

        const changelog = readFileSync(join(work, 'packages', pkg.dir, 'CHANGELOG.md'), 'utf8');
        expect(changelog).toContain(`# ${pkg.name}`);
        expect(changelog).toContain(`## ${expected}`);
        for (const c of own) expect(changelog, `${pkg.name} lacks ${c.id}`).toContain(firstLine(c.summary));
        for (const c of others)
          expect(changelog, `${pkg.name} shows ${c.id}`).not.toContain(firstLine(c.summary));
      }
      // Applied changesets are consumed.
      expect(readChangesets(join(work, '.changeset'))).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
