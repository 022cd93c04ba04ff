import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioResult } from './scenario.js';

/** apps/reliability/ */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The repository's docs/reliability.md. */
export const DOC_PATH = join(PACKAGE_DIR, '..', '..', 'docs', 'reliability.md');
/** Where each test file leaves its results (one JSON file per recorder), merged after the run. */
export const RESULTS_DIR = join(PACKAGE_DIR, '.vitest', 'results');
/** The merged results of the last run. */
export const MERGED_RESULTS_PATH = join(PACKAGE_DIR, '.vitest', 'reliability-results.json');

/**
 * Collects the results of one test file's scenarios and writes them to RESULTS_DIR/<name>.json
 * (call `flush()` in afterAll). A scenario recorded twice keeps its last result.
 *
 * @example
 * const recorder = new ResultRecorder('faults');
 * recorder.record({ id: 'faults/prefill/hang/json', observed: '504 `PD_ERR_PREFILL_TIMEOUT`' });
 * afterAll(() => recorder.flush());
 */
export class ResultRecorder {
  readonly #name: string;
  readonly #results = new Map<string, ScenarioResult>();

  constructor(name: string) {
    this.#name = name;
  }

  record(result: ScenarioResult): void {
    this.#results.set(result.id, result);
  }

  flush(): void {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      join(RESULTS_DIR, `${this.#name}.json`),
      `${JSON.stringify([...this.#results.values()], null, 2)}\n`,
    );
  }
}

/** Every result written by the recorders of this run. */
export function readResults(): Map<string, ScenarioResult> {
  const out = new Map<string, ScenarioResult>();
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const file of files.sort()) {
    const list = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as ScenarioResult[];
    for (const r of list) out.set(r.id, r);
  }
  return out;
}

/** Forgets the results of an earlier run (global setup). */
export function clearResults(): void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
}
