import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';

/** Open TCP connections touching the router's and the mocks' ports, as the kernel lists them. */
export interface SocketCensus {
  /** Server-side sockets of the router (clients connected to it). */
  readonly routerInbound: number;
  /** The router's upstream sockets (client side) per mock HTTP port. */
  readonly upstream: ReadonlyMap<number, number>;
  /** The mocks' server-side sockets per mock HTTP port. */
  readonly mockSide: ReadonlyMap<number, number>;
}

/**
 * TCP states that hold a socket open: everything but LISTEN (0A), TIME_WAIT (06) and CLOSE (07).
 * A half-open leak shows as CLOSE_WAIT (08) on the side that never closed.
 */
const OPEN_STATES = new Set(['01', '02', '03', '04', '05', '08', '09', '0B']);

interface TcpEntry {
  readonly localPort: number;
  readonly remotePort: number;
}

function openTcpEntries(): TcpEntry[] {
  const text = readFileSync('/proc/net/tcp', 'latin1');
  const out: TcpEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    const state = fields[3];
    if (local === undefined || remote === undefined || state === undefined || !OPEN_STATES.has(state))
      continue;
    out.push({
      localPort: Number.parseInt(local.split(':')[1] ?? '', 16),
      remotePort: Number.parseInt(remote.split(':')[1] ?? '', 16),
    });
  }
  return out;
}

/**
 * Counts open connections from the kernel's table (/proc/net/tcp), not from Node's handles:
 * undici unrefs idle keep-alive sockets, which then vanish from `process._getActiveHandles()`.
 * Router and mocks listen on ports this process owns, so no other process's socket is counted.
 *
 * @example
 * const c = socketCensus(routerPort, [prefill.port, decode.port]);
 * c.routerInbound // 0 once every client has gone
 */
export function socketCensus(routerPort: number, mockPorts: readonly number[]): SocketCensus {
  let routerInbound = 0;
  const upstream = new Map<number, number>(mockPorts.map((p) => [p, 0]));
  const mockSide = new Map<number, number>(mockPorts.map((p) => [p, 0]));
  for (const e of openTcpEntries()) {
    if (e.localPort === routerPort) routerInbound += 1;
    const up = upstream.get(e.remotePort);
    if (up !== undefined) upstream.set(e.remotePort, up + 1);
    const side = mockSide.get(e.localPort);
    if (side !== undefined) mockSide.set(e.localPort, side + 1);
  }
  return { routerInbound, upstream, mockSide };
}

/** Sum of a census map's counts. */
export function total(counts: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}

/** Every mock-side socket has its router-side peer still open (no half-open leak on either side). */
export function pairsMatch(census: SocketCensus): boolean {
  for (const [port, n] of census.upstream) if ((census.mockSide.get(port) ?? 0) !== n) return false;
  return true;
}

interface ProcessWithHandles {
  _getActiveHandles(): unknown[];
}

/** The process's active (ref'd, open) socket handles: `process._getActiveHandles()` narrowed to sockets. */
export function activeSocketHandles(): number {
  const handles = (process as unknown as ProcessWithHandles)._getActiveHandles();
  return handles.filter((h) => h instanceof Socket && !h.destroyed).length;
}

/** What is still open once {@link waitForSocketsGone} returns. */
export interface SocketsLeft {
  /** Router-inbound, upstream and mock-side sockets of every census, added up. */
  readonly open: number;
  /** activeSocketHandles() at the end. */
  readonly handles: number;
  readonly elapsedMs: number;
}

/**
 * Polls until none of the censuses counts an open socket and this process holds no more socket
 * handles than `handleBaseline`, or `budgetMs` has passed; says what was left either way.
 */
export async function waitForSocketsGone(
  censuses: readonly (() => SocketCensus)[],
  handleBaseline: number,
  budgetMs: number,
): Promise<SocketsLeft> {
  const t0 = performance.now();
  const open = (): number =>
    censuses.reduce((n, census) => {
      const c = census();
      return n + c.routerInbound + total(c.upstream) + total(c.mockSide);
    }, 0);
  const back = (): boolean => open() === 0 && activeSocketHandles() <= handleBaseline;
  while (!back() && performance.now() - t0 < budgetMs) await new Promise((r) => setTimeout(r, 100));
  return { open: open(), handles: activeSocketHandles(), elapsedMs: performance.now() - t0 };
}
