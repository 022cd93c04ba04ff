import type { Scenario } from '../report/scenario.js';

/** Trials per abort scenario: the bound is asserted on their median, the max only loosely. */
export const ABORT_TRIALS = 7;
/** The bound on the time from the client's disconnect to the upstream call's end. */
export const ABORT_MEDIAN_BOUND_MS = 100;
/** On a loaded 2-core machine a single trial may be slow (GC, scheduling): its own, looser bound. */
export const ABORT_MAX_BOUND_MS = 1_000;

/** The slow-reader run: a long fast stream read at a trickle, the router alone in a process. */
export const SLOW_READER = {
  /** Tokens in the stream: about 230 bytes each on the wire, so ~90 MB if it were all buffered. */
  tokens: 400_000,
  readBytesPerTick: 16_384,
  tickMs: 100,
  durationMs: 6_000,
  /** Allowed router RSS growth while the client lags by tens of MB. */
  rssGrowthBoundBytes: 40 * 1_048_576,
} as const;

export type AbortPhase = 'prefill' | 'decode_wait' | 'stream';

export interface AbortCase {
  readonly id: string;
  readonly phase: AbortPhase;
  readonly title: string;
  /** Which upstream call must be cut. */
  readonly upstream: 'prefill' | 'decode';
}

export const ABORT_CASES: readonly AbortCase[] = [
  {
    id: 'clients/disconnect-before-prefill-answers',
    phase: 'prefill',
    upstream: 'prefill',
    title: 'client closes its socket while the prefill has not answered (prefill `hang`)',
  },
  {
    id: 'clients/disconnect-between-prefill-and-decode',
    phase: 'decode_wait',
    upstream: 'decode',
    title:
      'client closes its socket after the prefill answered, before the decode sent a byte (decode `hang`)',
  },
  {
    id: 'clients/disconnect-mid-stream',
    phase: 'stream',
    upstream: 'decode',
    title: 'client closes its socket after 3 SSE events of a long stream (20 ms per token)',
  },
];

function abortExpect(c: AbortCase): string {
  const more = c.phase === 'prefill' ? '; no decode sent' : '';
  return `${c.upstream} call aborted: median ≤ ${ABORT_MEDIAN_BOUND_MS} ms, max ≤ ${ABORT_MAX_BOUND_MS} ms over ${ABORT_TRIALS} trials${more}; logged \`client_abort\` (${c.phase})`;
}

export const SLOW_READER_ID = 'clients/slow-reader-of-fast-stream';

export const CLIENT_SCENARIOS: readonly Scenario[] = [
  ...ABORT_CASES.map((c) => ({
    id: c.id,
    group: 'clients' as const,
    title: c.title,
    expect: abortExpect(c),
  })),
  {
    id: SLOW_READER_ID,
    group: 'clients',
    title: `router CLI process; a ${SLOW_READER.tokens.toLocaleString('en-US')}-token stream with no inter-token delay, read at ${SLOW_READER.readBytesPerTick / 1_024} KiB per ${SLOW_READER.tickMs} ms for ${SLOW_READER.durationMs / 1_000} s`,
    expect: `router RSS grows < ${SLOW_READER.rssGrowthBoundBytes / 1_048_576} MiB; the decode is held back (unfinished) while the client lags`,
  },
];
