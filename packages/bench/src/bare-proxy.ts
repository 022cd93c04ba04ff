/**
 * The "bare proxy" of docs/performance.md (at the repository root), as the calibration target of
 * `pd-bench --bare` (or of a `--compare` command): node:http, one undici Pool per worker,
 * JSON.parse/JSON.stringify, a P2P NCCL request id, prefill then decode, no validation, no
 * metrics, no logs. It is not a product (its JSON is not the
 * reference's, errors become a bare 502): it shows what a minimal Node two-stage proxy costs on
 * the same machine in the same run, the practical ceiling for pd-router.
 *
 *   node packages/bench/dist/bare-proxy.js --prefill {prefill} --decode {decode} --port {port}
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const CONNECTIONS = 512;
const TIMEOUT_MS = 60_000;

interface Worker {
  readonly pool: Pool;
  readonly zmq: string;
}

function worker(spec: string): Worker {
  const match = /^(https?:\/\/[^/]+?)(?::zmq:\/\/(.+))?\/?$/.exec(spec);
  if (match === null || match[2] === undefined)
    throw new Error(`bare-proxy: expected URL:zmq://H:P, got ${spec}`);
  const pool = new Pool(match[1]!, {
    connections: CONNECTIONS,
    pipelining: 1,
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  return { pool, zmq: match[2] };
}

const { values } = parseArgs({
  options: {
    prefill: { type: 'string' },
    decode: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
  },
});
if (values.prefill === undefined || values.decode === undefined || values.port === undefined) {
  process.stderr.write(
    'usage: bare-proxy --prefill URL:zmq://H:P --decode URL:zmq://H:P --port N [--host H]\n',
  );
  process.exit(2);
}
const prefill = worker(values.prefill);
const decode = worker(values.decode);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
  const decodeBody = JSON.stringify(body);
  body['max_tokens'] = 1;
  if ('max_completion_tokens' in body) body['max_completion_tokens'] = 1;
  const id = `___prefill_addr_${prefill.zmq}___decode_addr_${decode.zmq}_${randomBytes(16).toString('hex')}`;
  const headers = { 'content-type': 'application/json', 'x-request-id': id };
  const path = req.url ?? '/';
  const p = await prefill.pool.request({ path, method: 'POST', headers, body: JSON.stringify(body) });
  for await (const _ of p.body) {
    // Drain the prefill's answer, as the reference does.
  }
  const d = await decode.pool.request({ path, method: 'POST', headers, body: decodeBody });
  res.writeHead(d.statusCode, { 'content-type': String(d.headers['content-type'] ?? 'application/json') });
  for await (const chunk of d.body) res.write(chunk);
  res.end();
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
server.keepAliveTimeout = TIMEOUT_MS;
server.listen(Number(values.port), values.host);
const stop = (): void => {
  server.close();
  void Promise.all([prefill.pool.close(), decode.pool.close()]).then(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
