import type { CompareOptions, FixtureKind } from './types.js';

/** What `{uuid}` stands for in the reference proxy's ids: `uuid.uuid4().hex`. */
export const HEX32 = /^[0-9a-f]{32}$/;
/** What `{uuid}` stands for in the NIXL toy proxy's ids: `str(uuid.uuid4())`. */
export const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const UUID_PLACEHOLDER = '{uuid}';

const P2P_TEMPLATE = /^___prefill_addr_.+___decode_addr_.+_\{uuid\}$/;
// vLLM's connector reads `___prefill_addr_(.*):(\d+)___` and `___decode_addr_(.*):(\d+)`; a host holding
// `___` would be mis-split there, so such ids are rejected below.
const P2P_ID = /^___prefill_addr_(.+):(\d+)___decode_addr_(.+):(\d+)_([0-9a-f]{32})$/;

export interface RequestIdMatch {
  readonly ok: boolean;
  /** The part of the actual id that the template's `{uuid}` stands for, when it could be located. */
  readonly middle?: string;
  readonly detail?: string;
}

function splitTemplate(template: string): readonly [string, string] {
  const at = template.indexOf(UUID_PLACEHOLDER);
  if (at < 0) return [template, ''];
  return [template.slice(0, at), template.slice(at + UUID_PLACEHOLDER.length)];
}

function middleOf(template: string, actual: string): string | undefined {
  const [pre, post] = splitTemplate(template);
  if (actual.length < pre.length + post.length || !actual.startsWith(pre) || !actual.endsWith(post)) {
    return undefined;
  }
  return actual.slice(pre.length, actual.length - post.length);
}

/** What `{uuid}` may stand for: the Mooncake rules accept both forms of a uuid4 (`str()` and `.hex`). */
function shapeOf(kind: FixtureKind): { test(text: string): boolean } {
  if (kind === 'mooncake') return { test: (text) => UUID4.test(text) || HEX32.test(text) };
  return kind === 'nixl' ? UUID4 : HEX32;
}

function describe(kind: FixtureKind): string {
  if (kind === 'mooncake') return 'a lower-case uuid4, 8-4-4-4-12, or 32 lower-case hex digits';
  return kind === 'nixl' ? 'a lower-case uuid4, 8-4-4-4-12' : '32 lower-case hex digits';
}

/**
 * Checks a received `X-Request-Id` against the capture's template. The reference's id names the ZMQ
 * addresses of the capture (127.0.0.1:21001 ...) while a test run has its own, so those are compared
 * exactly only when the caller says which addresses the router was given, and by shape otherwise.
 */
export function matchRequestId(
  template: string,
  kind: FixtureKind,
  actual: string | undefined,
  expectedZmq?: CompareOptions['expectedZmq'],
): RequestIdMatch {
  if (actual === undefined) return { ok: false, detail: 'missing' };
  if (kind === 'p2p-nccl' && P2P_TEMPLATE.test(template)) {
    if (expectedZmq !== undefined) {
      const want = `___prefill_addr_${expectedZmq.prefill}___decode_addr_${expectedZmq.decode}_${UUID_PLACEHOLDER}`;
      return matchTemplate(want, actual, kind);
    }
    const m = P2P_ID.exec(actual);
    if (m !== null && !(m[1] ?? '').includes('___') && !(m[3] ?? '').includes('___')) {
      return { ok: true, middle: m[5] ?? '' };
    }
    return {
      ok: false,
      detail:
        `got ${JSON.stringify(actual)}, want ___prefill_addr_{host}:{port}___decode_addr_{host}:{port}_{uuid} ` +
        `({uuid}: ${describe(kind)}; captured as ${JSON.stringify(template)})`,
    };
  }
  return matchTemplate(template, actual, kind);
}

/** `actual` is `want` with its `{uuid}` placeholder replaced by an id of the kind's shape. */
function matchTemplate(want: string, actual: string, kind: FixtureKind): RequestIdMatch {
  const middle = middleOf(want, actual);
  if (middle !== undefined && shapeOf(kind).test(middle)) return { ok: true, middle };
  return {
    ok: false,
    ...(middle === undefined ? {} : { middle }),
    detail: `got ${JSON.stringify(actual)}, want ${JSON.stringify(want)} ({uuid}: ${describe(kind)})`,
  };
}
