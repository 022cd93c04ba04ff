import type { Scenario } from '../report/scenario.js';

const MIB = 1_048_576;

/** The router's payload limit in these runs (its default). */
export const INTAKE_PAYLOAD_LIMIT = 32 * MIB;

/** Six concurrent bodies of small numbers, each about 30 MB: `{"prompt": [1, 1, ...], ...}`. */
export const JSON_AMPLIFICATION = {
  bodies: 6,
  bodyBytes: 30_000_000,
  /** /health is asked this often while they are parsed; each answer must come within the bound. */
  healthEveryMs: 200,
  healthBoundMs: 2_000,
  rssBoundBytes: 1_500 * MIB,
  /** `--max-json-elements` for the run where the bodies are parsed to the end (each has 15M values). */
  fullParseMaxElements: 20_000_000,
} as const;

/** Connections sending a body one byte a second. */
export const SLOW_BODY = {
  connections: 300,
  contentLength: 1_000,
  byteEveryMs: 1_000,
  /** Every slow connection must have been answered 408 and closed by then. */
  closedWithinMs: 90_000,
  /** Normal completions sent while the slow ones hold their connections; all must succeed. */
  normalRequests: 10,
} as const;

/** Bodies sent one byte per write (one segment each, TCP_NODELAY), all at once. */
export const ONE_BYTE_SEGMENTS = {
  bodies: 100,
  bodyBytes: 4_000,
  rssGrowthBoundBytes: 40 * MIB,
} as const;

/** More idle connections than the router may hold under a low open-files limit. */
export const CONNECTION_FLOOD = {
  fdLimit: 512,
  /** What the router's automatic --max-connections is under that limit (the limit minus a quarter). */
  cap: 384,
  connections: 600,
  healthCheckIntervalMs: 200,
  holdMs: 3_000,
} as const;

export const JSON_AMPLIFICATION_ID = 'intake/json-amplification';
export const JSON_AMPLIFICATION_FULL_ID = 'intake/json-amplification-full-parse';
export const SLOW_BODY_ID = 'intake/slow-body';
export const ONE_BYTE_SEGMENTS_ID = 'intake/one-byte-segments';
export const CONNECTION_FLOOD_ID = 'intake/connection-flood';

const amplificationTitle = (flags: string): string =>
  `router CLI process${flags}; ${JSON_AMPLIFICATION.bodies} concurrent bodies of ${JSON_AMPLIFICATION.bodyBytes / 1e6} MB, an array of small numbers (\`{"prompt": [1, 1, ...]}\`), while \`/health\` is asked every ${JSON_AMPLIFICATION.healthEveryMs} ms`;
const amplificationExpect = (answers: string): string =>
  `every request answered (${answers}); the router alive; \`/health\` answered within ${JSON_AMPLIFICATION.healthBoundMs / 1_000} s each time; router RSS < ${JSON_AMPLIFICATION.rssBoundBytes / MIB} MiB`;

export const INTAKE_SCENARIOS: readonly Scenario[] = [
  {
    id: JSON_AMPLIFICATION_ID,
    group: 'intake',
    title: amplificationTitle(', default flags'),
    expect: amplificationExpect(
      '400 `PD_ERR_JSON_TOO_MANY_ELEMENTS` past `--max-json-elements`, or 503 `PD_ERR_PARSE_BUSY` past the parse budget',
    ),
  },
  {
    id: JSON_AMPLIFICATION_FULL_ID,
    group: 'intake',
    title: amplificationTitle(
      `, \`--max-json-elements ${JSON_AMPLIFICATION.fullParseMaxElements}\` (so each body is canonicalized to its end and sent on; the mocks refuse bodies over 1 MiB)`,
    ),
    expect: amplificationExpect(
      'an error code from the prefill leg (the mocks refuse bodies over 1 MiB), or 503 `PD_ERR_PARSE_BUSY` past the parse budget',
    ),
  },
  {
    id: SLOW_BODY_ID,
    group: 'intake',
    title: `router CLI process, default flags; ${SLOW_BODY.connections} connections announce a ${SLOW_BODY.contentLength}-byte body and send one byte every ${SLOW_BODY.byteEveryMs / 1_000} s; ${SLOW_BODY.normalRequests} normal completions meanwhile`,
    expect: `each slow connection answered 408 \`PD_ERR_BODY_TIMEOUT\` (below \`--body-min-rate\`) and closed by the router within ${SLOW_BODY.closedWithinMs / 1_000} s; every normal completion 200`,
  },
  {
    id: ONE_BYTE_SEGMENTS_ID,
    group: 'intake',
    title: `router CLI process, default flags but \`--body-min-rate 0\` (one test process writing one byte at a time to ${ONE_BYTE_SEGMENTS.bodies} sockets is slower than the default minimum); ${ONE_BYTE_SEGMENTS.bodies} concurrent completions whose ${ONE_BYTE_SEGMENTS.bodyBytes / 1_000} KB bodies are written one byte per segment (TCP_NODELAY), one byte per socket per turn of the event loop`,
    expect: `every completion 200; router RSS grows ≤ ${ONE_BYTE_SEGMENTS.rssGrowthBoundBytes / MIB} MiB`,
  },
  {
    id: CONNECTION_FLOOD_ID,
    group: 'intake',
    title: `router CLI process under \`ulimit -n ${CONNECTION_FLOOD.fdLimit}\`, default flags but health checks every ${CONNECTION_FLOOD.healthCheckIntervalMs} ms; ${CONNECTION_FLOOD.connections} idle client connections held for ${CONNECTION_FLOOD.holdMs / 1_000} s`,
    expect: `the router holds ${CONNECTION_FLOOD.cap} (its automatic \`--max-connections\`: the limit minus a quarter kept for its own sockets) and answers the others 503 \`PD_ERR_TOO_MANY_CONNECTIONS\` and closes them; with one held connection freed, \`/workers\` shows every worker healthy (health checks never ran out of file descriptors) and a completion succeeds; no EMFILE logged`,
  },
];
