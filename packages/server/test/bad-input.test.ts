import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.js';
import type { Config } from '../src/config/types.js';
import { e2eKit, SEED_COMPLETIONS_BODY, testConfig } from './helpers.js';

const kit = e2eKit();

async function app(overrides: Partial<Config> = {}) {
  const { p, d, router } = await kit.pair(overrides);
  return { server: router.app, p, d };
}

function err(code: string, type: string, message: string) {
  return { error: { message, type, param: null, code } };
}

/** POSTs `payload` as JSON (plus `headers`), injected. */
function postJson(server: FastifyInstance, payload: string, url = '/v1/completions', headers = {}) {
  return server.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });
}

/** POST /v1/completions with the seed body as JSON (plus `headers`), injected. */
function complete(server: FastifyInstance, headers: Record<string, string> = {}) {
  return postJson(server, SEED_COMPLETIONS_BODY, '/v1/completions', headers);
}

const JSON_CT = 'application/json; charset=utf-8';

describe('bad input: JSON errors, and the process keeps serving', () => {
  it('invalid JSON: 400 with core code and position, nothing sent upstream', async () => {
    const { server, p } = await app();
    const res = await postJson(server, '{"prompt": ');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe(JSON_CT);
    expect(res.json()).toMatchObject({
      error: { code: 'PD_ERR_JSON_SYNTAX', type: 'invalid_request_error', param: null },
    });
    expect(p.received).toHaveLength(0);
    const ok = await complete(server);
    expect(ok.statusCode).toBe(200);
  });

  it('empty body, BOM, trailing garbage: 400 PD_ERR_JSON_SYNTAX', async () => {
    const { server } = await app();
    for (const payload of ['', '\ufeff{}', '{} x']) {
      const res = await postJson(server, payload, '/v1/chat/completions');
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('PD_ERR_JSON_SYNTAX');
    }
  });

  it('valid JSON that is not an object: 400 PD_ERR_JSON_NOT_OBJECT', async () => {
    const { server } = await app();
    for (const payload of ['[]', '"text"', '1']) {
      const res = await postJson(server, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('PD_ERR_JSON_NOT_OBJECT');
    }
  });
});

describe('content types', () => {
  const unsupported = err(
    'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
    'invalid_request_error',
    'Content-Type must be application/json (or application/*+json)',
  );

  it('text/plain and form encoding: 415', async () => {
    const { server } = await app();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: { 'content-type': type },
        payload: '{}',
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json()).toEqual(unsupported);
    }
  });

  it('no Content-Type, with or without a body: 415', async () => {
    const { server } = await app();
    const withBody = await server.inject({
      method: 'POST',
      url: '/v1/completions',
      payload: Buffer.from('{}'),
    });
    expect(withBody.statusCode).toBe(415);
    expect(withBody.json()).toEqual(unsupported);
    const empty = await server.inject({ method: 'POST', url: '/v1/completions' });
    expect(empty.statusCode).toBe(415);
    expect(empty.json()).toEqual(unsupported);
  });

  it('application/json with parameters and application/*+json are accepted (as the reference does)', async () => {
    const { server, d } = await app();
    for (const type of [
      'application/json; charset=utf-8',
      'application/vnd.api+json',
      'Application/JSON;charset=UTF-8',
    ]) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: { 'content-type': type },
        payload: SEED_COMPLETIONS_BODY,
      });
      expect(res.statusCode, type).toBe(200);
    }
    expect(d.received).toHaveLength(3);
  });
});

