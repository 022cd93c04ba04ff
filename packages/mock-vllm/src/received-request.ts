import type { IncomingHttpHeaders } from 'node:http';
import type { MooncakeRecord } from './mooncake-types.js';
import type { NixlRecord } from './nixl-types.js';
import type { MockRole } from './options.js';

/** A completion request as the mock received it: bytes, headers in wire order, and what became of it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received (query string included). */
  readonly path: string;
  /** node's `req.rawHeaders`: name, value, ... in wire order and case, duplicates kept. */
  readonly rawHeaders: readonly string[];
  /** node's lower-cased header object. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The X-Request-Id header, when sent. */
  readonly requestId: string | undefined;
  readonly role: MockRole;
  /** Date.now() when the body had been read. */
  readonly receivedAt: number;
  /** Filled in when the answer ends: its status, and Date.now() of the last byte. */
  status?: number;
  completedAt?: number;
  /** 'completed' (whole answer sent) or 'aborted' (client gone, reset fault, or close()). */
  outcome?: 'completed' | 'aborted';
  /** NIXL mode (prefill/decode): which connector path the request took, set before its answer ends. */
  nixl?: NixlRecord;
  /** Mooncake mode (prefill/decode): which connector path the request took, set before its answer ends. */
  mooncake?: MooncakeRecord;
}

/** The JSON form served by GET /_mock/received (body as UTF-8 text). */
export function summarizeReceived(r: ReceivedRequest): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    method: r.method,
    path: r.path,
    role: r.role,
    requestId: r.requestId ?? null,
    receivedAt: r.receivedAt,
    status: r.status ?? null,
    completedAt: r.completedAt ?? null,
    outcome: r.outcome ?? null,
    headers: r.rawHeaders,
    body: r.body.toString('utf8'),
  };
  if (r.nixl !== undefined) summary['nixl'] = r.nixl;
  if (r.mooncake !== undefined) summary['mooncake'] = r.mooncake;
  return summary;
}
