import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ConformanceChecker,
  createConformanceChecker,
  type GoldenCase,
  type GoldenRound,
  goldenPrefillAnswer,
} from '@pd-router/mock-vllm';
import { Client, request } from 'undici';
import { type CaseResult, failedCase, skippedCase } from './case-result.js';
import { startTappedCluster } from './mock-cluster.js';
import { RouterStartError, startRouter } from './router-process.js';
import { runCase } from './run-case.js';
import type { TapAnswer } from './worker-tap.js';

export interface ConformanceOptions {
  /** Fixture sets (`fixtures/reference-proxy`, `fixtures/nixl-toy-proxy`). */
  readonly fixtureDirs: readonly string[];
  /** argv of the router, before the generated flags. */
  readonly routerCommand: readonly string[];
  /** Working directory of the router process. */
  readonly routerCwd: string;
  /** Report NIXL cases as skipped (not failed) when the router refuses `--kv-connector nixl`. */
  readonly allowMissingNixl: boolean;
  /** Run only cases whose name contains one of these. */
  readonly caseFilters: readonly string[];
  /** Progress and router output lines (verbose mode); default: nothing. */
  readonly log?: (line: string) => void;
}

/** Per client request: from sending its headers to reading the last byte of the answer. */
const CLIENT_TIMEOUT_MS = 15_000;
/** Mooncake prefills take this long, so a decode sent together with its prefill arrives well before it ends. */
const MOONCAKE_PREFILL_TTFT_MS = 300;
/** How long a Mooncake router may take to learn its prefills' engine ids (it answers 503 until then). */
const MOONCAKE_READY_TIMEOUT_MS = 15_000;

interface Group {
  readonly checker: ConformanceChecker;
  readonly fixtures: string;
  readonly kind: GoldenCase['kind'];
  readonly apiKey: string | null;
  readonly prefill: number;
  readonly decode: number;
  readonly cases: { readonly golden: GoldenCase; readonly displayName: string }[];
}

/** NIXL: what the captured prefill answered, with this request's id where the capture has `{uuid}`. */
function nixlPrefillAnswer(current: () => GoldenRound | undefined): TapAnswer {
  return (exchange) => {
    const round = current();
    return round === undefined ? undefined : goldenPrefillAnswer(round, exchange.requestId ?? '');
  };
}

// Cases that share fixtures, connector, OPENAI_API_KEY and topology share one router process. With
// several workers per role a case gets its own router, so its round robin starts at the first pair.
function groupCases(options: ConformanceOptions): Group[] {
  const groups = new Map<string, Group>();
  const many = options.fixtureDirs.length > 1;
  for (const dir of options.fixtureDirs) {
    const fixtures = path.resolve(dir);
    const checker = createConformanceChecker(fixtures);
    for (const golden of checker.cases) {
      const { prefill, decode } = golden.topology;
      const displayName = many ? `${golden.fixtureSet}/${golden.name}` : golden.name;
      if (options.caseFilters.length > 0 && !options.caseFilters.some((f) => displayName.includes(f)))
        continue;
      // Mooncake: the mocks answer the capture's engine ids, and a prefill with several DP ranks
      // cycles them, so such a case starts at rank 0 on its own router.
      const engines = golden.topology.mooncake?.prefills.map((p) => p.engineIds) ?? [];
      const own = prefill > 1 || decode > 1 || engines.some((ids) => ids.length > 1) ? golden.name : '';
      const key = JSON.stringify([fixtures, golden.kind, golden.apiKey, prefill, decode, own, engines]);
      let group = groups.get(key);
      if (group === undefined) {
        group = { checker, fixtures, kind: golden.kind, apiKey: golden.apiKey, prefill, decode, cases: [] };
        groups.set(key, group);
      }
      group.cases.push({ golden, displayName });
    }
  }
  return [...groups.values()];
}

/** Mooncake: whether `GET /workers` lists every prefill with its engine ids known, within `budgetMs`. */
async function prefillsReady(url: string, budgetMs: number): Promise<boolean> {
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(`${url}/workers`);
      const { workers } = (await res.body.json()) as { workers?: { role: string; kvReady?: boolean }[] };
      if ((workers ?? []).every((w) => w.role !== 'prefill' || w.kvReady === true)) return true;
    } catch {
      // Not answering yet: try again.
    }
    await delay(50);
  }
  return false;
}

