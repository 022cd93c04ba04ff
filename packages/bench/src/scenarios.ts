import type { MockTiming } from './cluster/cluster-protocol.js';
import { BenchError } from './errors.js';
import type { LoadShape } from './load/generator.js';
import type { RequestSpec } from './targets/http-target.js';

/**
 * The load shapes the issue asks for. Bodies are built once per scenario and sent unchanged by
 * every target, so the router, the floor and other proxies see byte-identical requests.
 */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly request: RequestSpec;
  /** Load levels, run in order against each target. */
  readonly points: readonly LoadShape[];
  /** Mock timing for this scenario (overrides the run's preset where set). */
  readonly timing?: MockTiming;
  /** False: no warm-up (its drain would cost more than it teaches, as for long-lived streams). */
  readonly warmup?: boolean;
}

export interface ScenarioOptions {
  readonly quick: boolean;
  /** Replaces the closed-loop concurrencies of every selected scenario. */
  readonly concurrency?: readonly number[];
  /** Replaces the load levels with open-loop rates (requests/s). */
  readonly rates?: readonly number[];
}

const MODEL = 'meta-llama/Meta-Llama-3.1-8B-Instruct';
const CHAT = '/v1/chat/completions';
const PROMPT_100K_BYTES = 100 * 1024;
const DEFAULT_MAX_IN_FLIGHT = 4_096;

/** The seed chat request of the reference captures (fixtures/reference-proxy/01-seed-chat), 165 bytes. */
export const SEED_CHAT_BODY =
  '{"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 50, "temperature": 0.7}';

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** About `bytes` of prose, deterministic, with the odd non-ASCII character real text has. */
export function longPrompt(bytes: number): string {
  const paragraph =
    'The committee reviewed the quarterly figures in detail, noting that revenue grew while costs ' +
    'held steady; the naïve forecast from last spring — “flat at best” — proved too cautious. ' +
    'Summarise the key points, list the risks, and suggest three follow-up questions for the team. ';
  let text = '';
  while (Buffer.byteLength(text, 'utf8') < bytes) text += paragraph;
  return text;
}

/** A chat request for `content`; `fields` follow `messages` in the body, in their order. */
function chatRequest(content: string, fields: Readonly<Record<string, unknown>>): RequestSpec {
  const body = json({ model: MODEL, messages: [{ role: 'user', content }], ...fields });
  return { path: CHAT, body, stream: fields['stream'] === true };
}

function closed(concurrencies: readonly number[]): LoadShape[] {
  return concurrencies.map((concurrency) => ({ mode: 'closed', concurrency }));
}

interface ScenarioDef {
  readonly title: string;
  readonly request: () => RequestSpec;
  readonly concurrency: readonly number[];
  readonly quickConcurrency: readonly number[];
  readonly timing?: MockTiming;
  readonly quickTiming?: MockTiming;
  readonly warmup?: boolean;
}

const DEFS: Readonly<Record<string, ScenarioDef>> = {
  'chat-short': {
    title: 'Short chat, non-streaming (seed body, 50 tokens)',
    request: () => ({ path: CHAT, body: Buffer.from(SEED_CHAT_BODY, 'latin1'), stream: false }),
    concurrency: [1, 16, 64, 256],
    quickConcurrency: [1, 16],
  },
  'stream-256': {
    title: 'Streaming chat, 256-token answers',
    request: () =>
      chatRequest('Write a short story about a lighthouse keeper.', {
        max_tokens: 256,
        temperature: 0.7,
        stream: true,
      }),
    concurrency: [64, 512],
    quickConcurrency: [16],
  },
  'prompt-100k': {
    title: '100 KB prompts, non-streaming',
    request: () => chatRequest(longPrompt(PROMPT_100K_BYTES), { max_tokens: 16, temperature: 0 }),
    concurrency: [16],
    quickConcurrency: [4],
  },
  'streams-1000': {
    title: '1,000 long-lived streams (memory)',
    request: () => chatRequest('Tell me everything you know about rivers.', { max_tokens: 40, stream: true }),
    concurrency: [1_000],
    quickConcurrency: [50],
    // 40 tokens 100 ms apart: each stream stays open about 4 s, so ~1,000 are open at once, while
    // the token rate (10,000/s in all) stays within what two shared cores can move.
    timing: { interTokenMs: 100, maxConcurrency: 2_000 },
    quickTiming: { interTokenMs: 10, maxConcurrency: 2_000 },
    // Memory is the point here, and a warm-up would hold 1,000 streams for seconds more.
    warmup: false,
  },
  'chat-rate': {
    title: 'Short chat at fixed request rates (open loop)',
    request: () => ({ path: CHAT, body: Buffer.from(SEED_CHAT_BODY, 'latin1'), stream: false }),
    concurrency: [],
    quickConcurrency: [],
  },
};

const CHAT_RATE_RATES = [500, 1_000, 2_000];
const CHAT_RATE_QUICK_RATES = [100];

/** Scenarios run when none is named: the list. */
export const DEFAULT_SCENARIOS = ['chat-short', 'stream-256', 'prompt-100k', 'streams-1000'] as const;
/** Every scenario name. */
export const SCENARIO_NAMES: readonly string[] = Object.keys(DEFS);

/** Human label of a load level: `c=64` or `r=1000/s`. */
export function pointLabel(shape: LoadShape): string {
  return shape.mode === 'closed' ? `c=${shape.concurrency}` : `r=${shape.ratePerS}/s`;
}

/**
 * Resolves scenario names (`all` = every scenario) into runnable scenarios.
 *
 * @example buildScenarios(['chat-short'], { quick: true })[0].points; // c=1, c=16
 */
export function buildScenarios(names: readonly string[], options: ScenarioOptions): Scenario[] {
  const selected = names.includes('all') ? SCENARIO_NAMES : names;
  return selected.map((name) => {
    const def = DEFS[name];
    if (def === undefined) {
      throw new BenchError(
        'PD_ERR_BENCH_USAGE',
        `unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')}, all`,
      );
    }
    let points: LoadShape[];
    if (options.rates !== undefined) {
      points = options.rates.map((ratePerS) => ({
        mode: 'open',
        ratePerS,
        maxInFlight: DEFAULT_MAX_IN_FLIGHT,
      }));
    } else if (name === 'chat-rate') {
      points = (options.quick ? CHAT_RATE_QUICK_RATES : CHAT_RATE_RATES).map((ratePerS) => ({
        mode: 'open',
        ratePerS,
        maxInFlight: DEFAULT_MAX_IN_FLIGHT,
      }));
    } else {
      points = closed(options.concurrency ?? (options.quick ? def.quickConcurrency : def.concurrency));
    }
    const timing = options.quick ? (def.quickTiming ?? def.timing) : def.timing;
    return {
      name,
      title: def.title,
      request: def.request(),
      points,
      ...(timing === undefined ? {} : { timing }),
      ...(def.warmup === undefined ? {} : { warmup: def.warmup }),
    };
  });
}
