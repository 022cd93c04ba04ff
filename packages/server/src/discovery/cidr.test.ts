import { describe, expect, it } from 'vitest';
import { inCidrs, ipv4ToInt, parseCidr } from './cidr.js';

function cidr(text: string) {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe('IPv4 CIDRs', () => {
  it('reads dotted quads and refuses anything ambiguous', () => {
    expect(ipv4ToInt('10.0.0.1')).toBe(167_772_161);
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffff_ffff);
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', 'localhost', '::1', '1.2.3.4 ', '']) {
      expect(ipv4ToInt(bad), bad).toBeUndefined();
    }
  });

  it('parses networks, a bare address as /32, and refuses host bits', () => {
    expect(cidr('10.0.0.0/8')).toEqual({ base: 167_772_160, mask: 0xff00_0000, text: '10.0.0.0/8' });
    expect(cidr('192.168.1.7').text).toBe('192.168.1.7/32');
    expect(cidr('0.0.0.0/0').mask).toBe(0);
    expect(parseCidr('10.0.0.1/8')).toEqual({
      ok: false,
      error: '"10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
    });
    expect(parseCidr('10.0.0.0/33').ok).toBe(false);
    expect(parseCidr('10.0.0.0/').ok).toBe(false);
    expect(parseCidr('fe80::/10').ok).toBe(false);
  });

  it('matches hosts against a list', () => {
    const list = [cidr('10.0.0.0/8'), cidr('192.168.1.7')];
    expect(inCidrs('10.200.3.4', list)).toBe(true);
    expect(inCidrs('192.168.1.7', list)).toBe(true);
    expect(inCidrs('192.168.1.8', list)).toBe(false);
    expect(inCidrs('11.0.0.1', list)).toBe(false);
    expect(inCidrs('worker-1.local', list)).toBe(false);
    expect(inCidrs('1.2.3.4', [cidr('0.0.0.0/0')])).toBe(true);
  });
});
