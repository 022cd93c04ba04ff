import { expect } from 'vitest';
import { IDLE_SOCKETS_GONE_MS } from '../src/harness/fault-timing.js';
import type { SocketCensus } from '../src/harness/socket-census.js';
import { waitForSocketsGone } from '../src/harness/socket-census.js';
import type { ResultRecorder } from '../src/report/recorder.js';

/**
 * The closing check of a fault run: once the upstream keep-alive has passed, no stack has a socket
 * open and this process holds no more socket handles than before its first request; recorded as `id`.
 */
export async function expectSocketsBack(
  id: string,
  stacks: readonly { census(): SocketCensus }[],
  handleBaseline: number,
  recorder: ResultRecorder,
): Promise<void> {
  const censuses = stacks.map((s) => () => s.census());
  const left = await waitForSocketsGone(censuses, handleBaseline, IDLE_SOCKETS_GONE_MS);
  expect(left.open).toBe(0);
  expect(left.handles).toBeLessThanOrEqual(handleBaseline);
  recorder.record({ id, observed: '0 sockets open', timeMs: Math.round(left.elapsedMs) });
}
