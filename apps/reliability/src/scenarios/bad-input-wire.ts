// The bytes of the bad-input cases: request builders and the expectations they share.

/** The router's body limit in these runs: a 10 MB string fits, 20 MB does not. */
export const BAD_INPUT_MAX_PAYLOAD = 16 * 1_048_576;

export type Part = Buffer | string;

/** What one bad-input case sends over a raw TCP connection. */
export interface BadInputSend {
  readonly parts: readonly Part[];
  readonly gapMs?: number;
  /** Complete responses to wait for (pipelining); default 1. */
  readonly responses?: number;
  readonly stopWritingOnResponse?: boolean;
  readonly endAfterWrite?: boolean;
}

export interface Expectation {
  /** Acceptable statuses of the (first) response. */
  readonly status: readonly number[];
  /** `error.code` of the JSON error body, when the router (not Node's HTTP parser) answers. */
  readonly code?: string;
  /** Statuses of every response, in order (pipelining). */
  readonly statuses?: readonly number[];
  /** The router must answer before the client has sent the whole request (oversized bodies). */
  readonly answeredEarly?: boolean;
  /** What reached the decode worker must contain this text (the body was forwarded, transformed). */
  readonly forwardedContains?: string;
}

export interface BadInputCase {
  readonly name: string;
  readonly title: string;
  readonly send: BadInputSend;
  readonly expect: Expectation;
}

export const HOST = ['Host', 'router.test'] as const;
export const JSON_CT = ['Content-Type', 'application/json'] as const;
export const PROMPT_FIELDS = '"model":"mock-model","prompt":"hi","max_tokens":2';

export function request(
  line: string,
  headers: readonly (readonly [string, string])[],
  body: Buffer | string = '',
): Buffer {
  const head = `${line}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
  return Buffer.concat([
    Buffer.from(head, 'latin1'),
    typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  ]);
}

/** A well-framed POST /v1/completions with this body. */
export function postJson(
  body: Buffer | string,
  headers: readonly (readonly [string, string])[] = [JSON_CT],
  path = '/v1/completions',
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return request(
    `POST ${path} HTTP/1.1`,
    [HOST, ...headers, ['Content-Length', String(bytes.length)]],
    bytes,
  );
}

/** A body the mocks accept, with extra JSON text spliced in as a field. */
export function withField(fieldJson: string): string {
  return `{${PROMPT_FIELDS},${fieldJson}}`;
}

export function chunkedBody(body: string, size: number, extension = ''): string {
  let out = '';
  for (let i = 0; i < body.length; i += size) {
    const piece = body.slice(i, i + size);
    out += `${Buffer.byteLength(piece).toString(16)}${extension}\r\n${piece}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

export const GOOD = withField('"ok":true');
export const jsonErr = (code: string): Expectation => ({ status: [400], code });
export const syntax = jsonErr('PD_ERR_JSON_SYNTAX');
export const notObject = jsonErr('PD_ERR_JSON_NOT_OBJECT');
export const ok: Expectation = { status: [200] };
export const mediaType: Expectation = { status: [415], code: 'PD_ERR_UNSUPPORTED_MEDIA_TYPE' };
export const notFound: Expectation = { status: [404], code: 'PD_ERR_NOT_FOUND' };
/** Node's HTTP parser refuses the message before any route runs: 400 in OpenAI's shape, then it closes. */
export const parserRejects: Expectation = { status: [400], code: 'PD_ERR_BAD_REQUEST' };

export function json(name: string, title: string, body: Buffer | string, expect: Expectation): BadInputCase {
  return { name, title, send: { parts: [postJson(body)] }, expect };
}

export function deep(depth: number, open: string, close: string, inner: string): string {
  return `{"x":${open.repeat(depth)}${inner}${close.repeat(depth)}}`;
}

export const digits = (n: number): string => `1${'0'.repeat(n - 1)}`;
