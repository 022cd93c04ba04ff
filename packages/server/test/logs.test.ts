import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/types.js';
import { asLogger, CaptureLogger, e2eKit, jsonAnswer, type LogEntry, postStatus } from './helpers.js';

const kit = e2eKit();

async function setup(overrides: Partial<Config> = {}) {
  const log = new CaptureLogger();
  return { ...(await kit.pair(overrides, { deps: { logger: asLogger(log) } })), log };
}

/** The log entries written while `act` ran. */
async function loggedDuring(log: CaptureLogger, act: () => Promise<unknown>): Promise<LogEntry[]> {
  const before = log.entries.length;
  await act();
  return log.entries.slice(before);
}

describe('logs', () => {
  it('writes exactly one info line per proxied request, with id, P, D, phase timings and outcome; no bodies', async () => {
    const { p, d, router, log } = await setup();
    const before = log.entries.length;
    expect(await postStatus(router)).toBe(200);
    const entries = log.entries.slice(before);
    expect(entries).toHaveLength(1);
    const [line] = entries;
    expect(line?.level).toBe('info');
    expect(line?.msg).toBe('proxied request');
    expect(line?.fields).toMatchObject({
      requestId: p.received[0]?.headers['x-request-id'],
      route: '/v1/completions',
      prefill: p.url,
      decode: d.url,
      status: 200,
      outcome: 'ok',
    });
    for (const field of ['prefillMs', 'decodeTtfbMs', 'totalMs'])
      expect(typeof line?.fields[field]).toBe('number');
    expect(JSON.stringify(entries)).not.toContain('San Francisco');
  });

  it.each([
    {
      name: 'logs a failure at warn with its code, still one line',
      failing: 'p',
      status: 502,
      fields: { outcome: 'prefill_failed', code: 'PD_ERR_PREFILL_UPSTREAM_STATUS' },
    },
    {
      name: 'logs a relayed decode 5xx at warn as upstream_error, not as ok',
      failing: 'd',
      status: 500,
      fields: { outcome: 'upstream_error' },
    },
  ] as const)('$name', async ({ failing, status, fields }) => {
    const pair = await setup();
    const worker = pair[failing];
    worker.handler = jsonAnswer({ error: { message: 'engine died' } }, 500);
    const entries = await loggedDuring(pair.log, async () =>
      expect(await postStatus(pair.router)).toBe(status),
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]?.level).toBe('warn');
    expect(entries[0]?.msg).toBe('proxied request failed');
    const role = failing === 'p' ? 'prefill' : 'decode';
    expect(entries[0]?.fields).toMatchObject({ status, ...fields, [role]: worker.url });
  });

  it('logs a rejected request once, its reason under detail (no second "msg" key)', async () => {
    const { router, log } = await setup();
    const before = log.entries.length;
    const res = await request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    await res.body.dump();
    expect(res.statusCode).toBe(415);
    const entries = log.entries.slice(before);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.msg).toBe('request rejected');
    expect(entries[0]?.fields).not.toHaveProperty('msg');
    expect(entries[0]?.fields).toMatchObject({ status: 415, code: 'PD_ERR_UNSUPPORTED_MEDIA_TYPE' });
    expect(entries[0]?.fields['detail']).toMatch(/Unsupported Media Type/);
  });

  it('logs both upstream bodies at debug level only', async () => {
    const { router, log } = await setup({ logLevel: 'debug' });
    const before = log.entries.length;
    expect(await postStatus(router)).toBe(200);
    const debug = log.entries.slice(before).filter((e) => e.level === 'debug');
    expect(debug.map((e) => e.msg)).toEqual(['prefill request', 'decode request']);
    expect(String(debug[0]?.fields.body)).toContain('"max_tokens": 1');
    expect(String(debug[1]?.fields.body)).toContain('"max_tokens": 50');
  });
});
