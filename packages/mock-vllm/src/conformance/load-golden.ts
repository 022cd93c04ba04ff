import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FixturesError } from './fixtures-error.js';
import { parseHttpMessage, trimOws } from './http-message.js';
import type {
  FixtureKind,
  GoldenCase,
  GoldenClientRequest,
  GoldenExchange,
  GoldenHttpResponse,
  GoldenRound,
  GoldenTopology,
  HeaderPair,
  Role,
} from './types.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBytes(file: string): Uint8Array {
  try {
    const buf = readFileSync(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (cause) {
    throw new FixturesError(`cannot read golden file ${file}`, { cause });
  }
}

function readCaseJson(file: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new FixturesError(`${file} is not readable JSON`, { cause });
  }
  if (!isObject(parsed)) throw new FixturesError(`${file} is not a JSON object`);
  return parsed;
}

// A capture where a backend answered with an error is not a conformance target; a delay is fine.
function behaviourOf(c: Json): { target: boolean; prefillDelayMs: number } {
  const b = c['backend_behaviour'];
  if (typeof b === 'string') return { target: b.startsWith('all ok'), prefillDelayMs: 0 };
  if (!isObject(b)) return { target: true, prefillDelayMs: 0 };
  let target = true;
  let prefillDelayMs = 0;
  for (const backend of Object.values(b)) {
    if (!isObject(backend)) continue;
    if (backend['mode'] !== 'ok') target = false;
    const delay = backend['delay_ms'];
    if (typeof delay === 'number') prefillDelayMs = Math.max(prefillDelayMs, delay);
  }
  return { target, prefillDelayMs };
}

// "1P1D: P http 127.0.0.1:20001 zmq 127.0.0.1:21001; D http ..." or
// "2P2D registered in order P1 (http 127.0.0.1:20001, zmq 127.0.0.1:21001), P2 (20003/21003), ...".
const P2P_WORKER = /\b([PD])\d* \(?(?:http )?(?:[\d.]+:)?\d+(?:,? zmq |\/)(?:([\d.]+):)?(\d+)\)?/g;

function topologyOf(text: string, kind: FixtureKind, file: string): GoldenTopology {
  const counts = /^(\d+)P(\d+)D/.exec(text);
  if (counts === null) throw new FixturesError(`${file}: topology ${JSON.stringify(text)} has no nPnD count`);
  const prefill = Number(counts[1]);
  const decode = Number(counts[2]);
  if (kind === 'nixl') return { prefill, decode };
  const zmq: { prefill: string[]; decode: string[] } = { prefill: [], decode: [] };
  for (const m of text.matchAll(P2P_WORKER)) {
    (m[1] === 'P' ? zmq.prefill : zmq.decode).push(`${m[2] ?? '127.0.0.1'}:${m[3] ?? ''}`);
  }
  if (zmq.prefill.length !== prefill || zmq.decode.length !== decode) return { prefill, decode };
  return { prefill, decode, zmq };
}

function header(headers: readonly HeaderPair[], name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name)?.[1];
}

function loadExchange(
  file: string,
  meta: { case: string; kind: FixtureKind; role: Role; index: number | undefined; apiKey: string | null },
): GoldenExchange {
  const message = parseHttpMessage(readBytes(file));
  const parts = message?.startLine.split(' ') ?? [];
  const [method, target, httpVersion] = parts;
  if (message === undefined || parts.length !== 3 || method === undefined || target === undefined) {
    throw new FixturesError(`${file} is not an HTTP request capture`);
  }
  const requestIdTemplate = header(message.headers, 'x-request-id');
  if (requestIdTemplate === undefined) throw new FixturesError(`${file} has no X-Request-Id`);
  return {
    ...meta,
    file,
    method,
    target,
    httpVersion: httpVersion ?? '',
    headers: message.headers,
    body: message.body,
    requestIdTemplate,
  };
}

function loadResponse(file: string): GoldenHttpResponse {
  const message = parseHttpMessage(readBytes(file));
  const status = Number(message?.startLine.split(' ')[1]);
  if (message === undefined || !Number.isInteger(status)) {
    throw new FixturesError(`${file} is not an HTTP response capture`);
  }
  return { status, headers: message.headers, body: message.body };
}

