import { describe, expect, it } from 'vitest';
import { commandTemplate, expandTemplate, parseCompare, splitCommand } from './command-template.js';

describe('splitCommand', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    [`node cli.js --name 'a b'`, ['node', 'cli.js', '--name', 'a b']],
    [`x "a \\"q\\" \\\\ b" c`, ['x', 'a "q" \\ b', 'c']],
    [`x a\\ b ''`, ['x', 'a b', '']],
    [`say "it's"`, ['say', "it's"]],
    [`  lead   trail  `, ['lead', 'trail']],
  ])('%s', (input, expected) => {
    expect(splitCommand(input)).toEqual(expected);
  });

  it('rejects an unterminated quote', () => {
    expect(() => splitCommand(`a 'b`)).toThrow(expect.objectContaining({ code: 'PD_ERR_BENCH_USAGE' }));
  });
});

describe('parseCompare and expandTemplate', () => {
  it('parses NAME=COMMAND with leading environment words and expands placeholders', () => {
    const t = parseCompare(
      'vllm-proxy=OPENAI_API_KEY=k PORT={port} python3 proxy.py --prefill {prefill_url} --kv {decode_kv} --port {port}',
    );
    expect(t.name).toBe('vllm-proxy');
    expect(t.env).toEqual({ OPENAI_API_KEY: 'k', PORT: '{port}' });
    const { argv, env } = expandTemplate(t, {
      port: '9000',
      prefill_url: 'http://127.0.0.1:1',
      decode_kv: '127.0.0.1:3',
    });
    expect(argv).toEqual([
      'python3',
      'proxy.py',
      '--prefill',
      'http://127.0.0.1:1',
      '--kv',
      '127.0.0.1:3',
      '--port',
      '9000',
    ]);
    expect(env).toEqual({ OPENAI_API_KEY: 'k', PORT: '9000' });
  });

  it.each([
    ['no equals sign', 'python3 x.py --port {port}'],
    ['empty name', '=python3 x.py --port {port}'],
    ['bad name', 'a b=python3 x.py --port {port}'],
    ['empty command', 'x='],
    ['unknown placeholder', 'x=python3 x.py --port {port} --p {prefil}'],
    ['no port placeholder', 'x=python3 x.py'],
  ])('rejects %s', (_label, spec) => {
    expect(() => parseCompare(spec)).toThrow(expect.objectContaining({ code: 'PD_ERR_BENCH_USAGE' }));
  });

  it('commandTemplate takes a name and a command separately', () => {
    expect(commandTemplate('r', 'node cli.js --port {port}').argv).toEqual([
      'node',
      'cli.js',
      '--port',
      '{port}',
    ]);
  });
});
