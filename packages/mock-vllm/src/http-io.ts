import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/** Reads the whole body; resolves undefined past `limit` bytes (the caller answers 413). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Sleeps `ms` (nothing at all for 0, so the instant preset costs no timer); false when aborted first. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when `signal` aborts: the "accept then never answer" path. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export const JSON_CONTENT_TYPE = 'application/json';
/** What Starlette sends for a StreamingResponse with media_type text/event-stream. */
export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** Sends a complete body with its length (as uvicorn does for non-streaming answers). */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string | undefined,
  body: string,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
  if (contentType !== undefined) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendBody(res, status, JSON_CONTENT_TYPE, JSON.stringify(value));
}

/**
 * Writes a chunk, honouring backpressure; when `flush` is set, resolves only once the chunk has been
 * handed to the socket (so a following destroy() cannot drop it).
 */
export function writeChunk(res: ServerResponse, chunk: string, flush: boolean): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (flush) return new Promise((resolve) => res.write(chunk, () => resolve()));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
