import { createPairSelector, type PolicyName, type RoutingRequest, type WorkerView } from '@pd-router/server';

/**
 * The policy-decision micro-benchmark (`pd-bench policy-scale`): one pair selector over P prefill
 * and D decode workers, its prefix knowledge filled past `--max-tree-size` first, then timed
 * decisions. Each decision is one `select` plus the two `release`s a request makes, timed alone,
 * including the prompt's one-time chunk hashing (pd_aware) or tree walk (cache_aware).
 */
export interface PolicyScaleOptions {
  readonly policy: PolicyName;
  readonly prefills: number;
  readonly decodes: number;
  readonly maxTreeSize: number;
  /** Characters per prompt; prompts share their first half with a few others. */
  readonly promptChars: number;
  readonly decisions: number;
}

export interface PolicyScaleResult {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** Decisions made before timing, to fill the prefix knowledge past --max-tree-size. */
  readonly fillDecisions: number;
  readonly heapMb: number;
}

function workers(role: 'prefill' | 'decode', n: number): WorkerView[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${role}:http://10.0.${i >> 8}.${i & 255}:8000`,
    role,
    url: `http://10.0.${i >> 8}.${i & 255}:8000`,
    inFlight: 0,
  }));
}

function request(text: string): RoutingRequest {
  return { hashKey: () => text, promptText: () => text };
}

/** A prompt of `chars` characters: a shared head (one of 64) and a unique tail. */
function prompt(i: number, chars: number): string {
  const head = `system prompt ${i % 64} `.padEnd(chars >> 1, 'h');
  return `${head}${`user ${i} `.padEnd(chars - head.length, 'u')}`;
}

/**
 * @example
 * runPolicyScale({ policy: 'pd_aware', prefills: 1000, decodes: 1000, maxTreeSize: 1 << 24, promptChars: 4096, decisions: 20000 })
 */
export function runPolicyScale(o: PolicyScaleOptions): PolicyScaleResult {
  const selector = createPairSelector({
    prefillPolicy: o.policy,
    decodePolicy: o.policy,
    cacheAware: {
      cacheThreshold: 0.3,
      balanceAbsThreshold: 64,
      balanceRelThreshold: 1.5,
      maxTreeSize: o.maxTreeSize,
    },
    decodeFirstTokens: 512,
  });
  const prefills = workers('prefill', o.prefills);
  const decodes = workers('decode', o.decodes);
  const once = (text: string): number => {
    const r = request(text);
    const t0 = performance.now();
    const choice = selector.select(prefills, decodes, r);
    if (!('empty' in choice)) {
      selector.release?.(choice.prefill, r);
      selector.release?.(choice.decode, r);
    }
    return performance.now() - t0;
  };
  // Fill the prefix knowledge past its bound so every measured decision runs on a full index.
  const fill = Math.ceil((o.maxTreeSize * 1.2) / o.promptChars);
  for (let i = 0; i < fill; i++) once(prompt(i, o.promptChars));
  const times = new Float64Array(o.decisions);
  for (let i = 0; i < o.decisions; i++) times[i] = once(prompt(fill + i, o.promptChars)) * 1000;
  times.sort();
  const at = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
  return {
    p50Us: at(0.5),
    p99Us: at(0.99),
    maxUs: times[times.length - 1] as number,
    fillDecisions: fill,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

export const POLICY_SCALE_HELP = `pd-bench policy-scale: time one routing decision (select + release) with many workers and a
full prefix index, in this process (no network).

Usage: pd-bench policy-scale [--policy NAME] [--prefills N] [--decodes M] [--max-tree-size CHARS]
                             [--prompt-chars K] [--decisions D]

Defaults: --policy pd_aware --prefills 1000 --decodes 1000 --max-tree-size 16777216
          --prompt-chars 4096 --decisions 20000
`;
