import { type BlockLease, PrefixCache } from './prefix-cache.js';
import { chunkPairs, type PerfProfile, type StepCosts, stepCosts, stepMs, transferMs } from './profile.js';

/** What the engine tells a request's writer: `n` new tokens, and whether the request is done. */
export interface TokenSink {
  onTokens(n: number, finished: boolean): void;
}

export interface PerfRequest {
  readonly promptTokens: number;
  /** Chained hashes of the prompt's full blocks (see tokenize.ts). */
  readonly hashes: readonly number[];
  /** Tokens to generate (at least 1). */
  readonly maxTokens: number;
  /** A decode whose prompt KV comes from a prefill: the uncached part is transferred, not computed. */
  readonly remotePrefill: boolean;
}

/** A handle to cancel a submitted request (client gone). */
export interface PerfTicket {
  cancel(): void;
}

type SeqState = 'waiting' | 'loading' | 'running' | 'done';

interface Seq {
  readonly req: PerfRequest;
  readonly sink: TokenSink;
  readonly arrival: number;
  state: SeqState;
  lease: BlockLease | undefined;
  hitBlocks: number;
  computed: number;
  generated: number;
  readyAt: number;
  unsent: number;
}

interface Planned {
  readonly seq: Seq;
  /** Prompt tokens computed by this step; 0 = one decode token. */
  readonly chunk: number;
}

interface Step {
  readonly end: number;
  readonly planned: readonly Planned[];
}

/** The TTFT histogram's bucket bounds in seconds: vLLM's vllm:time_to_first_token_seconds. */
export const TTFT_BUCKETS_S: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
];

/** Counters the engine keeps, rendered as vLLM's metrics. Times are model time. */
export class PerfStats {
  prefixQueries = 0;
  prefixHits = 0;
  readonly ttftCounts: number[] = new Array<number>(TTFT_BUCKETS_S.length).fill(0);
  ttftCount = 0;
  ttftSumS = 0;

  recordTtft(seconds: number): void {
    this.ttftCount++;
    this.ttftSumS += seconds;
    for (let i = 0; i < TTFT_BUCKETS_S.length; i++) {
      if (seconds <= (TTFT_BUCKETS_S[i] as number)) {
        this.ttftCounts[i] = (this.ttftCounts[i] as number) + 1;
        break;
      }
    }
  }
}

/** Steps run back to back while catching up before yielding the event loop. */
const MAX_STEPS_PER_TURN = 10_000;
/**
 * Wall milliseconds a decode token may wait to go out with the next ones. First and last tokens
 * go out at once (TTFT and end-to-end stay exact); the ones between are written in batches, or a
 * replayed cluster would spend its CPU on one write per token per step.
 */
const TOKEN_FLUSH_MS = 15;

/**
 * One instance's scheduler in model time, kept in step with the wall clock (model ms = wall ms x
 * timeScale). Each step: running requests first (a decode token each, or the next prefill chunk),
 * then waiting requests in arrival order while the token budget, the sequence limit and free KV
 * blocks allow (the head of the queue blocks the rest, as vLLM's FCFS). A step's time comes from
 * `stepMs`; its tokens are delivered when the wall clock reaches its end. When the process lags,
 * due steps run back to back and their tokens go out together.
 *
 * Simplification: a request reserves blocks for its prompt and all its output at admission, so
 * vLLM's preemption never happens here.
 */
