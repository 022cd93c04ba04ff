import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FixturesError } from './fixtures-error.js';
import { bytesToLatin1, latin1ToBytes, parseHttpMessage, trimOws } from './http-message.js';
import {
  BOOTSTRAP_PLACEHOLDER,
  type FixtureKind,
  type GoldenBootstrap,
  type GoldenCase,
  type GoldenClientRequest,
  type GoldenExchange,
  type GoldenHttpResponse,
  type GoldenRound,
  type GoldenTopology,
  type HeaderPair,
  type Role,
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
  if (kind !== 'p2p-nccl') return { prefill, decode };
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

/** A Mooncake capture's bootstrap servers, from `case.json`'s `mooncake.prefills` and the `/query` answers. */
function mooncakeBootstraps(dir: string, c: Json): GoldenBootstrap[] {
  const file = path.join(dir, 'case.json');
  const m = c['mooncake'];
  const prefills = isObject(m) ? m['prefills'] : undefined;
  if (!Array.isArray(prefills)) throw new FixturesError(`${file}: a Mooncake case needs mooncake.prefills`);
  return prefills.map((p: unknown, i) => {
    if (
      !isObject(p) ||
      typeof p['bootstrap_addr'] !== 'string' ||
      typeof p['query_response_file'] !== 'string'
    )
      throw new FixturesError(
        `${file}: mooncake.prefills[${i}] needs bootstrap_addr and query_response_file`,
      );
    const answer = loadResponse(path.join(dir, p['query_response_file']));
    let ranks: unknown;
    try {
      ranks = JSON.parse(new TextDecoder().decode(answer.body));
    } catch (cause) {
      throw new FixturesError(`${file}: ${p['query_response_file']} is not JSON`, { cause });
    }
    const entries = isObject(ranks) ? ranks : {};
    const engineIds = Object.keys(entries).map((_, r) => {
      const entry = entries[String(r)];
      const id = isObject(entry) ? entry['engine_id'] : undefined;
      if (typeof id !== 'string')
        throw new FixturesError(`${file}: /query answer has no engine_id for rank ${r}`);
      return id;
    });
    const arg = p['bootstrap_port_arg'];
    return {
      portArg: typeof arg === 'string' ? Number(arg) : null,
      addr: p['bootstrap_addr'],
      engineIds,
      queryBody: answer.body,
    };
  });
}

/** The pair (and DP rank) the Mooncake proxy chose for request k, from `case.json`'s `rounds`. */
function mooncakePair(c: Json, k: number): GoldenRound['pair'] {
  const rounds = c['rounds'];
  const round = Array.isArray(rounds) ? (rounds[k - 1] as unknown) : undefined;
  const p = isObject(round) ? round['prefill'] : undefined;
  const d = isObject(round) ? round['decode'] : undefined;
  if (!isObject(p) || !isObject(d)) throw new FixturesError(`case.json has no rounds[${k - 1}]`);
  return {
    prefill: Number(p['index']) - 1,
    decode: Number(d['index']) - 1,
    rank: Number(p['x_data_parallel_rank']),
  };
}

/** A Mooncake decode body with its capture's bootstrap address (`"remote_bootstrap_addr": "..."`) as `{bootstrap}`. */
function withBootstrapPlaceholder(exchange: GoldenExchange, addr: string | undefined): GoldenExchange {
  if (addr === undefined) return exchange;
  const key = `"remote_bootstrap_addr": ${JSON.stringify(addr)}`;
  const body = bytesToLatin1(exchange.body)
    .split(key)
    .join(`"remote_bootstrap_addr": "${BOOTSTRAP_PLACEHOLDER}"`);
  return { ...exchange, body: latin1ToBytes(body) };
}

function loadCase(dir: string, name: string, fixtureSet: string): GoldenCase {
  const c = readCaseJson(path.join(dir, 'case.json'));
  const has = (f: string): boolean => existsSync(path.join(dir, f));
  // Mooncake captures hold the prefill's answers too, but the proxy never reads them.
  const kind: FixtureKind =
    c['connector'] === 'mooncake'
      ? 'mooncake'
      : has('prefill.response.normalized.http') || has('prefill-1.response.normalized.http')
        ? 'nixl'
        : 'p2p-nccl';
  const env = c['proxy_env'];
  const key = isObject(env) ? env['OPENAI_API_KEY'] : undefined;
  const apiKey = typeof key === 'string' ? key : null;
  const bootstraps = kind === 'mooncake' ? mooncakeBootstraps(dir, c) : undefined;
  const topology: GoldenTopology = {
    ...topologyOf(String(c['topology'] ?? ''), kind, path.join(dir, 'case.json')),
    ...(bootstraps === undefined ? {} : { mooncake: { prefills: bootstraps } }),
  };
  const numbered = !has('prefill.normalized.http');
  const shared = has('client-request.json') ? loadClient(dir, '') : undefined;
  const rounds: GoldenRound[] = [];
  for (let k = 1; ; k++) {
    const suffix = numbered ? `-${k}` : '';
    if (numbered && !has(`prefill${suffix}.normalized.http`)) break;
    const index = numbered ? k : undefined;
    const meta = { case: name, kind, index, apiKey };
    const responseFile = `prefill${suffix}.response.normalized.http`;
    const pair =
      kind === 'mooncake'
        ? mooncakePair(c, k)
        : { prefill: (k - 1) % topology.prefill, decode: (k - 1) % topology.decode };
    const decode = loadExchange(path.join(dir, `decode${suffix}.normalized.http`), {
      ...meta,
      role: 'decode',
    });
    rounds.push({
      index,
      pair,
      client: shared ?? loadClient(dir, suffix),
      prefill: loadExchange(path.join(dir, `prefill${suffix}.normalized.http`), { ...meta, role: 'prefill' }),
      decode: withBootstrapPlaceholder(decode, bootstraps?.[pair.prefill]?.addr),
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
