// Helpers shared by this folder's tests only (not exported from the package).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rawRequestFromCapture } from './capture-request.js';
import { loadGoldenCases } from './load-golden.js';
import type { CheckContext, FixtureKind, GoldenCase, GoldenExchange, RawRequest } from './types.js';

export const FIXTURES_ROOT = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));
export const REFERENCE_DIR = `${FIXTURES_ROOT}reference-proxy`;
export const NIXL_DIR = `${FIXTURES_ROOT}nixl-toy-proxy`;
export const MOONCAKE_DIR = `${FIXTURES_ROOT}mooncake-proxy`;

export const referenceCases: readonly GoldenCase[] = loadGoldenCases(REFERENCE_DIR);
export const nixlCases: readonly GoldenCase[] = loadGoldenCases(NIXL_DIR);
export const mooncakeCases: readonly GoldenCase[] = loadGoldenCases(MOONCAKE_DIR);

export function exchangesOf(cases: readonly GoldenCase[]): GoldenExchange[] {
  return cases.flatMap((c) => c.rounds.flatMap((r) => [r.prefill, r.decode]));
}

export function findCase(cases: readonly GoldenCase[], name: string): GoldenCase {
  const c = cases.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no case ${name}`);
  return c;
}

/** A fresh value for `{uuid}`: 32 hex for the reference proxy, a uuid4 for NIXL and Mooncake. */
export function randomId(kind: FixtureKind): string {
  return kind === 'p2p-nccl' ? randomBytes(16).toString('hex') : randomUUID();
}

/** The request the golden exchange describes, as a mock server would receive it. */
export function requestFor(golden: GoldenExchange, id: string = randomId(golden.kind)): RawRequest {
  return rawRequestFromCapture(readFileSync(golden.file), id);
}

type Pairs = [string, string][];

/** A copy of `req` whose header pairs went through `edit`. */
export function editHeaders(req: RawRequest, edit: (pairs: Pairs) => Pairs): RawRequest {
  const pairs: Pairs = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    pairs.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
  return { ...req, rawHeaders: edit(pairs).flat() };
}

export function setHeader(req: RawRequest, name: string, value: string): RawRequest {
  return editHeaders(req, (pairs) =>
    pairs.map(([k, v]) => [k, k.toLowerCase() === name.toLowerCase() ? value : v]),
  );
}

export function headerOf(req: RawRequest, name: string): string | undefined {
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === name.toLowerCase()) return req.rawHeaders[i + 1];
  }
  return undefined;
}

export function failedChecks(v: { checks: readonly { name: string; ok: boolean }[] }): string[] {
  return v.checks.filter((c) => !c.ok).map((c) => c.name);
}

/** What a run knows besides the request: a Mooncake decode's bootstrap address is the capture's own here. */
export function captureContext(cases: readonly GoldenCase[], golden: GoldenExchange): CheckContext {
  if (golden.kind !== 'mooncake' || golden.role !== 'decode') return {};
  const c = findCase(cases, golden.case);
  const round = c.rounds.find((r) => r.decode === golden);
  const addr = c.topology.mooncake?.prefills[round?.pair.prefill ?? 0]?.addr;
  return addr === undefined ? {} : { bootstrapAddr: addr };
}
