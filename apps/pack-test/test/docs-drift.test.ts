/**
 * The docs cannot drift from the code: every metric the router and the mock expose is in
 * docs/metrics.md (and nothing else is), every `pd-router` flag is in docs/configuration.md, every
 * flag our other docs mention exists, and docs/errors.md lists each code of every package's code
 * list exactly once, under the package that defines it (this is the one check of the error
 * catalogue: every package's and app's code lists are read from their sources).
 */
import { join } from 'node:path';
import { BENCH_ERROR_CODES } from '@pd-router/bench';
import { CORE_ERROR_CODES } from '@pd-router/core';
import { createMockVllm, MOCK_ERROR_CODES, type MockVllmOptions } from '@pd-router/mock-vllm';
import {
  buildServer,
  CONFIG_ERROR_CODES,
  type Config,
  loadConfig,
  SERVER_ERROR_CODES,
} from '@pd-router/server';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  codeCell,
  codeSpans,
  errorCodeLists,
  exposedMetrics,
  readDoc,
  tableRows,
  tables,
} from './support/docs.js';
import { PUBLISHED_PACKAGES, REPO_ROOT } from './support/paths.js';
import { run } from './support/process.js';

/** The smallest valid configuration, through the public loader; workers are never called (nothing is proxied here). */
function minimalConfig(): Config {
  const loaded = loadConfig({
    argv: [
      ...['--prefill', 'http://127.0.0.1:20003:zmq://127.0.0.1:21001'],
      ...['--decode', 'http://127.0.0.1:20005:zmq://127.0.0.1:22001'],
      ...['--log-level', 'silent'],
    ],
    env: {},
  });
  if (!loaded.ok) throw loaded.error;
  return loaded.value;
}

/**
 * `name → type` of every row of the docs/metrics.md tables headed `| metric | type | ... |` (other
 * tables, such as the vllm-router name mapping, are not the list).
 */
function documentedMetrics(): Map<string, string> {
  const metrics = new Map<string, string>();
  for (const table of tables(readDoc('docs/metrics.md'))) {
    if (table.header[0] !== 'metric' || table.header[1] !== 'type') continue;
    for (const row of table.rows) {
      const name = codeCell(row[0]) ?? '';
      expect(name, `a metric row of docs/metrics.md: ${row.join(' | ')}`).toMatch(
        /^[a-zA-Z_:][a-zA-Z0-9_:]*$/,
      );
      expect(metrics.has(name), `${name} is listed twice in docs/metrics.md`).toBe(false);
      metrics.set(name, row[1] ?? '');
    }
  }
  return metrics;
}

function compareMetrics(
  exposed: Map<string, string>,
  documented: Map<string, string>,
  isOurs: (n: string) => boolean,
) {
  const missing = [...exposed.keys()].filter((name) => !documented.has(name));
  expect(missing, 'exposed but not in docs/metrics.md').toEqual([]);
  const stale = [...documented.keys()].filter((name) => isOurs(name) && !exposed.has(name));
  expect(stale, 'in docs/metrics.md but not exposed').toEqual([]);
  for (const [name, type] of exposed) expect(documented.get(name), `type of ${name}`).toBe(type);
}

