import type { Scenario } from '../report/scenario.js';

/** The load runs. The closed-loop duration is 10 s in CI (`LOAD_DURATION_S` overrides; the soak runs 60 s+). */
export const LOAD = {
  streams: 2_000,
  streamTokens: 60,
  /**
   * 500 ms: the streams last ~30 s, longer than it takes the router to open all 2,000 of them on a
   * loaded CI machine (up to ~20 s seen), or they could not all be open at once.
   */
  streamInterTokenMs: 500,
  concurrency: 256,
  closedLoopTokens: 16,
  closedLoopInterTokenMs: 1,
  ciDurationS: 10,
  soakDurationS: 60,
  prefill: 2,
  decode: 4,
} as const;

export const BURST_ID = 'load/2000-concurrent-streams';
export const CLOSED_LOOP_ID = 'load/concurrency-256-non-streaming';

/** The closed-loop duration of this run: LOAD_DURATION_S, else the CI default. */
export function closedLoopSeconds(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = Number(env['LOAD_DURATION_S']);
  return Number.isFinite(raw) && raw > 0 ? raw : LOAD.ciDurationS;
}

export const LOAD_SCENARIOS: readonly Scenario[] = [
  {
    id: BURST_ID,
    group: 'load',
    title: `router CLI over ${LOAD.prefill} prefill + ${LOAD.decode} decode mocks; ${LOAD.streams.toLocaleString('en-US')} streams started at once, ${LOAD.streamTokens} tokens ${LOAD.streamInterTokenMs} ms apart`,
    expect: `all ${LOAD.streams.toLocaleString('en-US')} open at once and end with \`[DONE]\`; no error; nothing logged at warn or above`,
  },
  {
    id: CLOSED_LOOP_ID,
    group: 'load',
    title: `the same cluster shape; ${LOAD.concurrency} clients in a closed loop, non-streaming, ${LOAD.closedLoopTokens} tokens (${LOAD.ciDurationS} s in CI; the soak script runs ${LOAD.soakDurationS} s or more)`,
    expect: 'no error; nothing logged at warn or above; p99 and peak RSS recorded',
  },
];