function loadClient(dir: string, suffix: string): GoldenClientRequest {
  const headFile = path.join(dir, `client-request${suffix}.headers`);
  // curl -v output: CRLF or LF line ends, no body.
  const lines = new TextDecoder('utf-8')
    .decode(readBytes(headFile))
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const [method, target] = (lines[0] ?? '').split(' ');
  if (method === undefined || target === undefined)
    throw new FixturesError(`${headFile} has no request line`);
  const headers: HeaderPair[] = lines.slice(1).map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon), trimOws(l.slice(colon + 1))];
  });
  return { method, target, headers, body: readBytes(path.join(dir, `client-request${suffix}.json`)) };
}

function loadCase(dir: string, name: string, fixtureSet: string): GoldenCase {
  const c = readCaseJson(path.join(dir, 'case.json'));
  const has = (f: string): boolean => existsSync(path.join(dir, f));
  const kind: FixtureKind =
    has('prefill.response.normalized.http') || has('prefill-1.response.normalized.http')
      ? 'nixl'
      : 'p2p-nccl';
  const env = c['proxy_env'];
  const key = isObject(env) ? env['OPENAI_API_KEY'] : undefined;
  const apiKey = typeof key === 'string' ? key : null;
  const topology = topologyOf(String(c['topology'] ?? ''), kind, path.join(dir, 'case.json'));
  const numbered = !has('prefill.normalized.http');
  const shared = has('client-request.json') ? loadClient(dir, '') : undefined;
  const rounds: GoldenRound[] = [];
  for (let k = 1; ; k++) {
    const suffix = numbered ? `-${k}` : '';
    if (numbered && !has(`prefill${suffix}.normalized.http`)) break;
    const index = numbered ? k : undefined;
    const meta = { case: name, kind, index, apiKey };
    const responseFile = `prefill${suffix}.response.normalized.http`;
    rounds.push({
      index,
      pair: { prefill: (k - 1) % topology.prefill, decode: (k - 1) % topology.decode },
      client: shared ?? loadClient(dir, suffix),
      prefill: loadExchange(path.join(dir, `prefill${suffix}.normalized.http`), { ...meta, role: 'prefill' }),
      decode: loadExchange(path.join(dir, `decode${suffix}.normalized.http`), { ...meta, role: 'decode' }),
      ...(kind === 'nixl' ? { prefillResponse: loadResponse(path.join(dir, responseFile)) } : {}),
    });
    if (!numbered) break;
  }
  if (rounds.length === 0) throw new FixturesError(`${dir} holds no prefill*.normalized.http`);
  return {
    name,
    fixtureSet,
    dir,
    kind,
    description: typeof c['description'] === 'string' ? c['description'] : '',
    apiKey,
    ...behaviourOf(c),
    topology,
    rounds,
  };
}

function caseDirs(root: string): string[] {
  return readdirSync(root)
    .sort()
    .filter((name) => existsSync(path.join(root, name, 'case.json')));
}

/**
 * Loads every golden case under `fixturesDir`: either a fixture set (directories holding `case.json`,
 * such as `fixtures/reference-proxy`) or a directory of fixture sets (such as `fixtures/`, where cases
 * are then named `reference-proxy/01-seed-chat`).
 * Synchronous: it runs once, at start. Throws `PD_ERR_MOCK_FIXTURES_INVALID` when the directory is
 * missing, holds no case, or a case's files are incomplete.
 *
 * @example
 * const cases = loadGoldenCases('fixtures/reference-proxy');
 * cases[0].rounds[0].prefill.body; // the exact bytes the reference proxy sent to the prefill
 */
export function loadGoldenCases(fixturesDir: string): GoldenCase[] {
  const root = path.resolve(fixturesDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FixturesError(`fixtures directory ${root} does not exist`);
  }
  let sets: string[] = [root];
  if (caseDirs(root).length === 0) {
    sets = readdirSync(root)
      .sort()
      .map((name) => path.join(root, name))
      .filter((dir) => statSync(dir).isDirectory() && caseDirs(dir).length > 0);
  }
  // Several sets share case names (01-seed-chat ...): then a case is named `set/case`.
  const prefix = (set: string): string => (set === root ? '' : `${path.basename(set)}/`);
  const cases = sets.flatMap((set) =>
    caseDirs(set).map((name) => loadCase(path.join(set, name), prefix(set) + name, path.basename(set))),
  );
  if (cases.length === 0)
    throw new FixturesError(`fixtures directory ${root} holds no case (no */case.json)`);
  return cases;
}
