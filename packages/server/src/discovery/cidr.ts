import { err, ok, type Result } from '@pd-router/core';

/** An IPv4 network: `base` and `mask` as unsigned 32-bit integers. */
export interface Cidr {
  readonly base: number;
  readonly mask: number;
  /** Canonical text, `10.0.0.0/8`. */
  readonly text: string;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * A dotted-quad IPv4 address as an unsigned 32-bit integer; undefined for anything else (host
 * names, IPv6, leading zeros, octets above 255).
 *
 * @example
 * ipv4ToInt('10.0.0.1'); // 167772161
 */
export function ipv4ToInt(text: string): number | undefined {
  const match = DOTTED_QUAD.exec(text);
  if (match === null) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = match[i] as string;
    // "010" is octal to some resolvers and decimal to others: refuse it rather than guess.
    if (octet.length > 1 && octet.startsWith('0')) return undefined;
    const n = Number(octet);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/**
 * Parses `A.B.C.D/N` (or a bare address, meaning /32). Host bits must be zero, so `10.0.0.1/8`
 * (probably a typo) is refused instead of silently widened.
 *
 * @example
 * parseCidr('10.0.0.0/8'); // { ok: true, value: { base: 167772160, mask: 4278190080, text: '10.0.0.0/8' } }
 */
export function parseCidr(text: string): Result<Cidr, string> {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bitsText = slash === -1 ? '32' : text.slice(slash + 1);
  const address = ipv4ToInt(addressText);
  if (address === undefined) return err(`"${text}" is not an IPv4 CIDR (A.B.C.D/N)`);
  if (!/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) {
    return err(`"${text}": the prefix length must be 0-32`);
  }
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
  if ((address & ~mask) >>> 0 !== 0) {
    return err(`"${text}" has host bits set (did you mean ${intToIpv4((address & mask) >>> 0)}/${bits}?)`);
  }
  return ok({ base: address, mask, text: `${addressText}/${bits}` });
}

/** True when the dotted-quad `host` lies in one of `cidrs` (host names never do). */
export function inCidrs(host: string, cidrs: readonly Cidr[]): boolean {
  const address = ipv4ToInt(host);
  if (address === undefined) return false;
  return cidrs.some((cidr) => (address & cidr.mask) >>> 0 === cidr.base);
}

function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
