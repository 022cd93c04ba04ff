import net from 'node:net';
import { HttpMessageReader, type StreamedMessage } from './http-message-reader.js';

/** One request that went through a tap and, once complete, its answer. */
export interface TapExchange {
  readonly method: string;
  readonly path: string;
  /** Header names and values in wire order, flat like node's `rawHeaders`. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** X-Request-Id of the request, when it had one. */
  readonly requestId: string | undefined;
  /** performance.now() when the whole request had passed. */
  readonly requestAt: number;
  /** Set when the whole answer has passed. */
  response?: TapResponse;
}

export interface TapResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  /** De-chunked. */
  readonly body: Buffer;
  /** performance.now() when the last byte of the answer had passed. */
  readonly at: number;
}

/** What a tap in answer mode replies itself (the NIXL prefill of a capture); undefined: 502. */
export type TapAnswer = (
  exchange: TapExchange,
) => { readonly status: number; readonly contentType: string; readonly body: Uint8Array } | undefined;

export interface WorkerTap {
  /** "127.0.0.1:PORT": the worker address the router is given, and so its `Host` header. */
  readonly hostPort: string;
  readonly url: string;
  /** Every request seen, oldest first (live array). */
  readonly exchanges: TapExchange[];
  /** Relays every later connection to this port on 127.0.0.1 (the mock behind the tap). */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

export interface WorkerTapOptions {
  /** Answer every request here, without any upstream (instead of `forwardTo`). */
  readonly answer?: TapAnswer;
}

const HOST = '127.0.0.1';

function requestOf(message: StreamedMessage): TapExchange {
  const [method = '', target = ''] = message.startLine.split(' ');
  const id = message.headers.find(([k]) => k.toLowerCase() === 'x-request-id')?.[1];
  return {
    method,
    path: target,
    rawHeaders: message.headers.flat(),
    body: message.body,
    requestId: id,
    requestAt: performance.now(),
  };
}

function responseOf(message: StreamedMessage): TapResponse {
  return {
    status: Number(message.startLine.split(' ')[1]),
    contentType: message.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1],
    body: message.body,
    at: performance.now(),
  };
}

/**
 * A byte-for-byte TCP relay in front of one worker that records what passed: the mock behind it sees
 * the router's exact bytes (only the port the router dialed differs), and the run learns the exact
 * answer each request got, which mock-vllm does not keep. That answer is what the client must receive.
 *
 * @example
 * const tap = await startWorkerTap();
 * tap.forwardTo(mock.port);
 * // router: --decode http://${tap.hostPort}:zmq://${mock.kvAddress}
 */
export async function startWorkerTap(options: WorkerTapOptions = {}): Promise<WorkerTap> {
  const exchanges: TapExchange[] = [];
  let forwardPort: number | undefined;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const server = net.createServer((client) => {
    track(client);
    if (options.answer === undefined && forwardPort === undefined) {
      client.destroy(); // nothing behind the tap yet: look like a worker that is not up
      return;
    }
    client.setNoDelay(true);
    const pending: TapExchange[] = [];
    const requests = new HttpMessageReader('request', (message) => {
      const exchange = requestOf(message);
      exchanges.push(exchange);
      if (options.answer === undefined) pending.push(exchange);
      else reply(client, exchange, options.answer);
    });
    client.on('data', (chunk: Buffer) => {
      try {
        requests.push(chunk);
      } catch {
        client.destroy();
      }
    });
    if (forwardPort === undefined) return;

    const upstream = net.connect(forwardPort, HOST);
    track(upstream);
    upstream.setNoDelay(true);
    const responses = new HttpMessageReader('response', (message) => {
      const status = Number(message.startLine.split(' ')[1]);
      if (status >= 100 && status < 200) return; // interim answers belong to no request
      const exchange = pending.shift();
      if (exchange !== undefined) exchange.response = responseOf(message);
    });
    upstream.on('data', (chunk: Buffer) => {
      try {
        responses.push(chunk);
      } catch {
        // keep relaying: the run reports the missing answer
      }
    });
    upstream.on('end', () => responses.end());
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tap has no TCP address');
  const hostPort = `${HOST}:${address.port}`;
  return {
    hostPort,
    url: `http://${hostPort}`,
    exchanges,
    forwardTo: (port) => {
      forwardPort = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function reply(client: net.Socket, exchange: TapExchange, answer: TapAnswer): void {
  const a = answer(exchange) ?? {
    status: 502,
    contentType: 'text/plain',
    body: Buffer.from('conformance tap: no golden answer for this request'),
  };
  const body = Buffer.from(a.body);
  const head = `HTTP/1.1 ${a.status} ${a.status === 200 ? 'OK' : 'Error'}\r\ncontent-type: ${a.contentType}\r\ncontent-length: ${body.length}\r\n\r\n`;
  client.write(Buffer.concat([Buffer.from(head, 'latin1'), body]), () => {
    exchange.response = { status: a.status, contentType: a.contentType, body, at: performance.now() };
  });
}