function refusesNixl(e: RouterStartError): boolean {
  return e.exitCode !== null && /nixl|kv[-_ ]connector/i.test(e.output);
}

async function runGroup(group: Group, options: ConformanceOptions): Promise<CaseResult[]> {
  const log = options.log ?? (() => {});
  let round: GoldenRound | undefined;
  const nixl = group.kind === 'nixl';
  const mooncake = group.kind === 'mooncake';
  const engineIds = group.cases[0]?.golden.topology.mooncake?.prefills.map((p) => p.engineIds);
  const cluster = await startTappedCluster({
    prefill: group.prefill,
    decode: group.decode,
    connector: group.kind,
    fixtures: group.fixtures,
    apiKey: group.apiKey,
    // A prefill that takes a moment: a router that does not wait for it shows in the prefill-before-decode
    // column; under Mooncake, one that waits for it before sending the decode shows there too.
    prefillTtftMs: mooncake ? MOONCAKE_PREFILL_TTFT_MS : 15,
    prefillAnswer: nixlPrefillAnswer(() => round),
    ...(engineIds === undefined ? {} : { engineIds }),
  });
  try {
    const flags = [
      '--vllm-pd-disaggregation',
      '--policy',
      'round_robin',
      ...(nixl ? ['--kv-connector', 'nixl'] : []),
      ...(mooncake ? ['--kv-connector', 'mooncake'] : []),
      ...cluster.workerFlags,
    ];
    let router: Awaited<ReturnType<typeof startRouter>>;
    try {
      router = await startRouter({
        command: options.routerCommand,
        flags,
        apiKey: group.apiKey,
        cwd: options.routerCwd,
      });
    } catch (e) {
      if (!(e instanceof RouterStartError)) throw e;
      if (nixl && options.allowMissingNixl && refusesNixl(e)) {
        return group.cases.map((c) => skippedCase(c.displayName, 'skipped: router has no NIXL'));
      }
      const why = `${e.message}\nrouter output:\n${e.output.trimEnd() || '(none)'}`;
      return group.cases.map((c) => failedCase(c.displayName, why));
    }
    const client = new Client(router.url, {
      headersTimeout: CLIENT_TIMEOUT_MS,
      bodyTimeout: CLIENT_TIMEOUT_MS,
    });
    try {
      if (mooncake && !(await prefillsReady(router.url, MOONCAKE_READY_TIMEOUT_MS))) {
        const why = `the router did not learn its prefills' engine ids within ${MOONCAKE_READY_TIMEOUT_MS} ms\nrouter output:\n${router.output().trimEnd() || '(none)'}`;
        return group.cases.map((c) => failedCase(c.displayName, why));
      }
      const results: CaseResult[] = [];
      for (const c of group.cases) {
        log(`running ${c.displayName}`);
        const run = {
          checker: group.checker,
          cluster,
          client,
          displayName: c.displayName,
          onRound: (r: GoldenRound) => {
            round = r;
          },
        };
        results.push(await runCase(run, c.golden));
      }
      return results;
    } finally {
      await client.close().catch(() => {});
      await router.stop();
      const out = router.output().trimEnd();
      if (out !== '') log(`router output:\n${out}`);
    }
  } finally {
    await cluster.close();
  }
}

/**
 * Runs every conformance target of the fixture sets end to end: for each group of cases a mock
 * cluster (prefill and decode mock-vllm instances in conformance mode, behind recording taps) and the
 * router command in front of it, then each captured client request, checked column by column.
 * Results are sorted by name. Throws only when the fixtures cannot be read.
 *
 * @example
 * const results = await runConformance({ fixtureDirs: ['fixtures/reference-proxy'],
 *   routerCommand: ['node', 'packages/server/dist/cli.js'], routerCwd: process.cwd(),
 *   allowMissingNixl: false, caseFilters: [] });
 */
export async function runConformance(options: ConformanceOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const group of groupCases(options)) results.push(...(await runGroup(group, options)));
  return results.sort((a, b) => a.name.localeCompare(b.name));
}
