import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type HeaderInput, type HeaderOutput, stripHopByHop } from './hop-headers.js';

const END_TO_END = {
  'content-type': 'application/json',
  authorization: 'Bearer sk',
  'x-request-id': 'abc',
  'content-length': '12',
};

describe('stripHopByHop', () => {
  it.each<[string, HeaderInput, HeaderOutput]>([
    ['keeps end-to-end headers', END_TO_END, END_TO_END],
    [
      'removes the fixed hop-by-hop list',
      {
        ...END_TO_END,
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        te: 'trailers',
        trailer: 'x-checksum',
        'proxy-connection': 'keep-alive',
        'proxy-authenticate': 'Basic',
        'proxy-authorization': 'Basic eA==',
        host: 'router:8000',
      },
      END_TO_END,
    ],
    [
      'removes headers named in Connection, any case and spacing',
      {
        ...END_TO_END,
        connection: ' X-Trace ,close,, x-other ',
        'x-trace': '1',
        'x-other': '2',
        'x-kept': '3',
      },
      { ...END_TO_END, 'x-kept': '3' },
    ],
    [
      'reads every Connection value when it is an array',
      { connection: ['x-a', 'x-b, x-c'], 'x-a': '1', 'x-b': '2', 'x-c': '3', 'x-d': '4' },
      { 'x-d': '4' },
    ],
    [
      'matches names case-insensitively and keeps the original case',
      {
        Connection: 'X-Foo',
        'X-FOO': '1',
        'Transfer-Encoding': 'chunked',
        Host: 'h',
        'Content-Type': 'text/plain',
      },
      { 'Content-Type': 'text/plain' },
    ],
    [
      'Connection may name end-to-end headers too',
      { connection: 'content-type', 'content-type': 'application/json', accept: '*/*' },
      { accept: '*/*' },
    ],
    ['drops undefined values', { a: undefined, b: 'x', connection: undefined }, { b: 'x' }],
    ['keeps array values', { 'set-cookie': ['a=1', 'b=2'] }, { 'set-cookie': ['a=1', 'b=2'] }],
    ['empty in, empty out', {}, {}],
    ['a lone empty Connection removes only itself', { connection: '', 'x-a': '1' }, { 'x-a': '1' }],
  ])('%s', (_, input, expected) => {
    expect({ ...stripHopByHop(input) }).toEqual(expected);
  });

  it('does not modify its input', () => {
    const input: HeaderInput = { connection: 'x-a', 'x-a': '1', b: '2' };
    const copy = structuredClone(input);
    stripHopByHop(input);
    expect(input).toEqual(copy);
  });

  it('treats a header called __proto__ as data, not as the prototype', () => {
    const input = JSON.parse('{"__proto__": "x", "a": "1"}') as HeaderInput;
    const out = stripHopByHop(input);
    expect(Object.getPrototypeOf(out)).toBe(null);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('x');
  });

  it("accepts Node's IncomingHttpHeaders as is", () => {
    const incoming: IncomingHttpHeaders = { host: 'router', 'set-cookie': ['a=1'], accept: undefined };
    expect({ ...stripHopByHop(incoming) }).toEqual({ 'set-cookie': ['a=1'] });
  });
});
