import { Buffer } from 'node:buffer';

/** Every UTF-16 unit Python's ensure_ascii output does not copy verbatim. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are among the units to escape.
const PLAIN_OUTPUT_RUN = /[^\u0000-\u001f"\\\u007f-\uffff]*/y;

/** Runs shorter than this are copied unit by unit: a native write call costs more. */
const NATIVE_COPY_MIN = 32;

const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** The second byte of Python's two-character escapes, by unit (0 = `\u00XX`). */
const SHORT_ESCAPE = new Uint8Array(0x80);
SHORT_ESCAPE[0x22] = 0x22;
SHORT_ESCAPE[0x5c] = 0x5c;
SHORT_ESCAPE[0x0a] = 0x6e;
SHORT_ESCAPE[0x0d] = 0x72;
SHORT_ESCAPE[0x09] = 0x74;
SHORT_ESCAPE[0x08] = 0x62;
SHORT_ESCAPE[0x0c] = 0x66;

/** The shared buffer of synchronous runs stays allocated up to this size; larger ones are dropped. */
const KEEP_SCRATCH_BYTES = 1 << 20;
let scratch: Buffer | undefined = Buffer.allocUnsafe(64 * 1024);

/**
 * The canonical output as it is written: ASCII bytes in one growable buffer (latin1 = UTF-8 here).
 * Writing bytes instead of concatenating strings keeps the cost at about one byte per output byte:
 * a rope of one string per number would cost tens of bytes each.
 */
export class AsciiOut {
  buf: Buffer;
  len = 0;
  /** Whether this run holds the module's scratch buffer (so it runs to its end in one go). */
  readonly shared: boolean;

  /** `shared`: use the module's scratch buffer (only for a run that cannot be interleaved with another). */
  constructor(expectedBytes: number, shared: boolean) {
    const s = scratch;
    if (shared && s !== undefined) {
      scratch = undefined;
      this.buf = s;
      this.shared = true;
    } else {
      this.buf = Buffer.allocUnsafe(Math.max(256, expectedBytes));
      this.shared = false;
    }
  }

  /** Gives the scratch buffer back (if this run held it); the output must not be used after. */
  release(): void {
    if (this.shared && this.buf.length <= KEEP_SCRATCH_BYTES) scratch = this.buf;
    this.buf = Buffer.alloc(0);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): Buffer {
    const need = this.len + n;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    return this.buf;
  }

  byte(c: number): void {
    this.reserve(1)[this.len++] = c;
  }

  /** `, ` between members. */
  separator(): void {
    const b = this.reserve(2);
    b[this.len] = 0x2c;
    b[this.len + 1] = 0x20;
    this.len += 2;
  }

  /** Bytes of `source` in [from, to), which must be ASCII that needs no escape. */
  copy(source: Uint8Array, from: number, to: number): void {
    const b = this.reserve(to - from);
    if (to - from < NATIVE_COPY_MIN) {
      let p = this.len;
      for (let k = from; k < to; k++) b[p++] = source[k] as number;
    } else {
      b.set(source.subarray(from, to), this.len);
    }
    this.len += to - from;
  }

  /** `s[from:to]`, which must be ASCII that needs no escape. */
  ascii(s: string, from = 0, to = s.length): void {
    const b = this.reserve(to - from);
    if (to - from < NATIVE_COPY_MIN) {
      let p = this.len;
      for (let k = from; k < to; k++) b[p++] = s.charCodeAt(k);
    } else {
      b.write(s.slice(from, to), this.len, 'latin1');
    }
    this.len += to - from;
  }

  /**
   * `s` as Python's `json.dumps` (ensure_ascii=True) writes it, quotes included: `\"`, `\\`,
   * \b \f \n \r \t, other controls and everything from 0x7F up as lower-case `\uXXXX` (one per
   * UTF-16 unit, so astral characters become surrogate pairs and lone surrogates stay lone).
   */
  quoted(s: string): void {
    const n = s.length;
    this.byte(0x22);
    let j = 0;
    while (j < n) {
      PLAIN_OUTPUT_RUN.lastIndex = j;
      PLAIN_OUTPUT_RUN.test(s);
      const end = PLAIN_OUTPUT_RUN.lastIndex;
      if (end > j) this.ascii(s, j, end);
      // Units to escape (CJK text is long runs of them) are looped over here.
      for (j = end; j < n; j++) {
        const c = s.charCodeAt(j);
        if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) break;
        this.#escape(c);
      }
    }
    this.byte(0x22);
  }

  #escape(c: number): void {
    const b = this.reserve(6);
    const p = this.len;
    b[p] = 0x5c;
    const short = c < 0x80 ? (SHORT_ESCAPE[c] as number) : 0;
    if (short !== 0) {
      b[p + 1] = short;
      this.len += 2;
      return;
    }
    b[p + 1] = 0x75;
    b[p + 2] = HEX[c >> 12] as number;
    b[p + 3] = HEX[(c >> 8) & 15] as number;
    b[p + 4] = HEX[(c >> 4) & 15] as number;
    b[p + 5] = HEX[c & 15] as number;
    this.len += 6;
  }

  /** Output bytes [from, to) as a (one-byte) string. */
  text(from = 0, to = this.len): string {
    return this.buf.toString('latin1', from, to);
  }
}
