import type { Scenario } from '../report/scenario.js';

/** Statuses the completion routes may answer a client's request with (docs/errors.md); never 5xx. */
export const DOCUMENTED_REQUEST_STATUSES = [200, 400, 413, 415] as const;

/** fast-check runs: FUZZ_RUNS overrides both (e.g. `FUZZ_RUNS=20000` by hand); CI keeps them small. */
export function fuzzRuns(
  kind: 'canonicalizer' | 'server',
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const raw = Number(env['FUZZ_RUNS']);
  if (Number.isInteger(raw) && raw > 0) return raw;
  return kind === 'canonicalizer' ? 2_000 : 500;
}

export const FUZZ_SCENARIOS: readonly Scenario[] = [
  {
    id: 'fuzz/canonicalizer-total',
    group: 'fuzz',
    title: '`canonicalize()` on random bytes, random JSON and byte-mutated JSON',
    expect: 'never throws; `ok` with an ASCII string, or an error with a core `PD_ERR_*` code',
  },
  {
    id: 'fuzz/canonicalizer-idempotent',
    group: 'fuzz',
    title: '`canonicalize(canonicalize(x))` for every accepted input above',
    expect: 'equal to `canonicalize(x)`',
  },
  {
    id: 'fuzz/request-parsing',
    group: 'fuzz',
    title:
      'random bodies (bytes, JSON, completion-shaped objects) and random headers and content types, POSTed through the router',
    expect: `status in {${DOCUMENTED_REQUEST_STATUSES.join(', ')}}, never 5xx; nothing logged at error; the router keeps serving`,
  },
];
