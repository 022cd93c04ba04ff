import { compareRequest } from './compare-request.js';
import type { Check, CompareOptions, GoldenCase, GoldenRound, RawRequest, Verdict } from './types.js';

export interface ExchangeOrder {
  /** When the prefill response was complete (any clock, the same as `decodeReceivedAt`). */
  readonly prefillCompletedAt: number;
  /** When the decode request arrived. */
  readonly decodeReceivedAt: number;
}

export interface ExchangeOptions {
  /** 1-based request number of a multi-request case; without it, the first round whose requests pass
   * (and, given `routedTo`, whose pair it is). */
  readonly index?: number;
  readonly prefillHostHeader?: string;
  readonly decodeHostHeader?: string;
  readonly expectedZmq?: CompareOptions['expectedZmq'];
  /** Mooncake: the decode's expected `remote_bootstrap_addr` (the run's bootstrap server). */
  readonly bootstrapAddr?: string;
  /** Worker indices (0-based, flag order) the router picked, and the prefill's DP rank under Mooncake;
   * compared with the capture's pair. */
  readonly routedTo?: { readonly prefill: number; readonly decode: number; readonly rank?: number };
}

export interface ExchangeVerdict {
  readonly case: string;
  readonly index?: number;
  readonly ok: boolean;
  /** The prefill and decode verdicts, then nothing else: exchange-wide checks are in `checks`. */
  readonly verdicts: readonly [prefill: Verdict, decode: Verdict];
  /** `same-request-id`, `prefill-before-decode` (Mooncake: `legs-together`), and `round-robin-pair`
   * when `routedTo` was given. */
  readonly checks: readonly Check[];
  readonly diff?: string;
}

function requestId(req: RawRequest): string | undefined {
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === 'x-request-id') return req.rawHeaders[i + 1]?.trim();
  }
  return undefined;
}

function legs(round: GoldenRound, prefill: RawRequest, decode: RawRequest, opts: ExchangeOptions) {
  const zmq = opts.expectedZmq === undefined ? {} : { expectedZmq: opts.expectedZmq };
  const host = (h: string | undefined) => (h === undefined ? {} : { workerHostHeader: h });
  const boot = opts.bootstrapAddr === undefined ? {} : { bootstrapAddr: opts.bootstrapAddr };
  return [
    compareRequest(round.prefill, prefill, { ...zmq, ...host(opts.prefillHostHeader) }),
    compareRequest(round.decode, decode, { ...zmq, ...boot, ...host(opts.decodeHostHeader) }),
  ] as const;
}

/**
 * Checks one whole client request of a case: both upstream requests against the capture, the same
 * request id on both legs, the decode sent only after the prefill response was complete (Mooncake:
 * the decode sent before the prefill answered, both legs at once), and (when given) the round robin
 * pair. Pure.
 *
 * @example
 * const v = checkExchange(goldenCase, prefillReq, decodeReq, { prefillCompletedAt, decodeReceivedAt });
 */
export function checkExchange(
  goldenCase: GoldenCase,
  prefillReq: RawRequest,
  decodeReq: RawRequest,
  order: ExchangeOrder,
  opts: ExchangeOptions = {},
): ExchangeVerdict {
  const rounds =
    opts.index === undefined ? goldenCase.rounds : goldenCase.rounds.filter((r) => r.index === opts.index);
  const first = rounds[0];
  if (first === undefined) {
    const detail = `case ${goldenCase.name} has no request number ${String(opts.index)}`;
    const missing = (role: Verdict['role']): Verdict => ({
      case: goldenCase.name,
      role,
      ok: false,
      checks: [{ name: 'golden-match', ok: false, detail }],
      diff: detail,
    });
    return {
      case: goldenCase.name,
      ok: false,
      verdicts: [missing('prefill'), missing('decode')],
      checks: [],
      diff: detail,
    };
  }
  // Rounds of one case may hold identical requests (round robin replays one client body), so prefer
  // a round whose legs pass and whose pair is the one the router chose, then one whose legs pass.
  const samePair = (to: NonNullable<ExchangeOptions['routedTo']>, r: GoldenRound): boolean =>
    to.prefill === r.pair.prefill &&
    to.decode === r.pair.decode &&
    (r.pair.rank === undefined || to.rank === r.pair.rank);
  const pairOk = (r: GoldenRound): boolean => opts.routedTo === undefined || samePair(opts.routedTo, r);
  let round = first;
  let verdicts = legs(first, prefillReq, decodeReq, opts);
  let rank = (verdicts[0].ok && verdicts[1].ok ? 1 : 0) + (pairOk(first) ? 1 : 0);
  for (const r of rounds.slice(1)) {
    if (rank === 2) break;
    const v = legs(r, prefillReq, decodeReq, opts);
    const ok = v[0].ok && v[1].ok;
    const rRank = ok ? 1 + (pairOk(r) ? 1 : 0) : 0;
    if (rRank > rank && ok) {
      round = r;
      verdicts = v;
      rank = rRank;
    }
  }

  const checks: Check[] = [];
  const idP = requestId(prefillReq);
  const idD = requestId(decodeReq);
  const sameId = idP !== undefined && idP === idD;
  checks.push(
    sameId
      ? { name: 'same-request-id', ok: true }
      : {
          name: 'same-request-id',
          ok: false,
          detail: `prefill ${JSON.stringify(idP)}, decode ${JSON.stringify(idD)}`,
        },
  );
  const { decodeReceivedAt: decodeAt, prefillCompletedAt: prefillAt } = order;
  // Mooncake's proxy sends both legs at once; the others send the decode once the prefill answered.
  const sequence =
    goldenCase.kind === 'mooncake'
      ? {
          name: 'legs-together',
          ok: decodeAt <= prefillAt,
          detail: `decode arrived at ${decodeAt}, after the prefill response completed at ${prefillAt}: the legs were not sent together`,
        }
      : {
          name: 'prefill-before-decode',
          ok: prefillAt <= decodeAt,
          detail: `decode arrived at ${decodeAt}, before the prefill response completed at ${prefillAt}`,
        };
  checks.push(sequence.ok ? { name: sequence.name, ok: true } : sequence);
  if (opts.routedTo !== undefined) {
    const to = opts.routedTo;
    const ok = samePair(to, round);
    const rank = (r: number | undefined) => (r === undefined ? '' : ` rank ${r}`);
    const want = `P${round.pair.prefill + 1}${rank(round.pair.rank)}/D${round.pair.decode + 1}`;
    checks.push(
      ok
        ? { name: 'round-robin-pair', ok }
        : {
            name: 'round-robin-pair',
            ok,
            detail: `routed to P${to.prefill + 1}${rank(to.rank)}/D${to.decode + 1}, capture chose ${want}`,
          },
    );
  }

  const ok = verdicts[0].ok && verdicts[1].ok && checks.every((c) => c.ok);
  const base = {
    case: goldenCase.name,
    ...(round.index === undefined ? {} : { index: round.index }),
    ok,
    verdicts,
    checks,
  };
  if (ok) return base;
  const lines = [
    ...checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`),
    ...verdicts.flatMap((v) => (v.diff === undefined ? [] : [v.diff])),
  ];
  return { ...base, diff: lines.join('\n') };
}
