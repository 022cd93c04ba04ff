import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.js';
import type { Config } from '../src/config/types.js';
import { closeAfterEach, type FakeWorker, startFakeWorker, testConfig } from './helpers.js';

// Who may call GET /workers (it names internal addresses), and that docs/architecture.md says so.

const open = closeAfterEach();

async function statuses(overrides: Partial<Config>, keys: readonly (string | null)[]): Promise<number[]> {
  const p: FakeWorker = await startFakeWorker();
  const d: FakeWorker = await startFakeWorker();
  open.push(p, d);
  const server = await buildServer(testConfig({ prefill: [p.spec()], decode: [d.spec()], ...overrides }));
  open.push(server);
  const out: number[] = [];
  for (const key of keys) {
    const headers = key === null ? {} : { authorization: `Bearer ${key}` };
    out.push((await server.inject({ method: 'GET', url: '/workers', headers })).statusCode);
  }
  return out;
}

describe('GET /workers authentication', () => {
  it('open when no key is configured', async () => {
    expect(await statuses({}, [null, 'anything'])).toEqual([200, 200]);
  });

  it('with only --admin-api-key: the admin key, nothing else', async () => {
    expect(await statuses({ adminApiKey: 'adm' }, [null, 'client', 'adm'])).toEqual([401, 401, 200]);
  });

  it('with --api-key: any client key, and the admin key when set', async () => {
    expect(await statuses({ apiKeys: ['c1', 'c2'] }, [null, 'c2', 'adm'])).toEqual([401, 200, 401]);
    expect(await statuses({ apiKeys: ['c1'], adminApiKey: 'adm' }, [null, 'c1', 'adm'])).toEqual([
      401, 200, 200,
    ]);
  });

  it('docs/architecture.md describes exactly that', () => {
    const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
    const row = doc.split('\n').find((line) => line.startsWith('| `GET /workers`'));
    expect(row).toContain('Open when neither `--client-api-key` nor `--admin-api-key` is set');
    expect(row).toContain('one of the `--client-api-key` keys or the `--admin-api-key` key');
    expect(row).toContain('with only `--admin-api-key` set, only the admin key');
  });
});
