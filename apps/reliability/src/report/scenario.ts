/** The sections of docs/reliability.md, in order. */
export const SCENARIO_GROUPS = [
  'faults',
  'clients',
  'intake',
  'bad-input',
  'load',
  'security',
  'fuzz',
] as const;

export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

/** One scenario of the suite: what is done, and what the client must see. */
export interface Scenario {
  /** Stable id, `group/name[/variant]`: the row key of docs/reliability.md. */
  readonly id: string;
  readonly group: ScenarioGroup;
  /** What the scenario does, in a few words (Markdown allowed). */
  readonly title: string;
  /** What the client must see (Markdown), e.g. "504 `PD_ERR_PREFILL_TIMEOUT`". */
  readonly expect: string;
}

/** What one run of a scenario measured; written by the tests, rendered into the doc. */
export interface ScenarioResult {
  readonly id: string;
  /** What the client saw, in the same words as `Scenario.expect` when it matched. */
  readonly observed: string;
  /** Time to answer (ms), when it means something for the scenario. */
  readonly timeMs?: number;
  /** State after the scenario, e.g. "0 in flight, 0 inbound, upstream 1=1". */
  readonly after?: string;
  /** Extra numbers (load runs: p99, peak RSS...). */
  readonly metrics?: Readonly<Record<string, number | string>>;
}
