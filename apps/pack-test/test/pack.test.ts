/**
 * The published artifacts on their own: `pnpm pack` each package, `npm install` the tarballs into
 * an empty project outside the workspace, then use them as a user would: the three CLIs, core's
 * API from plain Node, the type declarations from a TypeScript consumer, and a request through
 * the installed router to installed mock workers. publint and arethetypeswrong lint the tarballs.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTarballs, npmEnv, type PackedPackage, packAll } from './support/pack-install.js';
import { REPO_ROOT } from './support/paths.js';
import { run, Service } from './support/process.js';

/** Packing plus a cold `npm install` on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 170_000;
const COMMAND_TIMEOUT_MS = 60_000;

let workDir = '';
let projectDir = '';
let packed: PackedPackage[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pd-router-pack-'));
  const tarballs = join(workDir, 'tarballs');
  projectDir = join(workDir, 'consumer');
  await mkdir(tarballs);
  await mkdir(projectDir);
  packed = await packAll(tarballs);
  await installTarballs(projectDir, packed);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

function inProject(command: string, args: readonly string[]) {
  return run(command, args, { cwd: projectDir, env: npmEnv(), timeoutMs: COMMAND_TIMEOUT_MS });
}

async function installedManifest(name: string): Promise<Record<string, unknown>> {
  const text = await readFile(join(projectDir, 'node_modules', name, 'package.json'), 'utf8');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('tarballs', () => {
  it('hold the built package, its README and LICENSE, and no sources or tests', () => {
    for (const { pkg, files } of packed) {
      for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
        expect(files, `${pkg.name} lacks ${file}`).toContain(file);
      }
      const stray = files.filter((f) => /^(src|test)\/|\.test\.|tsconfig|vitest|tsup\.config/.test(f));
      expect(stray, `${pkg.name} ships files it should not`).toEqual([]);
    }
  });

  it('have publishable manifests: real versions, exports with types, engines, bins, Apache-2.0', async () => {
    for (const { pkg, files } of packed) {
      const m = await installedManifest(pkg.name);
      const ranges = JSON.stringify([m['dependencies'], m['peerDependencies'], m['optionalDependencies']]);
      expect(ranges, `${pkg.name} still has workspace ranges`).not.toContain('workspace:');
      expect(m['license']).toBe('Apache-2.0');
      expect(m['type']).toBe('module');
      expect(m['engines']).toEqual({ node: '>=20.19.0' });
      expect(m['publishConfig']).toMatchObject({ access: 'public' });
      expect(m['repository']).toMatchObject({ directory: `packages/${pkg.dir}` });
      expect(m['exports']).toMatchObject({ '.': { types: './dist/index.d.ts', import: './dist/index.js' } });
      const bins = (m['bin'] ?? {}) as Record<string, string>;
      expect(Object.keys(bins)).toEqual([...pkg.bins]);
      for (const target of Object.values(bins)) expect(files).toContain(target.replace(/^\.\//, ''));
    }
  });

  it('are publint-clean (suggestions included)', async () => {
    for (const { pkg, tarball } of packed) {
      const bytes = await readFile(tarball);
      const tar = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const result = await publint({ pack: { tarball: tar }, level: 'suggestion', strict: true });
      const messages = result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg) ?? m.code}`);
      expect(messages, `publint on ${pkg.name}`).toEqual([]);
    }
  });

  it('have types that resolve for ESM consumers (arethetypeswrong, esm-only profile)', async () => {
    const attw = join(REPO_ROOT, 'node_modules', '.bin', 'attw');
    const results = await Promise.all(
      packed.map(({ tarball }) =>
        run(attw, [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'], {
          cwd: REPO_ROOT,
          timeoutMs: COMMAND_TIMEOUT_MS,
        }),
      ),
    );
    for (const result of results) expect(result.code, result.report).toBe(0);
  });
});

describe('installed CLIs', () => {
  const cases = [
    { bin: 'pd-router', flags: ['--prefill', '--decode', '--policy', '--port', '--config', '--api-key'] },
    { bin: 'mock-vllm', flags: ['--role', '--port', '--kv-port', '--preset', '--fault'] },
    { bin: 'pd-bench', flags: ['--scenario', '--compare', '--router', '--out', '--quick'] },
  ];
  for (const { bin, flags } of cases) {
    it(`npx ${bin} --help exits 0 and lists its flags`, async () => {
      const result = await inProject('npx', ['--no-install', bin, '--help']);
      expect(result.code, result.report).toBe(0);
      for (const flag of flags) expect(result.stdout, `${bin} --help lacks ${flag}`).toContain(flag);
    });
  }

  it('npx pd-router --version prints the packed version', async () => {
    const server = await installedManifest('@pd-router/server');
    const result = await inProject('npx', ['--no-install', 'pd-router', '--version']);
    expect(result.code, result.report).toBe(0);
    expect(result.stdout.trim()).toBe(`pd-router ${String(server['version'])}`);
  });
});

describe('installed libraries', () => {
  it("core's canonicalizer gives Python's json.dumps(json.loads(body)) bytes from plain Node", async () => {
    // The expected strings were produced by CPython 3 from the same bytes.
    const script = `
      import { canonicalize, prefillBody } from '@pd-router/core';
      const body = Buffer.from('{"model":"m","messages":[{"role":"user","content":"h\\u00e9llo \\ud83d\\ude00"}],' +
        '"max_tokens":50,"temperature":1E0,"top_p":0.10,"seed":12345678901234567890,"x":1e400,"y":-0,' +
        '"z":1e-7,"dup":1,"dup":2}', 'utf8');
      const decode = canonicalize(body);
      const prefill = prefillBody(body);
      if (!decode.ok || !prefill.ok) throw new Error('rejected');
      process.stdout.write(JSON.stringify([decode.value, prefill.value]));
    `;
    const result = await inProject('node', ['--input-type=module', '-e', script]);
    expect(result.code, result.report).toBe(0);
    const tail =
      '"temperature": 1.0, "top_p": 0.1, "seed": 12345678901234567890, "x": Infinity, "y": 0, "z": 1e-07, "dup": 2}';
    const head = '{"model": "m", "messages": [{"role": "user", "content": "h\\u00e9llo \\ud83d\\ude00"}], ';
    expect(JSON.parse(result.stdout)).toEqual([
      `${head}"max_tokens": 50, ${tail}`,
      `${head}"max_tokens": 1, ${tail}`,
    ]);
  });

  it('every package entry point loads in Node with its documented exports', async () => {
    const script = `
      const [core, server, mock, bench] = await Promise.all(['@pd-router/core', '@pd-router/server',
        '@pd-router/mock-vllm', '@pd-router/bench'].map((name) => import(name)));
      process.stdout.write(JSON.stringify({
        core: typeof core.canonicalRequest, server: typeof server.buildServer,
        mock: typeof mock.createMockVllm, bench: typeof bench.runBenchmark,
      }));
    `;
    const result = await inProject('node', ['--input-type=module', '-e', script]);
    expect(result.code, result.report).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      core: 'function',
      server: 'function',
      mock: 'function',
      bench: 'function',
    });
  });

  it("the server's config schema resolves by its package path (an export) and is the settings schema", async () => {
    const script = `
      import { createRequire } from 'node:module';
      const path = createRequire(import.meta.url).resolve('@pd-router/server/config.schema.json');
      const { default: schema } = await import('@pd-router/server/config.schema.json', { with: { type: 'json' } });
      process.stdout.write(JSON.stringify({ path: path.endsWith('config.schema.json'), type: schema.type,
        policy: Object.keys(schema.properties ?? {}).includes('policy') }));
    `;
    const result = await inProject('node', ['--input-type=module', '-e', script]);
    expect(result.code, result.report).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ path: true, type: 'object', policy: true });
  });

  it('type declarations compile in a strict NodeNext TypeScript consumer', async () => {
    const source = `
      import { canonicalRequest, type Result, type WorkerAddress, parseWorkerUrl } from '@pd-router/core';
      import { buildServer, type Config } from '@pd-router/server';
      import { createPrefillServer, type MockVllmOptions } from '@pd-router/mock-vllm';
      import { runBenchmark, type BenchOptions } from '@pd-router/bench';
      const parsed: Result<WorkerAddress> = parseWorkerUrl('http://127.0.0.1:1:zmq://127.0.0.1:2');
      const bodies = canonicalRequest(new Uint8Array([123, 125]));
      export const checks = [parsed.ok, bodies.ok, buildServer, createPrefillServer, runBenchmark] as const;
      export type Used = [Config, MockVllmOptions, BenchOptions];
    `;
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    };
    await writeFile(join(projectDir, 'consumer.ts'), source);
    await writeFile(join(projectDir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', projectDir], {
      cwd: projectDir,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    expect(result.code, result.report).toBe(0);
  });
});

describe('installed bench', () => {
  it('npx pd-bench --quick measures the installed pd-router on an installed mock cluster', async () => {
    const out = join(workDir, 'bench-results');
    const result = await run(
      'npx',
      ['--no-install', 'pd-bench', '--quick', '--scenario', 'chat-short', '--out', out],
      {
        cwd: projectDir,
        env: npmEnv(),
        timeoutMs: 120_000,
      },
    );
    expect(result.code, result.report).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as unknown;
    expect(JSON.stringify(report)).toContain('pd-router');
  }, 150_000);
});

describe('installed router end to end', () => {
  const services: Service[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
  });

  function start(name: string, bin: string, args: readonly string[]): Service {
    const service = new Service(name, join(projectDir, 'node_modules', '.bin', bin), args, {
      cwd: projectDir,
      env: npmEnv(),
    });
    services.push(service);
    return service;
  }

  it('pd-router relays a chat completion between installed mock-vllm workers (P2P NCCL over ZeroMQ)', async () => {
    const workerLine = /url=(http:\/\/127\.0\.0\.1:\d+) kv=(127\.0\.0\.1:\d+)/;
    const loopback = ['--host', '127.0.0.1', '--port', '0', '--kv-port', '0'];
    const prefill = start('mock-vllm prefill', 'mock-vllm', ['--role', 'prefill', ...loopback]);
    const decode = start('mock-vllm decode', 'mock-vllm', ['--role', 'decode', ...loopback]);
    const [p, d] = await Promise.all([
      prefill.waitFor(workerLine, 30_000),
      decode.waitFor(workerLine, 30_000),
    ]);
    const router = start('pd-router', 'pd-router', [
      '--prefill',
      `${p[1]}:zmq://${p[2]}`,
      '--decode',
      `${d[1]}:zmq://${d[2]}`,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    const listening = await router.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    const base = listening[1] ?? '';

    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 4,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as { object?: string; choices?: unknown[] };
    expect(body.object).toBe('chat.completion');
    expect(body.choices?.length).toBe(1);

    const liveness = await fetch(`${base}/liveness`, { signal: AbortSignal.timeout(10_000) });
    expect(liveness.status).toBe(200);
    // A clean SIGTERM shutdown exits 0 (what Kubernetes and Docker send).
    expect(await router.stop()).toBe(0);
  }, 90_000);
});
