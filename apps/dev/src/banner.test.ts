import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { curlCommand, READY_HEADLINE, renderBanner, SDK_HEADER, sdkSnippet, shellQuote } from './banner.js';

describe('shellQuote', () => {
  it.each(["it's", 'plain', '', '{"a": "$HOME `x`"}'])('survives sh unchanged: %j', (text) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' })).toBe(text);
  });
});

describe('curlCommand', () => {
  it('is one shell line posting a chat completion', () => {
    expect(curlCommand('http://127.0.0.1:10001', 'mock-model', false)).toBe(
      "curl -sS -w '\\n' http://127.0.0.1:10001/v1/chat/completions -H 'Content-Type: application/json' " +
        `-d '{"model":"mock-model","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'`,
    );
  });

  it('streams with -N and "stream": true', () => {
    const line = curlCommand('http://127.0.0.1:1', 'm', true);
    expect(line.startsWith('curl -N -sS ')).toBe(true);
    expect(line).toContain('"max_tokens":16,"stream":true}');
  });
});

describe('sdkSnippet', () => {
  it('imports openai and uses the router as base URL with the served model', () => {
    const snippet = sdkSnippet('http://127.0.0.1:10001', 'mock-model').join('\n');
    expect(snippet).toContain("import OpenAI from 'openai';");
    expect(snippet).toContain("baseURL: 'http://127.0.0.1:10001/v1'");
    expect(snippet).toContain("model: 'mock-model'");
    expect(snippet).toContain('stream: true');
  });

  it('escapes a quote in the model name', () => {
    expect(sdkSnippet('http://h:1', "it's").join('\n')).toContain("model: 'it\\'s'");
  });
});

describe('renderBanner', () => {
  const text = renderBanner({
    routerUrl: 'http://127.0.0.1:10001',
    model: 'mock-model',
    policy: 'round_robin',
    preset: 'realistic',
    prefillCount: 1,
    decodeCount: 1,
    processes: [
      { name: 'pd-router', url: 'http://127.0.0.1:10001', pid: 10 },
      { name: 'prefill-1', url: 'http://127.0.0.1:20001', kvAddress: '127.0.0.1:21001', pid: 11 },
      { name: 'decode-1', url: 'http://127.0.0.1:20002', kvAddress: '127.0.0.1:21002', pid: 12 },
    ],
  });

  it('starts with the ready headline and lists every process with its ports and pid', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      `${READY_HEADLINE} (1 prefill + 1 decode mock vLLM, preset realistic, policy round_robin, model mock-model)`,
    );
    expect(lines.slice(2, 5)).toEqual([
      '  pd-router  http://127.0.0.1:10001                            pid 10',
      '  prefill-1  http://127.0.0.1:20001  kv 127.0.0.1:21001        pid 11',
      '  decode-1   http://127.0.0.1:20002  kv 127.0.0.1:21002        pid 12',
    ]);
  });

  it('has both curl commands and the SDK block, ended by a blank line', () => {
    expect(text).toContain(`  ${curlCommand('http://127.0.0.1:10001', 'mock-model', false)}\n`);
    expect(text).toContain(`  ${curlCommand('http://127.0.0.1:10001', 'mock-model', true)}\n`);
    const sdk = sdkSnippet('http://127.0.0.1:10001', 'mock-model').map((l) => `  ${l}`);
    expect(text).toContain(`${SDK_HEADER}\n${sdk.join('\n')}\n\n`);
  });
});
