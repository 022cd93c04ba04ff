import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli, repoRoot, splitCommand } from './options.js';

describe('splitCommand', () => {
  it('splits on blanks, groups quotes, honours backslashes', () => {
    expect(splitCommand('node  --import ./x.mjs packages/server/dist/cli.js')).toEqual([
      'node',
      '--import',
      './x.mjs',
      'packages/server/dist/cli.js',
    ]);
    expect(splitCommand(`a "b c" 'd "e"' f\\ g ""`)).toEqual(['a', 'b c', 'd "e"', 'f g', '']);
  });
});

describe('parseCli', () => {
  it('defaults to the reference-proxy fixtures and the built router, run from the repo root', () => {
    const parsed = parseCli([], '/somewhere');
    expect(parsed).toEqual({
      kind: 'run',
      options: {
        fixtureDirs: [path.join(repoRoot(), 'fixtures', 'reference-proxy')],
        routerCommand: [process.execPath, path.join(repoRoot(), 'packages', 'server', 'dist', 'cli.js')],
        routerCwd: repoRoot(),
        allowMissingNixl: false,
        caseFilters: [],
        verbose: false,
      },
    });
  });

  it('takes repeated fixtures and cases, and the router after -- (run from the current directory)', () => {
    const parsed = parseCli(
      [
        '--fixtures',
        'a',
        '--fixtures',
        '/b',
        '--case',
        'seed',
        '--allow-missing-nixl',
        '--',
        'my-router',
        '--x',
      ],
      '/cwd',
    );
    expect(parsed.kind === 'run' && parsed.options).toMatchObject({
      fixtureDirs: ['/cwd/a', '/b'],
      caseFilters: ['seed'],
      allowMissingNixl: true,
      routerCommand: ['my-router', '--x'],
      routerCwd: '/cwd',
    });
    const quoted = parseCli(['--router-cmd', 'node --import "./l.mjs" cli.js'], '/cwd');
    expect(quoted.kind === 'run' && quoted.options.routerCommand).toEqual([
      'node',
      '--import',
      './l.mjs',
      'cli.js',
    ]);
  });

  it('reports usage errors and help', () => {
    expect(parseCli(['--bogus'])).toEqual({ kind: 'error', message: 'unknown option --bogus' });
    expect(parseCli(['--fixtures'])).toEqual({ kind: 'error', message: '--fixtures needs a value' });
    expect(parseCli(['--'])).toEqual({ kind: 'error', message: 'the router command is empty' });
    expect(parseCli(['--verbose', '-h'])).toEqual({ kind: 'help' });
  });
});
