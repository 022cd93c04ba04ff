import { describe, expect, it } from 'vitest';
import {
  getHeaders,
  NIXL_TOY_PROXY_HEADER_ORDER,
  postHeaderTemplate,
  REFERENCE_PROXY_HEADER_ORDER,
  upstreamAuthorization,
  withRequest,
} from './headers.js';

describe('upstreamAuthorization', () => {
  it.each([
    ['sk-flag', { OPENAI_API_KEY: 'sk-env' }, 'Bearer sk-flag'],
    [undefined, { OPENAI_API_KEY: 'sk-env' }, 'Bearer sk-env'],
    [undefined, { OPENAI_API_KEY: '' }, 'Bearer '],
    [undefined, {}, 'Bearer None'],
    ['', {}, 'Bearer '],
  ])('key %j, env %j: %j', (key, env, expected) => {
    expect(upstreamAuthorization(key, env)).toBe(expected);
  });
});

describe('header lists', () => {
  it("is the reference's set, in its order, with this request's id and length filled in on a copy", () => {
    const template = postHeaderTemplate(
      REFERENCE_PROXY_HEADER_ORDER,
      '127.0.0.1:20001',
      'Bearer None',
      'pd-router/1.2.3',
    );
    const headers = withRequest(template, 'the-id', 164);
    expect(headers).toEqual([
      'Host',
      '127.0.0.1:20001',
      'Authorization',
      'Bearer None',
      'X-Request-Id',
      'the-id',
      'Accept',
      '*/*',
      'Accept-Encoding',
      'gzip, deflate',
      'User-Agent',
      'pd-router/1.2.3',
      'Content-Length',
      '164',
      'Content-Type',
      'application/json',
    ]);
    expect(template.list[5]).toBe('');
  });

  it("NIXL: the toy proxy's set in its order (httpx), id and length in their places", () => {
    const template = postHeaderTemplate(
      NIXL_TOY_PROXY_HEADER_ORDER,
      '127.0.0.1:20001',
      'Bearer k',
      'pd-router/1.2.3',
    );
    expect(withRequest(template, 'uuid', 7)).toEqual([
      'Host',
      '127.0.0.1:20001',
      'Accept',
      '*/*',
      'Accept-Encoding',
      'gzip, deflate',
      'User-Agent',
      'pd-router/1.2.3',
      'Authorization',
      'Bearer k',
      'X-Request-Id',
      'uuid',
      'Content-Length',
      '7',
      'Content-Type',
      'application/json',
    ]);
    expect(template.list).not.toContain('uuid');
  });

  it('GET headers carry no request id and no body fields', () => {
    expect(getHeaders('h:1', 'Bearer x', 'ua')).toEqual([
      'Host',
      'h:1',
      'Authorization',
      'Bearer x',
      'Accept',
      '*/*',
      'Accept-Encoding',
      'gzip, deflate',
      'User-Agent',
      'ua',
    ]);
  });
});
