export interface RawResponse {
  readonly status: number;
  /** `HTTP/1.1` or `HTTP/1.0`, as the server wrote it. */
  readonly version: string;
  /** Lower-cased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface ParseResult {
  readonly responses: RawResponse[];
  /** True when the last response's body ended with the connection (no length, not chunked) or was cut. */
  readonly incomplete: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Splits the bytes a server sent on one connection into HTTP/1.x responses (status line, headers,
 * body framed by Content-Length, chunked encoding, or the end of the connection). Interim 1xx
 * responses are kept as responses of their own. Used on everything a raw-socket test reads.
 *
 * @example
 * parseResponses(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')).responses[0].status // 204
 */
export function parseResponses(data: Buffer, ended = true): ParseResult {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf(CRLF2, offset);
    if (headEnd < 0) return { responses, incomplete: true };
    const head = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const statusLine = head[0] ?? '';
    const match = /^(HTTP\/\d\.\d) (\d{3})/.exec(statusLine);
    if (match === null) return { responses, incomplete: true };
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(match[2]);
    let bodyStart = headEnd + CRLF2.length;
    let body: Buffer;
    const noBody = status < 200 || status === 204 || status === 304;
    if (noBody) body = Buffer.alloc(0);
    else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const chunked = dechunk(data, bodyStart);
      if (chunked === undefined) return { responses, incomplete: true };
      body = chunked.body;
      bodyStart = chunked.end;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bodyStart + length > data.length) return { responses, incomplete: true };
      body = data.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      // Delimited by the end of the connection.
      body = data.subarray(bodyStart);
      bodyStart = data.length;
      responses.push({ status, version: match[1] ?? '', headers, body });
      return { responses, incomplete: !ended };
    }
    responses.push({ status, version: match[1] ?? '', headers, body });
    offset = bodyStart;
  }
  return { responses, incomplete: false };
}

function dechunk(data: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) return undefined;
    offset = lineEnd + 2;
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      const trailerEnd = data.indexOf('\r\n', offset, 'latin1');
      if (trailerEnd < 0) return undefined;
      return { body: Buffer.concat(parts), end: trailerEnd + 2 };
    }
    if (offset + size + 2 > data.length) return undefined;
    parts.push(data.subarray(offset, offset + size));
    offset += size + 2;
  }
}

/** The `error.code` of an OpenAI-shaped JSON body, if it is one. */
export function errorCodeOf(body: Buffer | string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const error = (parsed as { error?: unknown }).error;
    if (typeof error !== 'object' || error === null) return undefined;
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : typeof code === 'number' ? String(code) : undefined;
  } catch {
    return undefined;
  }
}
