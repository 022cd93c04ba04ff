import { readFileSync } from 'node:fs';
import { BenchError } from '../errors.js';

/** One request of a Mooncake FAST'25 trace (JSONL). */
export interface TraceRequest {
  /** Arrival, ms from the trace's start (after --window and --rate-scale: from the window's start). */
  readonly timestamp: number;
  readonly inputLength: number;
  readonly outputLength: number;
  /** Prefix blocks of TRACE_BLOCK_TOKENS tokens; the last one may be partial. */
  readonly hashIds: readonly number[];
}

/** Tokens per hash id in the Mooncake trace format. */
export const TRACE_BLOCK_TOKENS = 512;

function bad(file: string, line: number, why: string): BenchError {
  return new BenchError('PD_ERR_BENCH_USAGE', `${file}:${line}: ${why}`);
}

function nonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Reads a Mooncake-format trace: one JSON object per line with `timestamp` (ms), `input_length`,
 * `output_length` and `hash_ids`; blank lines skipped, anything else refused with its line number.
 */
export function readTrace(file: string): TraceRequest[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BenchError('PD_ERR_BENCH_USAGE', `--trace: cannot read ${file}: ${(error as Error).message}`);
  }
  const out: TraceRequest[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw bad(file, i + 1, 'not JSON');
    }
    if (typeof row !== 'object' || row === null) throw bad(file, i + 1, 'not an object');
    const r = row as Record<string, unknown>;
    const hashIds = r['hash_ids'];
    if (typeof r['timestamp'] !== 'number' || !Number.isFinite(r['timestamp']) || r['timestamp'] < 0)
      throw bad(file, i + 1, '"timestamp" must be a number of ms >= 0');
    if (!nonNegativeInteger(r['input_length']) || r['input_length'] < 1)
      throw bad(file, i + 1, '"input_length" must be an integer >= 1');
    if (!nonNegativeInteger(r['output_length']) || r['output_length'] < 1)
      throw bad(file, i + 1, '"output_length" must be an integer >= 1');
    if (!Array.isArray(hashIds) || !hashIds.every(nonNegativeInteger))
      throw bad(file, i + 1, '"hash_ids" must be an array of integers >= 0');
    out.push({
      timestamp: r['timestamp'],
      inputLength: r['input_length'],
      outputLength: r['output_length'],
      hashIds,
    });
  }
  out.sort((a, b) => a.timestamp - b.timestamp);
  return out;
}

export interface TraceSlice {
  /** Window in trace seconds; undefined = the whole trace. */
  readonly window?: { readonly startS: number; readonly endS: number } | undefined;
  /** Arrival rate multiplier: timestamps are divided by it (2 = twice the requests per second). */
  readonly rateScale: number;
}

/** The requests of a window, re-timed from its start and rate-scaled. */
export function sliceTrace(trace: readonly TraceRequest[], slice: TraceSlice): TraceRequest[] {
  const startMs = (slice.window?.startS ?? 0) * 1000;
  const endMs = slice.window === undefined ? Number.POSITIVE_INFINITY : slice.window.endS * 1000;
  return trace
    .filter((r) => r.timestamp >= startMs && r.timestamp < endMs)
    .map((r) => ({ ...r, timestamp: (r.timestamp - startMs) / slice.rateScale }));
}

/** Tokens of the trace block at `index` of a request (the last one is partial). */
export function blockTokens(r: TraceRequest, index: number): number {
  return Math.max(0, Math.min(TRACE_BLOCK_TOKENS, r.inputLength - index * TRACE_BLOCK_TOKENS));
}

/**
 * The prompt of a trace request: block `h` is the word `h<id>` followed by filler words `x`, so
 * that under mock-vllm's tokenization (whitespace-separated words) the prompt has exactly
 * `input_length` tokens and two requests share exactly the tokens of their common leading hash ids.
 * Blocks past `hash_ids` (a trace whose ids cover fewer tokens than its length) continue the last.
 */
export function tracePrompt(r: TraceRequest): string {
  const parts: string[] = [];
  const blocks = Math.ceil(r.inputLength / TRACE_BLOCK_TOKENS);
  for (let b = 0; b < blocks; b++) {
    const n = blockTokens(r, b);
    const id = r.hashIds[b];
    // A block without an id of its own is unique to this request: no other prompt shares it. A
    // partial block's id names partial content: it must not match the full block's words.
    const head = id === undefined ? `u${r.timestamp}_${b}` : n < TRACE_BLOCK_TOKENS ? `p${id}` : `h${id}`;
    parts.push(n > 1 ? `${head}${FILLER.repeat(n - 1)}` : head);
  }
  return parts.join(' ');
}

const FILLER = ' x';

/**
 * The prefix-cache hit rate the trace itself implies for one instance with a cache of
 * `capacityTokens`: requests in order, each looks up its leading hash ids (full blocks only), then
 * caches its full blocks; least recently used blocks go first. As in vLLM, a hit stops short of
 * the prompt's last token, in whole KV blocks of `kvBlockTokens`. Hit rate = tokens found / prompt
 * tokens.
 */
export function traceHitRate(
  trace: readonly TraceRequest[],
  capacityTokens: number,
  kvBlockTokens: number,
): number {
  const capacity = Math.floor(capacityTokens / TRACE_BLOCK_TOKENS);
  const lru = new Map<string, true>();
  let queried = 0;
  let hit = 0;
  for (const r of trace) {
    const full = Math.floor(r.inputLength / TRACE_BLOCK_TOKENS);
    const keys: string[] = [];
    let prefix = '';
    for (let b = 0; b < full; b++) {
      prefix = `${prefix}/${r.hashIds[b] ?? `u${r.timestamp}_${b}`}`;
      keys.push(prefix);
    }
    let matched = 0;
    while (matched < keys.length && lru.has(keys[matched] as string)) matched++;
    queried += r.inputLength;
    const limit = Math.floor((r.inputLength - 1) / kvBlockTokens) * kvBlockTokens;
    hit += Math.min(matched * TRACE_BLOCK_TOKENS, limit);
    // Touch in reverse so a prefix is more recent than its suffix, as the mock frees blocks.
    for (let b = keys.length - 1; b >= 0; b--) {
      const key = keys[b] as string;
      lru.delete(key);
      lru.set(key, true);
    }
    while (lru.size > capacity) lru.delete(lru.keys().next().value as string);
  }
  return queried === 0 ? 0 : hit / queried;
}
