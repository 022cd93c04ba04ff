/** How long a mock instance takes to answer; every field is in milliseconds except the limits. */
export interface TimingOptions {
  /** Fixed part of the time to first token (queueing not included). */
  readonly ttftBaseMs: number;
  /** Prefill cost per prompt token, added to the TTFT of prefill and standalone ('both') requests. */
  readonly ttftPerPromptTokenMs: number;
  /** KV load cost per prompt token, added to the TTFT of a decode request once its KV has arrived. */
  readonly kvLoadPerPromptTokenMs: number;
  /** Pause between two generated tokens (decode inter-token latency). */
  readonly interTokenMs: number;
  /** Requests generating at once; the rest wait in a FIFO queue. 0 = unlimited. */
  readonly maxConcurrency: number;
  /** Requests allowed to wait for a slot; beyond it the mock answers 503. 0 = unlimited (vLLM's behaviour). */
  readonly maxQueue: number;
}

export type PresetName = 'instant' | 'realistic' | 'bench-fast';

/**
 * Named timing presets. `instant` (the default) answers as fast as the sockets allow, for tests;
 * `realistic` is roughly an 8B model on one GPU, for the dev stack; `bench-fast` keeps the shape of
 * `realistic` but 10x faster, so benchmarks measure the router rather than sleeping.
 */
export const TIMING_PRESETS: Readonly<Record<PresetName, TimingOptions>> = Object.freeze({
  instant: Object.freeze({
    ttftBaseMs: 0,
    ttftPerPromptTokenMs: 0,
    kvLoadPerPromptTokenMs: 0,
    interTokenMs: 0,
    maxConcurrency: 0,
    maxQueue: 0,
  }),
  realistic: Object.freeze({
    ttftBaseMs: 20,
    ttftPerPromptTokenMs: 0.05,
    kvLoadPerPromptTokenMs: 0.01,
    interTokenMs: 10,
    maxConcurrency: 64,
    maxQueue: 0,
  }),
  'bench-fast': Object.freeze({
    ttftBaseMs: 2,
    ttftPerPromptTokenMs: 0.005,
    kvLoadPerPromptTokenMs: 0.001,
    interTokenMs: 1,
    maxConcurrency: 256,
    maxQueue: 0,
  }),
});

export const PRESET_NAMES = Object.keys(TIMING_PRESETS) as readonly PresetName[];

export function isPresetName(value: string): value is PresetName {
  return Object.hasOwn(TIMING_PRESETS, value);
}
