import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterAddresses } from '../src/cluster/mock-cluster.js';
import { sampleProcessTree } from '../src/proc/proc-sampler.js';
import { commandTemplate } from '../src/targets/command-template.js';
import { startProcessTarget, templateValues } from '../src/targets/process-target.js';

const dir = mkdtempSync(join(tmpdir(), 'pd-bench-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Nothing listens here: the commands below never call the cluster.
const cluster: ClusterAddresses = {
  prefill: { url: 'http://127.0.0.1:20001', kvAddress: '127.0.0.1:21001' },
  decode: { url: 'http://127.0.0.1:20002', kvAddress: '127.0.0.1:22001' },
};

const SERVER = `require('node:http').createServer((q, s) => s.end(process.argv[2])).listen(Number(process.argv[1]), '127.0.0.1')`;

describe('startProcessTarget', () => {
  it('fills the placeholders, waits for the port, and stops the process', async () => {
    const template = commandTemplate(
      'echo',
      `${JSON.stringify(process.execPath)} -e ${JSON.stringify(SERVER)} {port} {prefill}`,
    );
    const target = await startProcessTarget({ template, cluster, logPath: join(dir, 'echo.log') });
    try {
      const res = await request(target.origin);
      expect(await res.body.text()).toBe('http://127.0.0.1:20001:zmq://127.0.0.1:21001');
      expect(sampleProcessTree(target.pid)?.pids[0]).toBe(target.pid);
    } finally {
      await target.stop();
    }
    expect(sampleProcessTree(target.pid)).toBeUndefined();
  });

  it('reports a command that exits during start, with its log', async () => {
    const template = commandTemplate(
      'dies',
      `${JSON.stringify(process.execPath)} -e "console.error('no such flag --frobnicate'); process.exit(3)" {port}`,
    );
    await expect(
      startProcessTarget({ template, cluster, logPath: join(dir, 'dies.log') }),
    ).rejects.toMatchObject({
      code: 'PD_ERR_BENCH_TARGET_START',
      message: expect.stringMatching(/exited during start \(code 3[\s\S]*no such flag --frobnicate/),
    });
  });

  it('reports a program that does not exist', async () => {
    const template = commandTemplate('missing', '/nonexistent/proxy --port {port}');
    await expect(startProcessTarget({ template, cluster })).rejects.toMatchObject({
      code: 'PD_ERR_BENCH_TARGET_START',
    });
  });

  it('starts again on another port when the chosen one was taken in the meantime', async () => {
    // The first start "finds" its port taken (as when another process bound it first), the next one listens.
    const marker = join(dir, 'taken-once');
    const script = `const fs = require('node:fs'); if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); console.error('Error: listen EADDRINUSE: address already in use'); process.exit(1); } ${SERVER}`;
    const template = commandTemplate(
      'taken-once',
      `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)} {port} ok`,
    );
    const target = await startProcessTarget({ template, cluster, logPath: join(dir, 'taken-once.log') });
    try {
      expect(await (await request(target.origin)).body.text()).toBe('ok');
    } finally {
      await target.stop();
    }
  });

  it('gives up on a command that never listens', async () => {
    const template = commandTemplate(
      'silent',
      `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)" {port}`,
    );
    await expect(startProcessTarget({ template, cluster, startTimeoutMs: 500 })).rejects.toMatchObject({
      code: 'PD_ERR_BENCH_TARGET_START',
      message: expect.stringContaining('did not listen'),
    });
  });
});

describe('templateValues', () => {
  it('offers every placeholder form', () => {
    expect(templateValues(cluster, 9000)).toEqual({
      host: '127.0.0.1',
      port: '9000',
      prefill: 'http://127.0.0.1:20001:zmq://127.0.0.1:21001',
      prefill_url: 'http://127.0.0.1:20001',
      prefill_host: '127.0.0.1',
      prefill_port: '20001',
      prefill_kv: '127.0.0.1:21001',
      prefill_kv_port: '21001',
      decode: 'http://127.0.0.1:20002:zmq://127.0.0.1:22001',
      decode_url: 'http://127.0.0.1:20002',
      decode_host: '127.0.0.1',
      decode_port: '20002',
      decode_kv: '127.0.0.1:22001',
      decode_kv_port: '22001',
    });
  });
});
