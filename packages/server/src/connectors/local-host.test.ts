import { parseWorkerUrl } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { hostOf, isLocalHost } from './local-host.js';

describe('isLocalHost', () => {
  it('recognises loopback and unspecified hosts in their usual spellings', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      'vllm.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0.0.0.0',
      '::',
    ]) {
      expect(isLocalHost(host), host).toBe(true);
    }
  });

  it('does not treat other hosts as local', () => {
    for (const host of [
      '10.0.0.5',
      'prefill-0.vllm.svc',
      'localhost.example.com',
      '128.0.0.1',
      '::2',
      'fe80::1',
      '',
    ]) {
      expect(isLocalHost(host), host).toBe(false);
    }
  });
});

describe('hostOf', () => {
  it('is the host of the worker address without port or brackets', () => {
    const host = (spec: string) => {
      const parsed = parseWorkerUrl(spec, { zmqUnused: true });
      if (!parsed.ok) throw parsed.error;
      return hostOf(parsed.value);
    };
    expect(host('http://10.0.0.5:8000')).toBe('10.0.0.5');
    expect(host('https://prefill-0.vllm.svc')).toBe('prefill-0.vllm.svc');
    expect(host('http://[fd00::5]:8000')).toBe('fd00::5');
  });
});
