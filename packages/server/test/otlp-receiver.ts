import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP receiver sees it, whatever the encoding (ids in lower-case hex). */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly events: readonly {
    readonly name: string;
    readonly attributes: Readonly<Record<string, string | number | boolean>>;
  }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly serviceName: string;
}

export interface OtlpReceiver {
  /** OTLP/HTTP: `http://127.0.0.1:PORT`; OTLP/gRPC: `127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  readonly contentTypes: string[];
  close(): Promise<void>;
}

// --- A minimal protobuf reader: the OTLP messages below need only varints, fixed64 and bytes. ---

type Field = bigint | Buffer;

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length && shift < 70n; i++) {
    const byte = buf[i] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
  throw new Error('truncated varint');
}

/** Fields of one message by number, in order (repeated fields have several entries). */
function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = readVarint(buf, at);
    at = next;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: Field;
    if (wire === 0) [value, at] = readVarint(buf, at);
    else if (wire === 1) {
      value = buf.subarray(at, at + 8);
      at += 8;
    } else if (wire === 5) {
      value = buf.subarray(at, at + 4);
      at += 4;
    } else if (wire === 2) {
      const [length, start] = readVarint(buf, at);
      value = buf.subarray(start, start + Number(length));
      at = start + Number(length);
    } else throw new Error(`unexpected wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (m: Map<number, Field[]>, n: number): Buffer[] =>
  (m.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));
const first = (m: Map<number, Field[]>, n: number): Buffer => bytesOf(m, n)[0] ?? Buffer.alloc(0);
const varint = (m: Map<number, Field[]>, n: number): number => {
  const v = m.get(n)?.[0];
  return typeof v === 'bigint' ? Number(v) : 0;
};

/** KeyValue { key = 1; AnyValue value = 2 { string 1, bool 2, int 3, double 4 } }. */
function protoAttributes(list: readonly Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    const f = fields(kv);
    const any = fields(first(f, 2));
    const key = first(f, 1).toString('utf8');
    if (any.has(1)) out[key] = first(any, 1).toString('utf8');
    else if (any.has(2)) out[key] = varint(any, 2) === 1;
    else if (any.has(3)) out[key] = varint(any, 3);
    else if (any.has(4)) out[key] = first(any, 4).readDoubleLE(0);
  }
  return out;
}

/** ExportTraceServiceRequest → ResourceSpans(1) → ScopeSpans(2) → Span(2). */
function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of bytesOf(fields(body), 1)) {
    const rsf = fields(rs);
    const resource = protoAttributes(bytesOf(fields(first(rsf, 1)), 1));
    for (const ss of bytesOf(rsf, 2)) {
      for (const raw of bytesOf(fields(ss), 2)) {
        const s = fields(raw);
        spans.push({
          traceId: first(s, 1).toString('hex'),
          spanId: first(s, 2).toString('hex'),
          traceState: first(s, 3).toString('utf8'),
          parentSpanId: first(s, 4).toString('hex'),
          name: first(s, 5).toString('utf8'),
          kind: varint(s, 6),
          attributes: protoAttributes(bytesOf(s, 9)),
          events: bytesOf(s, 11).map((e) => {
            const ef = fields(e);
            return { name: first(ef, 2).toString('utf8'), attributes: protoAttributes(bytesOf(ef, 3)) };
          }),
          statusCode: varint(fields(first(s, 15)), 3),
          serviceName: String(resource['service.name'] ?? ''),
        });
      }
    }
  }
  return spans;
}

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number };
}

function jsonAttributes(
  list: readonly JsonKeyValue[] | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}

/** OTLP/JSON: the same tree, ids as hex strings. */
function decodeJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
  };
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId.toLowerCase(),
        spanId: s.spanId.toLowerCase(),
        parentSpanId: (s.parentSpanId ?? '').toLowerCase(),
        traceState: s.traceState ?? '',
        name: s.name,
        kind: s.kind,
        attributes: jsonAttributes(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
        statusCode: s.status?.code ?? 0,
        serviceName: String(resource['service.name'] ?? ''),
      })),
    );
  });
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An OTLP/HTTP collector on 127.0.0.1:0 (`POST /v1/traces`, protobuf or JSON, as the exporter's
 * content type says), answering an empty ExportTraceServiceResponse.
 */
export async function startOtlpHttpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const type = req.headers['content-type'] ?? '';
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.push(type);
      const json = type.startsWith('application/json');
      spans.push(...(json ? decodeJson(body) : decodeProtobuf(body)));
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An OTLP/gRPC collector on 127.0.0.1:0 (cleartext HTTP/2): the TraceService/Export unary call,
 * its length-prefixed protobuf request decoded, an empty response with grpc-status 0.
 */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Http2Server = createH2Server();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      contentTypes.push(String(headers['content-type'] ?? ''));
      const framed = Buffer.concat(chunks);
      // gRPC framing: 1 byte compressed flag, 4 bytes big-endian length, the message.
      if (String(headers[':path']) === '/opentelemetry.proto.collector.trace.v1.TraceService/Export')
        spans.push(...decodeProtobuf(framed.subarray(5, 5 + framed.readUInt32BE(1))));
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
