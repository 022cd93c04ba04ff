import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { parseResponses, type RawResponse } from './http-response-parser.js';

export interface RawExchangeOptions {
  readonly port: number;
  /** Bytes written in order; with `gapMs`, a pause between parts. */
  readonly parts: readonly (Buffer | string)[];
  readonly gapMs?: number;
  /** Stop writing the remaining parts as soon as a response has begun (oversized bodies). */
  readonly stopWritingOnResponse?: boolean;
  /** Resolve once this many complete responses have arrived (default 1); else when the server closes. */
  readonly responses?: number;
  /** Give up after this long (default 10 s): the result says `timedOut`. */
  readonly timeoutMs?: number;
  /** Half-close our side once everything is written (HTTP/1.0 style). */
  readonly endAfterWrite?: boolean;
}

export interface RawExchangeResult {
  readonly responses: RawResponse[];
  /** Everything the server sent, as bytes. */
  readonly data: Buffer;
  readonly closedByServer: boolean;
  readonly timedOut: boolean;
  /** Bytes of the request actually written, and how many of them before the first response byte. */
  readonly bytesWritten: number;
  readonly bytesWrittenBeforeResponse: number;
  readonly bytesPlanned: number;
  /** A socket error seen while writing (EPIPE/ECONNRESET after the server answered early). */
  readonly writeError: string | undefined;
}

/**
 * One exchange over a raw TCP connection (node:net), for requests no HTTP client would send:
 * malformed framing, smuggling shapes, bare CR/LF, pipelining. Always closes its socket.
 *
 * @example
 * const r = await rawExchange({ port, parts: ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n'] });
 * r.responses[0]?.status // 200
 */
export async function rawExchange(options: RawExchangeOptions): Promise<RawExchangeResult> {
  const parts = options.parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p));
  const planned = parts.reduce((n, p) => n + p.length, 0);
  const want = options.responses ?? 1;
  const socket: Socket = connect({ host: '127.0.0.1', port: options.port });
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let received = 0;
  let written = 0;
  let writtenBeforeResponse = -1;
  let closed = false;
  let writeError: string | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
  };
  socket.on('data', (chunk: Buffer) => {
    if (writtenBeforeResponse < 0) writtenBeforeResponse = written;
    chunks.push(chunk);
    received += chunk.length;
    notify();
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    writeError ??= error.code ?? error.message;
    notify();
  });
  socket.on('close', () => {
    closed = true;
    notify();
  });
  const done = (): boolean => {
    if (closed) return true;
    if (received === 0) return false;
    const parsed = parseResponses(Buffer.concat(chunks), false);
    const complete = parsed.responses.filter((r) => r.status >= 200).length;
    return complete >= want && !parsed.incomplete;
  };
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    for (let i = 0; i < parts.length; i++) {
      // Timers run before I/O in an event-loop turn: without this, a write after the gap could
      // meet the server's reset (it answered early and closed) before the answer already in our
      // kernel buffer is read, and destroying the socket on that error would lose the answer.
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (closed || socket.destroyed) break;
      if (options.stopWritingOnResponse === true && received > 0) break;
      const part = parts[i] ?? Buffer.alloc(0);
      const flushed = socket.write(part);
      written += part.length;
      if (!flushed) await waitDrainOrClose(socket, deadline);
      if (options.gapMs !== undefined && i < parts.length - 1) await delay(options.gapMs);
    }
    if (options.endAfterWrite === true && !socket.destroyed) socket.end();
    while (!done() && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  } catch (error) {
    writeError ??= (error as NodeJS.ErrnoException).code ?? String(error);
  } finally {
    socket.destroy();
  }
  const data = Buffer.concat(chunks);
  const parsed = parseResponses(data, true);
  return {
    responses: parsed.responses,
    data,
    closedByServer: closed,
    timedOut: !done() && performance.now() >= deadline,
    bytesWritten: written,
    bytesWrittenBeforeResponse: writtenBeforeResponse < 0 ? written : writtenBeforeResponse,
    bytesPlanned: planned,
    writeError,
  };
}

async function waitDrainOrClose(socket: Socket, deadline: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('drain', finish);
      socket.off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, Math.max(0, deadline - performance.now()));
    socket.once('drain', finish);
    socket.once('close', finish);
  });
}

/** A request head: request line, headers (in order, exactly as given), blank line. */
export function head(requestLine: string, headers: readonly (readonly [string, string])[]): string {
  return `${requestLine}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}${headers.length > 0 ? '\r\n' : ''}\r\n`;
}

/** A complete POST with a Content-Length body. */
export function post(
  path: string,
  body: Buffer | string,
  extra: readonly (readonly [string, string])[] = [['Content-Type', 'application/json']],
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([
    Buffer.from(
      head(`POST ${path} HTTP/1.1`, [
        ['Host', 'router.test'],
        ...extra,
        ['Content-Length', String(bytes.length)],
      ]),
      'latin1',
    ),
    bytes,
  ]);
}

/** A body in chunked transfer coding, `sizes` bytes per chunk (the last chunk takes the rest). */
export function chunked(body: Buffer | string, size: number): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size);
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  out.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(out);
}
