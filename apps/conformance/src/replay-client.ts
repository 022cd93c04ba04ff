import type { Client } from 'undici';

/** The request line and headers a client sent in a capture, and its exact body bytes. */
export interface CapturedClientRequest {
  readonly method: string;
  /** With the client's query string, if it had one. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

export type ClientOutcome =
  | {
      readonly ok: true;
      readonly status: number;
      readonly contentType: string | undefined;
      readonly body: Buffer;
    }
  | { readonly ok: false; readonly error: string };

/** Headers the transport sets for this connection; the capture's values named the reference's port. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);

/**
 * Replays a captured client request through undici: same method, target (query included), header
 * names, case, order and values, and body bytes; the whole answer is read (de-chunked).
 *
 * @example
 * const out = await replayClientRequest(new Client(router.url), round.client);
 */
export async function replayClientRequest(
  client: Client,
  req: CapturedClientRequest,
): Promise<ClientOutcome> {
  const headers: string[] = [];
  for (const [name, value] of req.headers) {
    if (!TRANSPORT_HEADERS.has(name.toLowerCase())) headers.push(name, value);
  }
  try {
    const res = await client.request({
      method: req.method as 'POST',
      path: req.target,
      headers,
      body: Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    const type = res.headers['content-type'];
    return { ok: true, status: res.statusCode, contentType: Array.isArray(type) ? type[0] : type, body };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