describe('content encodings', () => {
  it('a compressed body (gzip, br, deflate...): 415 saying so, nothing sent upstream', async () => {
    const { server, p } = await app();
    for (const encoding of ['gzip', 'br', 'deflate', 'zstd', 'identity, gzip', 'GZIP']) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        payload: gzipSync(SEED_COMPLETIONS_BODY),
      });
      expect(res.statusCode, encoding).toBe(415);
      expect(res.json()).toEqual(
        err(
          'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
          'invalid_request_error',
          `compressed request bodies are not supported (Content-Encoding: ${encoding}); send the JSON body uncompressed`,
        ),
      );
    }
    expect(p.received).toHaveLength(0);
  });

  it('identity (or an empty header) is no encoding: accepted', async () => {
    const { server, d } = await app();
    for (const encoding of ['identity', 'Identity', '']) {
      const res = await complete(server, { 'content-encoding': encoding });
      expect(res.statusCode, encoding).toBe(200);
    }
    expect(d.received).toHaveLength(3);
  });

  it('an API key is checked first: 401 before 415', async () => {
    const { server } = await app({ apiKeys: ['k'] });
    const res = await server.inject({
      method: 'POST',
      url: '/v1/completions',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(SEED_COMPLETIONS_BODY),
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('payload size', () => {
  const tooLarge = err(
    'PD_ERR_PAYLOAD_TOO_LARGE',
    'invalid_request_error',
    'request body is larger than 1024 bytes',
  );

  it('a body over maxPayloadSize: 413', async () => {
    const { server, p } = await app({ maxPayloadSize: 1024 });
    const res = await postJson(server, JSON.stringify({ prompt: 'x'.repeat(2000) }));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual(tooLarge);
    expect(p.received).toHaveLength(0);
  });

  it('answers 413 from Content-Length before the body is sent (never buffered whole)', async () => {
    const { router } = await kit.pair({ maxPayloadSize: 1024 });
    const port = Number(new URL(router.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString();
        if (data.includes('\r\n\r\n') && data.includes('}}')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', reject);
      // Announce 50 MB, send 10 bytes, and wait: the answer must come anyway.
      socket.write(
        'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"prompt":',
      );
    });
    expect(answer.startsWith('HTTP/1.1 413 ')).toBe(true);
    expect(answer).toContain('PD_ERR_PAYLOAD_TOO_LARGE');
  });

  it('a chunked body that crosses the limit: 413', async () => {
    const { p, router } = await kit.pair({ maxPayloadSize: 1024 });
    const port = Number(new URL(router.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString();
        if (data.includes('}}')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', reject);
      const chunk = 'x'.repeat(800);
      socket.write(
        'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    });
    expect(answer.startsWith('HTTP/1.1 413 ')).toBe(true);
    expect(p.received).toHaveLength(0);
  });
});

describe('routes', () => {
  it('unknown route: 404 JSON', async () => {
    const { server } = await app();
    for (const url of ['/nope', '/v1/completions/', '/v1/embeddings']) {
      const res = await server.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toBe(JSON_CT);
      expect(res.json()).toEqual(err('PD_ERR_NOT_FOUND', 'invalid_request_error', `no route POST ${url}`));
    }
  });

  it('wrong method: 405 with Allow, JSON', async () => {
    const { server } = await app();
    const res = await server.inject({ method: 'GET', url: '/v1/completions?x=1' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json()).toEqual(
      err(
        'PD_ERR_METHOD_NOT_ALLOWED',
        'invalid_request_error',
        'method GET is not allowed on /v1/completions (allowed: POST)',
      ),
    );
    const del = await server.inject({ method: 'DELETE', url: '/health' });
    expect(del.statusCode).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD');
  });
});

describe('no healthy worker', () => {
  it('an empty prefill pool: 503 naming it, nothing sent', async () => {
    const d = await kit.worker();
    const server = await buildServer(testConfig({ prefill: [], decode: [d.spec()] }));
    kit.open.push(server);
    const res = await complete(server);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(
      err('PD_ERR_NO_PREFILL_WORKER', 'service_unavailable', 'no healthy prefill worker is available'),
    );
    expect(d.received).toHaveLength(0);
  });

  it('every decode worker unhealthy: 503 PD_ERR_NO_DECODE_WORKER', async () => {
    const { server, p, d } = await app();
    const registry = server.pd.registry;
    for (const w of registry.list()) if (w.role === 'decode') registry.setHealthy(w.id, false);
    const res = await complete(server);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual(
      err('PD_ERR_NO_DECODE_WORKER', 'service_unavailable', 'no healthy decode worker is available'),
    );
    expect(p.received).toHaveLength(0);
    expect(d.received).toHaveLength(0);
  });
});

describe('inbound API keys', () => {
  it('401 without a valid Bearer key on /v1 routes; health stays open', async () => {
    const { server } = await app({ apiKeys: ['sk-a', 'sk-b'] });
    const unauthorized = err('PD_ERR_UNAUTHORIZED', 'authentication_error', 'missing or invalid API key');
    for (const authorization of [undefined, 'Bearer sk-c', 'sk-a', 'Bearer sk-a ']) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: {
          'content-type': 'application/json',
          ...(authorization === undefined ? {} : { authorization }),
        },
        payload: SEED_COMPLETIONS_BODY,
      });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toEqual(unauthorized);
    }
    const ok = await complete(server, { authorization: 'Bearer sk-b' });
    expect(ok.statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/workers' })).statusCode).toBe(401);
    expect((await server.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
