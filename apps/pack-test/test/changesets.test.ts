/**
 * The release plan, as CI computes it: `pnpm changeset status --output plan.json` must succeed, and
 * every pending changeset must bump published packages sensibly (never a private app).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_PACKAGES, REPO_ROOT } from './support/paths.js';
import { run } from './support/process.js';

interface ReleasePlan {
  readonly changesets: readonly {
    id: string;
    summary: string;
    releases: readonly { name: string; type: string }[];
  }[];
  readonly releases: readonly { name: string; type: string; oldVersion: string; newVersion: string }[];
}

const config = JSON.parse(readFileSync(join(REPO_ROOT, '.changeset', 'config.json'), 'utf8')) as {
  baseBranch: string;
};

/** Why `changeset status` cannot run in this checkout, or undefined when it can. */
async function missingGitHistory(): Promise<string | undefined> {
  const git = await run('git', ['rev-parse', '--verify', '--quiet', `${config.baseBranch}^{commit}`], {
    cwd: REPO_ROOT,
    timeoutMs: 15_000,
  });
  if (git.code === null) return `git is not available (${git.stderr.trim()})`;
  if (git.code !== 0) {
    return `this checkout has no "${config.baseBranch}" branch (changeset status diffs against it)`;
  }
  return undefined;
}

function bump(version: string, type: string): string {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (type === 'major') return `${major + 1}.0.0`;
  if (type === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

describe('changesets', () => {
  it('pnpm changeset status computes a release plan of published packages only', async (context) => {
    const reason = await missingGitHistory();
    if (reason !== undefined) {
      // CI runs in a clone of main, so this never skips there.
      expect(process.env['CI'], `changeset status must run in CI, but ${reason}`).not.toBe('true');
      console.warn(`skipping the release-plan check: ${reason}`);
      context.skip();
    }
    const dir = await mkdtemp(join(tmpdir(), 'pd-router-changeset-'));
    try {
      const output = join(dir, 'plan.json');
      const status = await run('pnpm', ['changeset', 'status', '--output', output], {
        cwd: REPO_ROOT,
        timeoutMs: 60_000,
      });
      expect(status.code, status.report).toBe(0);
      const plan = JSON.parse(await readFile(output, 'utf8')) as ReleasePlan;

      const pending = readdirSync(join(REPO_ROOT, '.changeset'))
        .filter((f) => f.endsWith('.md') && f !== 'README.md')
        .map((f) => f.slice(0, -3))
        .sort();
      expect(plan.changesets.map((c) => c.id).sort()).toEqual(pending);
      if (pending.length > 0)
        expect(plan.releases.filter((r) => r.type !== 'none').length).toBeGreaterThan(0);

      const published: readonly string[] = PUBLISHED_PACKAGES.map((p) => p.name);
      for (const changeset of plan.changesets) {
        expect(changeset.summary.trim(), `.changeset/${changeset.id}.md has no text`).not.toBe('');
        expect(changeset.releases.length, `.changeset/${changeset.id}.md bumps nothing`).toBeGreaterThan(0);
      }
      // Private workspaces appear with type "none" (dependents of bumped packages) and stay put.
      for (const release of plan.releases.filter((r) => r.type === 'none')) {
        expect(release.newVersion, release.name).toBe(release.oldVersion);
      }
      for (const release of plan.releases.filter((r) => r.type !== 'none')) {
        expect(published, `${release.name} is not a published package`).toContain(release.name);
        expect(['major', 'minor', 'patch']).toContain(release.type);
        expect(release.newVersion, release.name).toBe(bump(release.oldVersion, release.type));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
