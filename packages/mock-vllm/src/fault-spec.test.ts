import { describe, expect, it } from 'vitest';
import { FaultBook } from './fault-book.js';
import { parseFaultArg, toFaultSpec, toFaultSpecs } from './fault-spec.js';

describe('parseFaultArg (CLI --fault)', () => {
  it.each([
    ['status=503', { kind: 'status', status: 503 }],
    ['status=429,times=2', { kind: 'status', status: 429, times: 2 }],
    ['status=500,scope=all,message=down', { kind: 'status', status: 500, scope: 'all', message: 'down' }],
    ['refuse', { kind: 'refuse' }],
    ['refuse=1500', { kind: 'refuse', durationMs: 1500 }],
    ['refuse,mode=destroy,times=1', { kind: 'refuse', mode: 'destroy', times: 1 }],
    ['hang', { kind: 'hang' }],
    ['slow-headers=500', { kind: 'slow-headers', delayMs: 500 }],
    ['reset-after=3', { kind: 'reset-after', events: 3 }],
    ['malformed-sse', { kind: 'malformed-sse' }],
    ['malformed-sse=2', { kind: 'malformed-sse', at: 2 }],
    ['stall=2000,after=3', { kind: 'stall', ms: 2000, after: 3 }],
    ['kv-never-arrives', { kind: 'kv-never-arrives' }],
    ['nixl-no-params', { kind: 'nixl-no-params' }],
    ['nixl-bad-params,times=1', { kind: 'nixl-bad-params', times: 1 }],
    ['nixl-refuse-reads,times=2', { kind: 'nixl-refuse-reads', times: 2 }],
    ['body=42', { kind: 'body', body: '42' }],
    ['body=[1,2]', { kind: 'body', body: '[1,2]' }],
    ['body=', { kind: 'body', body: '' }],
    [
      'body,status=502,contentType=text/html,times=2,body=<html>proxy, error</html>',
      { kind: 'body', status: 502, contentType: 'text/html', times: 2, body: '<html>proxy, error</html>' },
    ],
    [
      'body,times=1,body={"id":"x","choices":[]}',
      { kind: 'body', times: 1, body: '{"id":"x","choices":[]}' },
    ],
    ['{"kind":"body","body":"a,b","status":201}', { kind: 'body', body: 'a,b', status: 201 }],
  ])('%s', (text, expected) => {
    expect(parseFaultArg(text)).toEqual(expected);
  });

  it.each([
    'nope',
    'status',
    'status=abc',
    'status=200',
    'hang=3',
    'stall',
    'status=503,times=0',
    'status=503,times',
    'refuse,times=2',
    'body',
    'body,status=200',
    'body,status=99,body=x',
    'body,status=600,body=x',
    'body,times=0,body=x',
    'body,times=abc,body=x',
    'body,extra=1,body=x',
    '{"kind":"body"}',
    '{"kind":"body","body":1}',
    '{not json',
  ])('rejects %s', (text) => {
    expect(() => parseFaultArg(text)).toThrow(expect.objectContaining({ code: 'PD_ERR_MOCK_FAULT_INVALID' }));
  });
});

describe('toFaultSpec(s)', () => {
  it('rejects unknown fields and accepts the admin body forms', () => {
    expect(() => toFaultSpec({ kind: 'hang', extra: 1 })).toThrow();
    expect(toFaultSpecs({ kind: 'hang' })).toEqual([{ kind: 'hang' }]);
    expect(toFaultSpecs([{ kind: 'hang' }])).toEqual([{ kind: 'hang' }]);
    expect(toFaultSpecs({ faults: [] })).toEqual([]);
    expect(() => toFaultSpec({ kind: 'body', body: 'x', contentType: 3 })).toThrow(
      expect.objectContaining({ code: 'PD_ERR_MOCK_FAULT_INVALID' }),
    );
  });
});

describe('FaultBook', () => {
  it('consumes counted faults per matching request and keeps uncounted ones', () => {
    const book = new FaultBook();
    book.set([
      { kind: 'status', status: 503, times: 1 },
      { kind: 'stall', ms: 5 },
    ]);
    expect(book.takeForRequest(false)).toEqual({});
    expect(book.takeForRequest(true)).toEqual({ status: { status: 503 }, stall: { ms: 5, after: 1 } });
    expect(book.takeForRequest(true)).toEqual({ stall: { ms: 5, after: 1 } });
    expect(book.list()).toEqual([{ kind: 'stall', ms: 5 }]);
  });

  it('applies scope-all faults to every route and counts destroy-mode refusals per connection', () => {
    const book = new FaultBook();
    book.set([
      { kind: 'hang', scope: 'all' },
      { kind: 'refuse', mode: 'destroy', times: 2 },
    ]);
    expect(book.takeForRequest(false)).toEqual({ hang: true });
    expect(book.listenerRefusal()).toBeUndefined();
    expect([book.takeConnectionReset(), book.takeConnectionReset(), book.takeConnectionReset()]).toEqual([
      true,
      true,
      false,
    ]);
    book.set([{ kind: 'refuse' }]);
    expect(book.listenerRefusal()).toEqual({ kind: 'refuse' });
  });

  it('consumes NIXL request faults per request and read refusals per read only', () => {
    const book = new FaultBook();
    book.set([
      { kind: 'nixl-no-params', times: 1 },
      { kind: 'nixl-bad-params' },
      { kind: 'nixl-refuse-reads', times: 1 },
    ]);
    expect(book.takeForRequest(true)).toEqual({ nixlNoParams: true, nixlBadParams: true });
    expect(book.takeForRequest(true)).toEqual({ nixlBadParams: true });
    expect(book.list()).toContainEqual({ kind: 'nixl-refuse-reads', times: 1 });
    expect([book.takeReadRefusal(), book.takeReadRefusal()]).toEqual([true, false]);
  });

  it('resolves body faults with their defaults, one per request, in list order', () => {
    const book = new FaultBook();
    book.set([
      { kind: 'body', body: '42', times: 1 },
      { kind: 'body', body: '<html/>', status: 502, contentType: 'text/html', times: 1 },
    ]);
    expect(book.takeForRequest(false)).toEqual({});
    expect(book.takeForRequest(true)).toEqual({
      body: { status: 200, contentType: 'application/json', body: '42' },
    });
    expect(book.list()).toEqual([
      { kind: 'body', body: '<html/>', status: 502, contentType: 'text/html', times: 1 },
    ]);
    expect(book.takeForRequest(true)).toEqual({
      body: { status: 502, contentType: 'text/html', body: '<html/>' },
    });
    expect(book.takeForRequest(true)).toEqual({});
  });
});
