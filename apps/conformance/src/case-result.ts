/**
 * The table's columns, in order: what one case must get right. The first six are the issue's
 * checks, named as it names them; `pair` is the round robin check (the reference's worker pair).
 */
export const COLUMNS = [
  'prefill body',
  'decode body',
  'headers',
  'request id',
  'prefill-before-decode',
  'client body',
  'pair',
] as const;
export type Column = (typeof COLUMNS)[number];

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  /** Per column: true (all requests of the case passed it), false, or undefined when not checked. */
  readonly columns: Readonly<Record<Column, boolean | undefined>>;
  /** Readable accounts of every failure, for the text below the table. */
  readonly problems: readonly string[];
  /** Why a skipped case was skipped. */
  readonly note?: string;
}

/**
 * The column a comparator check belongs to. Check names come from mock-vllm's conformance comparator
 * (`body`, `golden-match`, `request-line`, `header-names`, `header:<name>`, ...) and from this run
 * (`same-request-id`, `prefill-before-decode`, `round-robin-pair`).
 */
export function columnOf(check: string, role: 'prefill' | 'decode'): Column {
  if (check === 'body' || check === 'golden-match')
    return role === 'prefill' ? 'prefill body' : 'decode body';
  if (check === 'header:x-request-id' || check === 'same-request-id') return 'request id';
  if (check === 'prefill-before-decode') return 'prefill-before-decode';
  if (check === 'round-robin-pair') return 'pair';
  return 'headers';
}

/** Collects the outcome of one case, request by request: a column passes only if no request failed it. */
export class CaseRecorder {
  readonly #name: string;
  readonly #failed = new Set<Column>();
  readonly #problems: string[] = [];

  constructor(name: string) {
    this.#name = name;
  }

  fail(columns: Column | readonly Column[], problem: string): void {
    for (const c of typeof columns === 'string' ? [columns] : columns) this.#failed.add(c);
    this.#problems.push(problem);
  }

  failed(column: Column): boolean {
    return this.#failed.has(column);
  }

  result(): CaseResult {
    const columns = Object.fromEntries(COLUMNS.map((c) => [c, !this.#failed.has(c)])) as Record<
      Column,
      boolean
    >;
    const ok = this.#failed.size === 0 && this.#problems.length === 0;
    return { name: this.#name, status: ok ? 'passed' : 'failed', columns, problems: [...this.#problems] };
  }
}

/** A case that ran into something before any request (router did not start, ...): every column fails. */
export function failedCase(name: string, problem: string): CaseResult {
  const columns = Object.fromEntries(COLUMNS.map((c) => [c, false])) as Record<Column, boolean>;
  return { name, status: 'failed', columns, problems: [problem] };
}

export function skippedCase(name: string, note: string): CaseResult {
  const columns = Object.fromEntries(COLUMNS.map((c) => [c, undefined])) as Record<Column, undefined>;
  return { name, status: 'skipped', columns, problems: [], note };
}
