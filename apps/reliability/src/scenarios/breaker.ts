import type { Scenario } from '../report/scenario.js';

/** The breaker scenario's shape (issue #14: 13 connect failures opened the only decode's circuit). */
export const BREAKER_PANIC = {
  /** Streams the decode serves while its port refuses new connections. */
  streams: 20,
  streamTokens: 30,
  interTokenMs: 100,
  /** Requests sent while new connections are refused: each fails to connect. */
  burst: 12,
  circuitFailureThreshold: 5,
  /** Far longer than the scenario: only panic mode can keep the decode in use. */
  circuitOpenMs: 120_000,
  /** Requests sent once the port accepts again, with the circuit still open. */
  after: 20,
} as const;

export const BREAKER_PANIC_ID = 'faults/breaker/only-decode-connect-burst';

export const BREAKER_SCENARIOS: readonly Scenario[] = [
  {
    id: BREAKER_PANIC_ID,
    group: 'faults',
    title: `circuit breaker on (\`--circuit-failure-threshold ${BREAKER_PANIC.circuitFailureThreshold}\`, \`--circuit-open-ms ${BREAKER_PANIC.circuitOpenMs}\`); the only decode serves ${BREAKER_PANIC.streams} streams while its port refuses new connections for a burst of ${BREAKER_PANIC.burst} requests, then accepts again`,
    expect: `the burst's requests fail to connect (502) and open the circuit; the pool enters panic mode (warn log, \`pd_router_pool_panic{role="decode"} 1\`) instead of emptying; the ${BREAKER_PANIC.streams} streams end with \`[DONE]\`; all ${BREAKER_PANIC.after} requests after the burst answer 200 while the circuit is still open`,
  },
];
