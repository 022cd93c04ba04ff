import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the request path. prom-client re-validates and re-hashes the label
 * set on every `inc`/`observe`, even through a child bound with `.labels()`; these children are
 * plain objects whose updates are a few arithmetic operations. The registry reads them at scrape
 * time in prom-client's own format, so the exposition (and every other metric) is unchanged.
 */

type Labels = Readonly<Record<string, string>>;

interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: ExportedValue[];
  readonly aggregator: 'sum';
}

function key(values: readonly string[]): string {
  return values.join('\u0000');
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => {
    labels[name] = values[i] ?? '';
  });
  return labels;
}

abstract class FastMetric<C> {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  protected readonly children = new Map<string, { readonly labels: Labels; readonly child: C }>();

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    registry.registerMetric(this as unknown as Metric);
  }

  protected abstract create(): C;

  /** The child for these label values (created once; keep it: that is the point). */
  labels(...values: string[]): C {
    const k = key(values);
    let entry = this.children.get(k);
    if (entry === undefined) {
      entry = { labels: labelsOf(this.#labelNames, values), child: this.create() };
      this.children.set(k, entry);
    }
    return entry.child;
  }

  remove(...values: string[]): void {
    this.children.delete(key(values));
  }

  /** Drops every series whose labels match (e.g. all of a removed worker's). */
  removeWhere(match: (labels: Labels) => boolean): void {
    for (const [k, entry] of this.children) if (match(entry.labels)) this.children.delete(k);
  }

  reset(): void {
    this.children.clear();
  }
}

export class FastCounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** @example new FastCounter(registry, 'x_total', 'X.', ['route']).labels('/a').inc() */
export class FastCounter extends FastMetric<FastCounterChild> {
  readonly type = 'counter';

  protected create(): FastCounterChild {
    return new FastCounterChild();
  }

  async get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    for (const { labels, child } of this.children.values())
      values.push({ labels: { ...labels }, value: child.value });
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export class FastHistogramChild {
  readonly counts: Float64Array;
  readonly #bounds: readonly number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/** @example new FastHistogram(registry, 'x_seconds', 'X.', ['worker'], [0.1, 1]).labels('w').observe(0.2) */
export class FastHistogram extends FastMetric<FastHistogramChild> {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];

  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    super(registry, name, help, labelNames);
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  protected create(): FastHistogramChild {
    return new FastHistogramChild(this.#bounds);
  }

  async get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += child.counts[i] as number;
        values.push({
          labels: { le: bound, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      cumulative += child.counts[this.#bounds.length] as number;
      values.push({
        labels: { le: '+Inf', ...labels },
        value: cumulative,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: { ...labels }, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
