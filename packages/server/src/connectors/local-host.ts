import type { WorkerAddress } from '@pd-router/core';

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV4_MAPPED_LOOPBACK = /^::ffff:(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/;
const UNSPECIFIED = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);
const IPV6_LOOPBACK = new Set(['::1', '0:0:0:0:0:0:0:1']);

/**
 * Whether a host names "this machine" wherever it is read: `localhost` and `*.localhost` names
 * (RFC 6761), 127.0.0.0/8, `::1`, IPv4-mapped loopback, and the unspecified addresses `0.0.0.0` /
 * `::` (a bind-all address announced as a host reaches the reader itself). Brackets, case and a
 * trailing dot are ignored. A name that merely resolves to loopback is not detected (no DNS here).
 *
 * @example isLocalHost('localhost') // true
 * @example isLocalHost('10.0.0.5') // false
 */
export function isLocalHost(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return IPV4_LOOPBACK.test(h) || IPV6_LOOPBACK.has(h) || UNSPECIFIED.has(h) || IPV4_MAPPED_LOOPBACK.test(h);
}

/**
 * The host part of a worker's address, without brackets (`[::1]:8000` → `::1`): the form vLLM
 * expects in `remote_host` (it adds brackets itself when it builds a ZMQ path).
 *
 * @example hostOf(parsed.value) // '10.0.0.5'
 */
export function hostOf(address: WorkerAddress): string {
  const hostPort = address.hostHeader;
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}
