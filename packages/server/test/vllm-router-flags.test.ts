import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VllmRouterFlag, vllmRouterFlagStatus } from '../src/config/render.js';
import { FakeKubeApi } from './fake-kube-api.js';
import { waitFor } from './helpers.js';

// Every flag of vllm-router (fixtures/vllm-router/flags.json, from its src/main.rs and Python
// launcher) against the built CLI: the ones pd-router takes all start a router that serves, and
// the others are all refused at once, each with its reason.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FLAGS = (
  JSON.parse(readFileSync(new URL('../../../fixtures/vllm-router/flags.json', import.meta.url), 'utf8')) as {
    flags: VllmRouterFlag[];
  }
).flags;

interface Run {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  const run: Run = { child, output: '', exited: new Promise((resolve) => child.once('close', resolve)) };
  const read = (chunk: Buffer) => {
    run.output += chunk.toString();
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  return run;
}

/** A value vllm-router would take for the flag: its default, or a plausible one. */
function tokens(entry: VllmRouterFlag, value = entry.default): string[] {
  if (entry.takes === 'none') return [entry.flag];
  return [entry.flag, value ?? 'x'];
}

const accepted = FLAGS.filter((f) => vllmRouterFlagStatus(f.flag).status === 'accepted');
const refused = FLAGS.filter((f) => vllmRouterFlagStatus(f.flag).status !== 'accepted');

describe('every vllm-router flag', () => {
  let prefill: MockVllm;
  let decode: MockVllm;
  let kube: FakeKubeApi;
  let validator: ReturnType<typeof createServer>;
  let dir: string;
  beforeAll(async () => {
    prefill = await createPrefillServer();
    decode = await createDecodeServer({ kvWaitTimeoutMs: 10_000 });
    kube = new FakeKubeApi('default');
    await kube.start();
    validator = createServer((req, res) =>
      res.writeHead(req.headers.authorization === 'Bearer client' ? 200 : 401).end(),
    );
    await new Promise<void>((resolve) => validator.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'pd-router-vllm-flags-'));
  });
  afterAll(async () => {
    await Promise.all([prefill.close(), decode.close(), kube.close()]);
    await new Promise((resolve) => validator.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('the fixture lists vllm-router PD mode flags, each classified', () => {
    expect(FLAGS.length).toBeGreaterThan(60);
    expect(accepted.map((f) => f.flag)).toEqual(
      expect.arrayContaining(['--prefill', '--decode', '--api-key']),
    );
    for (const flag of ['--worker-urls', '--enable-igw', '--history-backend', '--profile']) {
      expect(refused.map((f) => f.flag)).toContain(flag);
    }
    for (const flag of [
      '--enable-trace',
      '--otlp-traces-endpoint',
      '--otel-sampling-ratio',
      '--otel-excluded-paths',
    ])
      expect(accepted.map((f) => f.flag)).toContain(flag);
  });

  it('takes every accepted flag at once, with vllm-router values, and serves', async () => {
    const validatorUrl = `http://127.0.0.1:${(validator.address() as AddressInfo).port}/check`;
    // Values a test can use: free ports, this machine's mocks, files in a temporary directory.
    const values: Record<string, string | undefined> = {
      '--port': '0',
      '--prometheus-port': '0',
      '--prefill': prefill.workerSpec,
      '--decode': decode.workerSpec,
      '--vllm-discovery-address': '127.0.0.1:0',
      '--prefill-policy': 'round_robin',
      '--decode-policy': 'round_robin',
      '--api-key': 'worker-key',
      '--api-key-validation-urls': validatorUrl,
      '--log-dir': dir,
      '--service-discovery-namespace': 'default',
      '--selector': 'app=vllm',
      '--prefill-selector': 'role=prefill',
      '--decode-selector': 'role=decode',
      '--request-id-headers': 'x-client-id',
      '--cors-allowed-origins': 'http://app.example',
      '--kv-connector': 'p2p-nccl',
      '--rate-limit-tokens-per-second': '1000',
      // OTLP/gRPC to a refused loopback port: spans are dropped, requests are served.
      '--otlp-traces-endpoint': '127.0.0.1:1',
      '--otel-excluded-paths': '/health',
    };
    // Two spellings of one flag may not both be given: the first one stands for both.
    const seen = new Set<string>();
    const args: string[] = ['--kubeconfig', kube.kubeconfig()];
    for (const entry of accepted) {
      const option = vllmRouterFlagStatus(entry.flag);
      if (entry.flag === '--help' || entry.flag === '--version' || option.status !== 'accepted') continue;
      if (seen.has(option.option.flag)) continue;
      seen.add(option.option.flag);
      args.push(...tokens(entry, values[entry.flag] ?? entry.default));
    }
    const run = start(args);
    try {
      const pattern = /pd-router listening on (http:\/\/127\.0\.0\.1:\d+)/;
      await waitFor(
        () => pattern.test(run.output) || run.child.exitCode !== null,
        30_000,
        'the listening line',
      );
      const base = pattern.exec(run.output)?.[1];
      expect(base, run.output).toBeDefined();
      const res = await fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer client', 'x-client-id': 'c-1' },
        body: JSON.stringify({ model: prefill.model, prompt: 'hi', max_tokens: 3 }),
      });
      expect(res.status, await res.text()).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('c-1');
      expect(decode.received.at(-1)?.headers.authorization).toBe('Bearer worker-key');
      const refusedClient = await fetch(`${base}/v1/models`, { headers: { authorization: 'Bearer other' } });
      expect(refusedClient.status).toBe(401);
      await waitFor(() => run.output.includes('"clientRequestId":"c-1"'), 10_000, 'the request log line');
      expect(await readFile(join(dir, 'pd-router.log'), 'utf8')).toContain('pd-router listening on');
    } catch (error) {
      throw new Error(`${String(error)}\n--- router output ---\n${run.output}`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 180_000);

  it('refuses every other flag, all at once, each with its reason', async () => {
    const args = ['--prefill', prefill.workerSpec, '--decode', decode.workerSpec];
    for (const entry of refused) args.push(...tokens(entry, entry.default ?? '1'));
    // Values vllm-router takes that pd-router refuses, each with its reason too.
    args.push('--backend', 'openai', '--policy', 'sticky_round_robin', '--kv-connector', 'moriio');
    const run = start(args);
    expect(await run.exited).toBe(2);
    for (const entry of refused) {
      const status = vllmRouterFlagStatus(entry.flag);
      const reason = status.status === 'accepted' ? '' : status.reason;
      const message = `pd-router: ${entry.flag}: a vllm-router flag that pd-router does not support: ${reason}\n`;
      expect(run.output, entry.flag).toContain(message);
    }
    expect(run.output).toContain('pd-router: --backend: openai: meaningless in PD mode');
    expect(run.output).toContain(
      "pd-router: --policy: sticky_round_robin: a policy of vllm-router's Python launcher only",
    );
    expect(run.output).toContain('pd-router: --kv-connector: moriio: pd-router has no MoRI-IO connector');
    expect(run.output).not.toContain('unknown flag');
  }, 120_000);
});
