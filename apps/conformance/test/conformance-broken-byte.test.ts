import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, lastLine, REPO_ROOT, ROUTER_CLI, requireBuilt, runApp, tableRows } from './helpers.js';

const LOADER = path.join(APP_DIR, 'test', 'fixtures', 'break-canonicalizer.mjs');
const CORE_DIST = path.join(REPO_ROOT, 'packages', 'core', 'dist', 'index.js');

/** canonicalRequest's two bodies for `body`, from core's dist, with or without the breaking loader. */
function canonicalBodies(body: string, broken: boolean): { decode: string; prefill: string } {
  const script = `
    const core = await import(${JSON.stringify(pathToFileURL(CORE_DIST).href)});
    const r = core.canonicalRequest(Buffer.from(${JSON.stringify(body)}));
    process.stdout.write(JSON.stringify(r.value));`;
  const loader = broken ? ['--import', pathToFileURL(LOADER).href] : [];
  const out = spawnSync(process.execPath, [...loader, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { decode: string; prefill: string };
}

// CI must catch a canonicalizer that is one byte off: the same app, a router whose core is broken.
describe('conformance app with a canonicalizer broken by one byte', () => {
  beforeAll(() => requireBuilt());

  it('the loader breaks exactly one byte of each body', () => {
    const body = '{"model":"m","prompt":"hi","max_tokens":5}';
    const good = canonicalBodies(body, false);
    const bad = canonicalBodies(body, true);
    expect(good.decode).toBe('{"model": "m", "prompt": "hi", "max_tokens": 5}');
    expect(bad.decode).toBe('{"model": "m",  "prompt": "hi", "max_tokens": 5}');
    expect(bad.prefill.length).toBe(good.prefill.length + 1);
  });

  it('fails the run and marks the prefill and decode bodies', { timeout: 60_000 }, async () => {
    const cases = ['01-seed-chat', '06-stream-completions'];
    const run = await runApp(
      [
        ...cases.flatMap((c) => ['--case', c]),
        '--',
        process.execPath,
        '--import',
        pathToFileURL(LOADER).href,
        ROUTER_CLI,
      ],
      50_000,
    );
    const rows = tableRows(run.stdout);

    expect([...rows.keys()].sort()).toEqual(cases);
    for (const [, marks] of rows) {
      expect(marks['prefill body']).toBe('✗');
      expect(marks['decode body']).toBe('✗');
      // One byte off breaks the bodies, not the routing: the legs still come in order, to the right pair.
      expect(marks['prefill-before-decode']).toBe('✓');
      expect(marks.pair).toBe('✓');
    }
    // The readable diff names the byte: one blank too many after the first member.
    expect(run.stdout).toMatch(/bodies differ at byte \d+ .*expected 0x22 '"', actual 0x20 ' '/);
    expect(lastLine(run.stdout)).toBe('0 passed, 2 failed');
    expect(run.code).toBe(1);
  });
});
