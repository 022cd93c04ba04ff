/**
 * vLLM names an answer after the request's `X-Request-Id`: `chatcmpl-{id}` on /v1/chat/completions,
 * `cmpl-{id}` on /v1/completions (`_base_request_id` in vLLM's OpenAI serving layer), in the JSON
 * body's `id` and in every streamed chunk's `id`. Under P2P NCCL that id holds both instances' KV
 * addresses, which clients must not see; this module rewrites it, as bytes flow, to the id's random
 * part alone: `chatcmpl-___prefill_addr_10.0.0.1:21001___decode_addr_10.0.0.2:22001_<hex>` becomes
 * `chatcmpl-<hex>`. See docs/wire-contract.md.
 */
import { Buffer } from 'node:buffer';

const PREFILL_MARK = '___prefill_addr_';
/** Both public prefixes end in `cmpl-`, so one needle serves both routes. */
const PUBLIC_PREFIX = 'cmpl-';
/** JSON's closing quote after the id: the id must end there, not merely start there. */
const CLOSING_QUOTE = '"';
const EMPTY = Buffer.alloc(0);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The id clients see for a request id: its part after the last `_` (the random hex) when the id
 * carries P2P NCCL addresses, else undefined (nothing to hide: NIXL's uuid4 ids stay as they are).
 * @example publicRequestId('___prefill_addr_10.0.0.1:21001___decode_addr_10.0.0.2:22001_9f0c'); // '9f0c'
 * publicRequestId('8787da25-9a1c-4f1e-8fa7-32227749f53c'); // undefined
 */
export function publicRequestId(requestId: string): string | undefined {
  if (!requestId.startsWith(PREFILL_MARK)) return undefined;
  const hex = requestId.slice(requestId.lastIndexOf('_') + 1);
  return hex === '' ? undefined : hex;
}

/**
 * Incremental rewriter of one answer's id: feed it the answer's bytes in order, cut anywhere, and
 * write out what each call returns. Every occurrence of `cmpl-{requestId}"` becomes
 * `cmpl-{hex}"`; no other byte changes. It holds back at most one partial id across a chunk
 * boundary (the bytes at a chunk's end that could begin one), never more: a stream is not buffered.
 * The id ends in 128 random bits, so it cannot occur by accident in generated text.
 *
 * @example
 * const rewriter = createResponseIdRewriter(requestId); // undefined when the id has no addresses
 * res.write(rewriter.push(chunk)); // for each chunk, possibly empty
 * res.end(rewriter.end());
 */
export class ResponseIdRewriter {
  readonly #from: Buffer;
  readonly #to: Buffer;
  /** Bytes held from the previous chunk: a proper prefix of `#from`. */
  #carry: Buffer = EMPTY;
  #replaced = 0;
  #seen = 0;

  /** @param requestId an id that {@link publicRequestId} accepts (else use {@link createResponseIdRewriter}) */
  constructor(requestId: string, publicId: string) {
    this.#from = Buffer.from(PUBLIC_PREFIX + requestId + CLOSING_QUOTE, 'latin1');
    this.#to = Buffer.from(PUBLIC_PREFIX + publicId + CLOSING_QUOTE, 'latin1');
  }

  /** How many ids were rewritten so far. */
  get replaced(): number {
    return this.#replaced;
  }

  /** Input bytes taken so far (held ones included). */
  get seen(): number {
    return this.#seen;
  }

  /** Bytes each rewrite removes from the answer. */
  get shrinkBy(): number {
    return this.#from.length - this.#to.length;
  }

  /**
   * Takes the next chunk; returns the bytes that may go out now (the chunk itself when it holds no
   * id and ends in none, without copying).
   */
  push(chunk: Uint8Array): Buffer {
    this.#seen += chunk.length;
    const carry = this.#carry;
    const data = carry.length === 0 ? asBuffer(chunk) : Buffer.concat([carry, chunk]);
    this.#carry = EMPTY;
    const from = this.#from;
    let match = data.indexOf(from);
    if (match === -1) {
      const hold = this.#heldFrom(data, 0);
      if (hold === -1) return data;
      this.#carry = Buffer.from(data.subarray(hold));
      return data.subarray(0, hold);
    }
    const parts: Buffer[] = [];
    let start = 0;
    while (match !== -1) {
      parts.push(data.subarray(start, match), this.#to);
      this.#replaced++;
      start = match + from.length;
      match = data.indexOf(from, start);
    }
    const hold = this.#heldFrom(data, start);
    if (hold === -1) parts.push(data.subarray(start));
    else {
      this.#carry = Buffer.from(data.subarray(hold));
      parts.push(data.subarray(start, hold));
    }
    return Buffer.concat(parts);
  }

  /** The end of the answer: returns what was held back (a partial id is sent as it came). */
  end(): Buffer {
    const carry = this.#carry;
    this.#carry = EMPTY;
    return carry;
  }

  /**
   * Where the shortest-starting tail of `data` (at or after `start`) that could begin the id
   * starts, or -1. `#from` cannot overlap itself (it starts with `c`, ends with `"`), so bytes
   * before that position can never become part of an id.
   */
  #heldFrom(data: Buffer, start: number): number {
    const from = this.#from;
    const first = from[0] ?? 0;
    let j = data.indexOf(first, Math.max(start, data.length - from.length + 1));
    while (j !== -1) {
      if (data.compare(from, 0, data.length - j, j) === 0) return j;
      j = data.indexOf(first, j + 1);
    }
    return -1;
  }
}

/**
 * The rewriter for one answer, or undefined when its request id holds no addresses to hide.
 * @example createResponseIdRewriter('___prefill_addr_a:1___decode_addr_b:2_ab12')?.push(bytes);
 */
export function createResponseIdRewriter(requestId: string): ResponseIdRewriter | undefined {
  const publicId = publicRequestId(requestId);
  return publicId === undefined ? undefined : new ResponseIdRewriter(requestId, publicId);
}