export class PerfEngine {
  readonly profile: PerfProfile;
  readonly cache: PrefixCache;
  readonly stats = new PerfStats();
  readonly #costs: StepCosts;
  readonly #timeScale: number;
  readonly #origin = performance.now();
  readonly #waiting: Seq[] = [];
  readonly #loading: Seq[] = [];
  #running: Seq[] = [];
  /** Model time up to which the engine has run. */
  #t = 0;
  #pending: Step | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #dirty = new Set<Seq>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(profile: PerfProfile, timeScale: number, capacityTokens: number) {
    this.profile = profile;
    this.#costs = stepCosts(profile);
    this.#timeScale = timeScale;
    this.cache = new PrefixCache(Math.floor(capacityTokens / profile.blockSize));
  }

  /** vllm:num_requests_running. */
  get running(): number {
    return this.#running.length;
  }

  /** vllm:num_requests_waiting: queued, or waiting for remote KV. */
  get waiting(): number {
    return this.#waiting.length + this.#loading.length;
  }

  /** vllm:kv_cache_usage_perc (0..1): blocks held by requests over all blocks. */
  get kvUsage(): number {
    return this.cache.used / this.cache.capacity;
  }

  /** Model time now (ms). */
  now(): number {
    return (performance.now() - this.#origin) * this.#timeScale;
  }

  /** Wall milliseconds that `modelMs` of model time take. */
  wallMs(modelMs: number): number {
    return modelMs / this.#timeScale;
  }

  submit(req: PerfRequest, sink: TokenSink): PerfTicket {
    const seq: Seq = {
      req,
      sink,
      arrival: this.now(),
      state: 'waiting',
      lease: undefined,
      hitBlocks: 0,
      computed: 0,
      generated: 0,
      readyAt: 0,
      unsent: 0,
    };
    this.#waiting.push(seq);
    // No step in flight: the engine is idle or sleeping until a transfer ends; start now.
    if (this.#pending === undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#t = Math.max(this.#t, seq.arrival);
      this.#pump();
    }
    return { cancel: () => this.#cancel(seq) };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#timer = undefined;
    this.#flushTimer = undefined;
  }

  #cancel(seq: Seq): void {
    if (seq.state === 'done') return;
    const list =
      seq.state === 'waiting' ? this.#waiting : seq.state === 'loading' ? this.#loading : this.#running;
    const i = list.indexOf(seq);
    if (i !== -1) list.splice(i, 1);
    this.#finish(seq);
  }

  #finish(seq: Seq): void {
    seq.state = 'done';
    if (seq.lease !== undefined) this.cache.release(seq.lease);
    seq.lease = undefined;
  }

  #pump(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const vnow = this.now();
    const touched = new Set<Seq>();
    for (let n = 0; n < MAX_STEPS_PER_TURN; n++) {
      if (this.#pending !== undefined) {
        if (this.#pending.end > vnow) {
          this.#schedule(this.#pending.end - vnow);
          break;
        }
        this.#apply(this.#pending, touched);
        this.#t = this.#pending.end;
        this.#pending = undefined;
      }
      this.#pending = this.#compose();
      if (this.#pending !== undefined) continue;
      let next = Number.POSITIVE_INFINITY;
      for (const s of this.#loading) next = Math.min(next, s.readyAt);
      for (const s of this.#waiting) if (s.arrival > this.#t) next = Math.min(next, s.arrival);
      if (next === Number.POSITIVE_INFINITY) {
        this.#t = Math.max(this.#t, vnow);
        break;
      }
      if (next <= vnow) {
        this.#t = Math.max(this.#t, next);
        continue;
      }
      this.#t = Math.max(this.#t, vnow);
      this.#schedule(next - vnow);
      break;
    }
    if (this.#timer === undefined && this.#pending !== undefined) this.#schedule(0);
    for (const seq of touched) {
      // The first token (generated === unsent) and the last go out now; others wait for a flush.
      if (seq.state === 'done' || seq.generated === seq.unsent) this.#deliver(seq);
      else this.#dirty.add(seq);
    }
    if (this.#dirty.size > 0 && this.#flushTimer === undefined)
      this.#flushTimer = setTimeout(() => this.#flush(), TOKEN_FLUSH_MS);
  }

  #deliver(seq: Seq): void {
    this.#dirty.delete(seq);
    const n = seq.unsent;
    if (n === 0) return;
    seq.unsent = 0;
    seq.sink.onTokens(n, seq.state === 'done');
  }

  #flush(): void {
    this.#flushTimer = undefined;
    for (const seq of this.#dirty) this.#deliver(seq);
  }

  #schedule(modelMs: number): void {
    this.#timer = setTimeout(() => this.#pump(), Math.max(this.wallMs(modelMs), 0));
  }

  /** Decides the next step at model time #t, or undefined when nothing can run now. */
  #compose(): Step | undefined {
    const p = this.profile;
    for (let i = this.#loading.length - 1; i >= 0; i--) {
      const s = this.#loading[i] as Seq;
      if (s.readyAt <= this.#t) {
        this.#loading.splice(i, 1);
        s.state = 'running';
        this.#running.push(s);
      }
    }
    let budget = p.maxNumBatchedTokens;
    const planned: Planned[] = [];
    let prefillTokens = 0;
    let prefillPairs = 0;
    let decodeSeqs = 0;
    let decodeContext = 0;
    for (const s of this.#running) {
      if (budget <= 0) break;
      const left = s.req.promptTokens - s.computed;
      if (left > 0) {
        const chunk = Math.min(left, budget);
        planned.push({ seq: s, chunk });
        prefillTokens += chunk;
        prefillPairs += chunkPairs(s.computed, chunk);
        budget -= chunk;
      } else {
        planned.push({ seq: s, chunk: 0 });
        decodeSeqs++;
        decodeContext += s.req.promptTokens + s.generated;
        budget -= 1;
      }
    }
    while (budget > 0 && this.#waiting.length > 0) {
      if (this.#running.length + this.#loading.length >= p.maxNumSeqs) break;
      const s = this.#waiting[0] as Seq;
      if (s.arrival > this.#t || !this.#admit(s)) break;
      this.#waiting.shift();
      if (s.state === 'loading') continue;
      const chunk = Math.min(s.req.promptTokens - s.computed, budget);
      planned.push({ seq: s, chunk });
      prefillTokens += chunk;
      prefillPairs += chunkPairs(s.computed, chunk);
      budget -= chunk;
    }
    if (planned.length === 0) return undefined;
    const ms = stepMs(this.#costs, { prefillTokens, prefillPairs, decodeSeqs, decodeContext });
    return { end: this.#t + ms, planned };
  }

  /** Looks the prompt up in the prefix cache and reserves its blocks; false when KV is full. */
  #admit(s: Seq): boolean {
    const { promptTokens, hashes, maxTokens } = s.req;
    const block = this.profile.blockSize;
    // At least one prompt token is always computed (vLLM needs its logits).
    const hitBlocks = Math.min(this.cache.matchBlocks(hashes), Math.floor((promptTokens - 1) / block));
    const total = Math.ceil((promptTokens + maxTokens) / block);
    const lease = this.cache.allocate(hashes, hitBlocks, total - hitBlocks);
    if (lease === undefined) {
      if (this.#running.length === 0 && this.#loading.length === 0 && total > this.cache.capacity) {
        // Can never fit: vLLM refuses such a prompt up front; here it runs without caching.
        s.lease = { cached: [], anonymous: 0 };
      } else return false;
    } else s.lease = lease;
    this.stats.prefixQueries += promptTokens;
    this.stats.prefixHits += hitBlocks * block;
    s.hitBlocks = hitBlocks;
    s.computed = hitBlocks * block;
    if (s.req.remotePrefill) {
      // vLLM's connectors load all but the last prompt token; the decode computes that one.
      const moved = Math.max(promptTokens - 1 - s.computed, 0);
      s.computed = promptTokens - 1;
      s.readyAt = this.#t + transferMs(this.#costs, moved);
      s.state = 'loading';
      this.#loading.push(s);
    } else {
      s.state = 'running';
      this.#running.push(s);
    }
    return true;
  }

  #apply(step: Step, touched: Set<Seq>): void {
    let finished = false;
    for (const { seq, chunk } of step.planned) {
      if (seq.state !== 'running') continue; // cancelled meanwhile
      if (chunk > 0) {
        seq.computed += chunk;
        if (seq.computed < seq.req.promptTokens) continue;
        if (seq.lease !== undefined) this.cache.register(seq.lease, seq.req.hashes, seq.hitBlocks);
        this.stats.recordTtft((step.end - seq.arrival) / 1000);
      }
      seq.generated++;
      seq.unsent++;
      touched.add(seq);
      if (seq.generated >= seq.req.maxTokens) {
        this.#finish(seq);
        finished = true;
      }
    }
    if (finished) this.#running = this.#running.filter((s) => s.state === 'running');
  }
}