describe('docs/metrics.md', () => {
  it("lists exactly the router's metrics (GET /metrics of buildServer), with their types", async () => {
    const app = await buildServer(minimalConfig());
    try {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      const exposed = exposedMetrics(response.body);
      expect(exposed.size).toBeGreaterThan(0);
      compareMetrics(exposed, documentedMetrics(), (name) => !name.startsWith('vllm:'));
    } finally {
      await app.close();
    }
  });

  it("lists exactly mock-vllm's metrics (P2P NCCL and NIXL instances), with their types", async () => {
    const variants: MockVllmOptions[] = [{ role: 'both' }, { role: 'prefill', kvConnector: 'nixl' }];
    const exposed = new Map<string, string>();
    for (const options of variants) {
      const mock = await createMockVllm({ ...options, host: '127.0.0.1', port: 0, kvPort: 0 });
      try {
        const response = await fetch(`${mock.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
        for (const [name, type] of exposedMetrics(await response.text())) exposed.set(name, type);
      } finally {
        await mock.close();
      }
    }
    expect(exposed.size).toBeGreaterThan(0);
    compareMetrics(exposed, documentedMetrics(), (name) => name.startsWith('vllm:'));
  });
});

describe('flags in the docs', () => {
  let helpFlags = new Set<string>();

  beforeAll(async () => {
    const cli = join(REPO_ROOT, 'packages', 'server', 'dist', 'cli.js');
    const result = await run(process.execPath, [cli, '--help'], { cwd: REPO_ROOT, timeoutMs: 30_000 });
    expect(result.code, result.report).toBe(0);
    helpFlags = new Set(
      [...result.stdout.matchAll(/^ {2}((?:--?[a-zA-Z][\w-]*)(?:, --?[a-zA-Z][\w-]*)*)/gm)].flatMap((m) =>
        (m[1] ?? '').split(', '),
      ),
    );
    expect(helpFlags.size).toBeGreaterThan(10);
  });

  it('docs/configuration.md has every flag of pd-router --help', () => {
    const documented = new Set(
      codeSpans(readDoc('docs/configuration.md')).flatMap((s) => s.split(/[\s,=]+/)),
    );
    expect([...helpFlags].filter((flag) => !documented.has(flag))).toEqual([]);
  });

  // vllm-router's own flags appear in the migration guide's first column; everything presented
  // as a pd-router flag (here and in the other guides) must exist.
  const guides = [
    'docs/architecture.md',
    'docs/deployment.md',
    'docs/migration-python-proxy.md',
    'docs/metrics.md',
    'docs/wire-contract.md',
    'packages/server/README.md',
  ];
  // `vllm serve` flags the guides tell users to look at on the vLLM side.
  const vllmFlags = new Set(['--kv-transfer-config']);
  for (const guide of guides) {
    it(`${guide} mentions only flags pd-router has`, () => {
      const flags = codeSpans(readDoc(guide))
        .filter((span) => span.startsWith('--'))
        .map((span) => span.split(/[\s=]/)[0] ?? '');
      expect(flags.filter((flag) => !helpFlags.has(flag) && !vllmFlags.has(flag))).toEqual([]);
    });
  }

  it('docs/migration-vllm-router.md maps vllm-router flags to pd-router flags that exist', () => {
    const rows = tableRows(readDoc('docs/migration-vllm-router.md')).filter((row) =>
      row[0]?.startsWith('`--'),
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) {
      const ours = [...(row[1] ?? '').matchAll(/`(--[a-z][\w-]*)/g)].map((m) => m[1] ?? '');
      for (const flag of ours) expect(helpFlags.has(flag), `${row[0]} → ${flag}`).toBe(true);
    }
  });
});

describe('CLI flags in the package READMEs', () => {
  // pd-router's flags are checked against docs/configuration.md above; the other CLIs document
  // theirs in their package README.
  for (const [dir, bin] of [
    ['mock-vllm', 'mock-vllm'],
    ['bench', 'pd-bench'],
  ] as const) {
    it(`packages/${dir}/README.md names every flag of ${bin} --help`, async () => {
      const cli = join(REPO_ROOT, 'packages', dir, 'dist', 'cli.js');
      const result = await run(process.execPath, [cli, '--help'], { cwd: REPO_ROOT, timeoutMs: 30_000 });
      expect(result.code, result.report).toBe(0);
      const flags = [...result.stdout.matchAll(/^ {2}(--[a-z][\w-]*)/gm)].map((m) => m[1] ?? '');
      expect(flags.length).toBeGreaterThan(5);
      const readme = readDoc(`packages/${dir}/README.md`);
      const missing = flags.filter((flag) => !new RegExp(`${flag}(?![\\w-])`).test(readme));
      expect(missing, `flags of ${bin} --help missing from its README`).toEqual([]);
    });
  }
});

describe('docs/errors.md', () => {
  const rows = tableRows(readDoc('docs/errors.md'))
    .map((row) => ({ code: codeCell(row[0]) ?? '', owner: row[1] ?? '' }))
    .filter((row) => row.code.startsWith('PD_ERR_'));
  const lists = errorCodeLists();

  it('finds the table', () => {
    expect(rows.length).toBeGreaterThan(0);
  });

  it('reads every code list that the packages export', () => {
    const read = new Set(lists.flatMap((list) => list.codes));
    const exported = [
      ...CORE_ERROR_CODES,
      ...SERVER_ERROR_CODES,
      ...CONFIG_ERROR_CODES,
      ...MOCK_ERROR_CODES,
      ...BENCH_ERROR_CODES,
    ];
    expect(exported.filter((code) => !read.has(code))).toEqual([]);
  });

  it('lists the configuration codes as server rows, in the order of CONFIG_ERROR_CODES', () => {
    const config = rows.filter((row) => row.code.startsWith('PD_ERR_CONFIG_'));
    expect(config).toEqual(CONFIG_ERROR_CODES.map((code) => ({ code, owner: 'server' })));
  });

  it('lists each code once', () => {
    const seen = new Set<string>();
    const duplicates = rows.filter((row) => seen.size === seen.add(row.code).size).map((row) => row.code);
    expect(duplicates).toEqual([]);
  });

  it('lists only codes that a package declares, under that package', () => {
    const owners = new Map<string, string>();
    for (const list of lists) for (const code of list.codes) owners.set(code, list.owner.split('/')[1] ?? '');
    expect(lists.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) expect(owners.get(row.code), `owner of ${row.code}`).toBe(row.owner);
  });

  it('each code is declared in one list of one package only', () => {
    const declared = lists.flatMap((list) => list.codes.map((code) => `${code} (${list.file})`));
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const entry of declared) {
      const code = entry.split(' ')[0] ?? '';
      const first = seen.get(code);
      if (first !== undefined && first !== entry) twice.push(`${first} and ${entry}`);
      else if (first === entry) twice.push(`${entry} twice`);
      seen.set(code, entry);
    }
    expect(twice).toEqual([]);
  });

  it('lists every code of every package and app', () => {
    const documented = new Set(rows.map((row) => row.code));
    const missing = lists.flatMap((list) =>
      list.codes.filter((c) => !documented.has(c)).map((c) => `${c} (${list.file})`),
    );
    expect(missing).toEqual([]);
  });
});

describe('package READMEs', () => {
  for (const pkg of PUBLISHED_PACKAGES) {
    it(`${pkg.name}: purpose, install, first command, API or flags, errors`, () => {
      const readme = readDoc(`packages/${pkg.dir}/README.md`);
      const [title, ...rest] = readme.split('\n');
      expect(title).toBe(`# ${pkg.name}`);
      const purpose = rest.join('\n').trim().split('\n\n')[0] ?? '';
      expect(purpose.length, 'a paragraph saying what the package is for').toBeGreaterThan(200);
      // Nothing is on the registry yet: one `npm install` command line (backslash continuations
      // allowed) names the package's packed tarball.
      const tarball = `${pkg.name.slice(1).replace('/', '-')}-[\\d.]+\\.tgz`;
      expect(readme, 'an install command').toMatch(
        new RegExp(`npm i(nstall)? (?:[^\\n]|\\\\\\n)*?${tarball}`),
      );
      expect(readme, 'a runnable first command or example').toMatch(/^```(sh|bash|js|ts)$/m);
      expect(readme, 'a section listing the API, options or flags').toMatch(/^#{2,3} .*(API|Options|Flags)/m);
      expect(readme, 'a link to the error catalogue').toContain('docs/errors.md');
      for (const bin of pkg.bins) expect(readme, `how to run ${bin}`).toContain(bin);
    });
  }
});
