import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HELP } from '../src/cli-args.js';

/**
 * The help text, the sources and the docs point at each other: every path they cite must exist,
 * and every flag of `--help` must be documented in the README.
 */
const pkg = fileURLToPath(new URL('..', import.meta.url));
const root = resolve(pkg, '..', '..');
const read = (path: string): string => readFileSync(path, 'utf8');

/** `docs/x.md` as plain text (help, comments): a path from the repository root. */
function docsPaths(text: string): string[] {
  return [...text.matchAll(/\bdocs\/[\w./-]+\.md\b/g)].map((m) => m[0]);
}

/** Relative markdown link targets, anchors dropped. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

describe('references in the help, the sources and the docs', () => {
  it('cites docs/ paths that exist at the repository root', () => {
    const cited = [...docsPaths(HELP), ...docsPaths(read(join(pkg, 'src', 'bare-proxy.ts')))];
    expect(cited).toContain('docs/performance.md');
    for (const path of cited) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it.each(['packages/bench/README.md', 'docs/benchmarks.md'])('%s links only to files that exist', (file) => {
    const links = relativeLinks(read(join(root, file)));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(existsSync(resolve(root, dirname(file), link)), link).toBe(true);
  });

  it('documents every flag of --help in the README', () => {
    // Each option has a `### \`--flag ARG\`` heading in the README's Options section.
    const headings = read(join(pkg, 'README.md'))
      .split('\n')
      .filter((line) => line.startsWith('### '))
      .flatMap((line) => [...line.matchAll(/`(--[a-z-]+)/g)].map((m) => m[1]!));
    const flags = [...HELP.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags).toContain('--bare');
    for (const flag of flags) expect(headings, flag).toContain(flag);
  });
});
