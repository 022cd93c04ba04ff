import { describe, expect, it } from 'vitest';
import { parseCidr } from './cidr.js';
import { readZapRequest, senderAllowed, zapReply } from './zap-allow.js';

const allow = ['10.0.0.0/8', '127.0.0.2/32'].map((text) => {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
});

const b = (text: string) => Buffer.from(text, 'latin1');
/** What libzmq sends the handler's ROUTER for a NULL-mechanism connection (RFC 27). */
const REQUEST = [b('\x00k\x8bEg'), b(''), b('1.0'), b('7'), b('pd-router'), b('10.1.2.3'), b(''), b('NULL')];

describe('ZAP allow-list handler (RFC 27)', () => {
  it('reads the peer address and request id of a NULL-mechanism request', () => {
    const request = readZapRequest(REQUEST);
    expect(request?.address).toBe('10.1.2.3');
    expect(Buffer.from(request?.requestId ?? []).toString()).toBe('7');
    // PLAIN adds credential frames after the mechanism: still a request.
    expect(readZapRequest([...REQUEST, b('user'), b('pass')])?.address).toBe('10.1.2.3');
  });

  it('does not read what is not a version 1.0 request', () => {
    expect(readZapRequest(REQUEST.slice(0, 7))).toBeUndefined();
    expect(readZapRequest([REQUEST[0] as Buffer, b('x'), ...REQUEST.slice(2)])).toBeUndefined();
    expect(readZapRequest([...REQUEST.slice(0, 2), b('2.0'), ...REQUEST.slice(3)])).toBeUndefined();
  });

  it('admits only senders inside the list (IPv4-mapped IPv6 as its IPv4 address)', () => {
    expect(senderAllowed('10.1.2.3', allow)).toBe(true);
    expect(senderAllowed('127.0.0.2', allow)).toBe(true);
    expect(senderAllowed('::ffff:10.1.2.3', allow)).toBe(true);
    for (const outside of ['127.0.0.1', '11.0.0.1', '::1', '::ffff:127.0.0.1', 'fe80::1', ''])
      expect(senderAllowed(outside, allow), outside).toBe(false);
  });

  it('replies with the routing envelope, version, request id, status and empty user id and metadata', () => {
    const request = readZapRequest(REQUEST);
    if (request === undefined) throw new Error('unread');
    const text = (frames: Uint8Array[]) => frames.slice(1).map((f) => Buffer.from(f).toString('latin1'));
    expect(zapReply(request, true)[0]).toBe(REQUEST[0]);
    expect(text(zapReply(request, true))).toEqual(['', '1.0', '7', '200', 'OK', '', '']);
    expect(text(zapReply(request, false))).toEqual([
      '',
      '1.0',
      '7',
      '400',
      'sender outside --discovery-allow',
      '',
      '',
    ]);
  });
});
