import { bootstrapAddrOf, compareRequest } from './compare-request.js';
import { FixturesError } from './fixtures-error.js';
import { bytesToLatin1 } from './http-message.js';
import { loadGoldenCases } from './load-golden.js';
import { UUID_PLACEHOLDER } from './request-id-rule.js';
import {
  BOOTSTRAP_PLACEHOLDER,
  type CheckContext,
  type GoldenCase,
  type GoldenExchange,
  type RawRequest,
  type Role,
  type Verdict,
} from './types.js';

export interface ConformanceChecker {
  /** Finds the golden request the received one stands for and compares them. Never throws. */
  check(role: Role, req: RawRequest, context?: CheckContext): Verdict;
  readonly cases: readonly GoldenCase[];
}

// An id shorter than this is not replaced inside a body: it could match ordinary body text.
const MIN_ID_LENGTH_TO_NORMALIZE = 8;

interface Indexed {
  readonly golden: GoldenExchange;
  readonly bodyKey: string;
  readonly caseInfo: GoldenCase;
}

function requestIdOf(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'x-request-id') return rawHeaders[i + 1]?.trim();
  }
  return undefined;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function matchesContext(entry: Indexed, context: CheckContext): boolean {
  return (
    (context.case === undefined || entry.golden.case === context.case) &&
    (context.index === undefined || entry.golden.index === context.index) &&
    (context.apiKey === undefined || entry.caseInfo.apiKey === context.apiKey)
  );
}

function compareOptions(context: CheckContext) {
  return {
    ...(context.workerHostHeader === undefined ? {} : { workerHostHeader: context.workerHostHeader }),
    ...(context.expectedZmq === undefined ? {} : { expectedZmq: context.expectedZmq }),
    ...(context.bootstrapAddr === undefined ? {} : { bootstrapAddr: context.bootstrapAddr }),
  };
}

/** Among golden requests with the received body, the first that passes, else the one failing fewest checks. */
function best(candidates: readonly Indexed[], req: RawRequest, context: CheckContext): Verdict | undefined {
  let bestVerdict: Verdict | undefined;
  let bestFailures = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const v = compareRequest(c.golden, req, compareOptions(context));
    if (v.ok) return v;
    const failures = v.checks.filter((x) => !x.ok).length;
    if (failures < bestFailures) {
      bestVerdict = v;
      bestFailures = failures;
    }
  }
  return bestVerdict;
}

/**
 * Loads the golden cases once and indexes every upstream request by its exact body bytes, per role.
 * A received request is matched by body (NIXL bodies carry the request id, so the received id is
 * turned back into `{uuid}` first); when several golden requests share a body (same client request in
 * several cases or rounds) the one whose headers also match wins. Without any body match, the closest
 * golden request (same request line, longest common body prefix) is compared, so the verdict fails with
 * a diff against what was most likely meant.
 * Throws `PD_ERR_MOCK_FIXTURES_INVALID` when the fixtures cannot be loaded.
 *
 * @example
 * const checker = createConformanceChecker('fixtures/reference-proxy');
 * const verdict = checker.check('prefill', { method, path: req.url, rawHeaders: req.rawHeaders, body },
 *   { workerHostHeader: `127.0.0.1:${port}` });
 */
export function createConformanceChecker(fixturesDir: string): ConformanceChecker {
  const cases = loadGoldenCases(fixturesDir).filter((c) => c.target);
  if (cases.length === 0) throw new FixturesError(`${fixturesDir} holds no conformance target`);
  const byRole: Record<Role, Indexed[]> = { prefill: [], decode: [] };
  const byBody: Record<Role, Map<string, Indexed[]>> = { prefill: new Map(), decode: new Map() };
  for (const caseInfo of cases) {
    for (const round of caseInfo.rounds) {
      for (const golden of [round.prefill, round.decode]) {
        const entry: Indexed = { golden, bodyKey: bytesToLatin1(golden.body), caseInfo };
        byRole[golden.role].push(entry);
        const list = byBody[golden.role].get(entry.bodyKey);
        if (list === undefined) byBody[golden.role].set(entry.bodyKey, [entry]);
        else list.push(entry);
      }
    }
  }
  const frozen: readonly GoldenCase[] = Object.freeze(cases);

  function check(role: Role, req: RawRequest, context: CheckContext = {}): Verdict {
    const body = bytesToLatin1(req.body);
    const id = requestIdOf(req.rawHeaders);
    const keys = [body];
    if (id !== undefined && id.length >= MIN_ID_LENGTH_TO_NORMALIZE && body.includes(id)) {
      keys.push(body.split(id).join(UUID_PLACEHOLDER));
    }
    // Mooncake decode bodies name the run's bootstrap server, not the capture's: match by the rest.
    const bootstrap = bootstrapAddrOf(req.body, compareOptions(context));
    if (role === 'decode' && bootstrap !== BOOTSTRAP_PLACEHOLDER) {
      const field = (addr: string) => `"remote_bootstrap_addr": ${JSON.stringify(addr)}`;
      const last = keys[keys.length - 1] ?? body;
      if (last.includes(field(bootstrap)))
        keys.push(last.split(field(bootstrap)).join(field(BOOTSTRAP_PLACEHOLDER)));
    }
    for (const key of keys) {
      const candidates = (byBody[role].get(key) ?? []).filter((e) => matchesContext(e, context));
      const verdict = best(candidates, req, context);
      if (verdict !== undefined) return verdict;
    }
    const pool = byRole[role].filter((e) => matchesContext(e, context));
    const normalized = keys[keys.length - 1] ?? body;
    let closest: Indexed | undefined;
    let closestScore: readonly [number, number, number] = [-1, -1, Number.NEGATIVE_INFINITY];
    for (const e of pool) {
      const score = [
        e.golden.method === req.method && e.golden.target === req.path ? 1 : 0,
        commonPrefix(e.bodyKey, normalized),
        -Math.abs(e.bodyKey.length - normalized.length),
      ] as const;
      if (
        score[0] > closestScore[0] ||
        (score[0] === closestScore[0] &&
          (score[1] > closestScore[1] || (score[1] === closestScore[1] && score[2] > closestScore[2])))
      ) {
        closest = e;
        closestScore = score;
      }
    }
    if (closest === undefined) {
      const detail = `the fixtures hold no ${role} request${pool.length === byRole[role].length ? '' : ' matching the given context'}`;
      return {
        case: undefined,
        role,
        ok: false,
        checks: [{ name: 'golden-match', ok: false, detail }],
        diff: detail,
      };
    }
    const verdict = compareRequest(closest.golden, req, compareOptions(context));
    // The body can still match once a malformed id is set aside (NIXL bodies carry the id).
    if (verdict.checks.some((c) => c.name === 'body' && c.ok)) return verdict;
    const note = `no golden ${role} body equals the received one; closest is ${closest.golden.case}`;
    const checks = [{ name: 'golden-match', ok: false, detail: note }, ...verdict.checks];
    return { ...verdict, ok: false, checks, diff: `${note}\n${verdict.diff ?? ''}`.trimEnd() };
  }

  return { check, cases: frozen };
}
