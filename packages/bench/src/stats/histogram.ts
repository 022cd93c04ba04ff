/**
 * A compact HDR-style latency histogram over integer microseconds.
 *
 * Values below 128 µs get one bucket each; above that, every power of two is split into 64
 * linear sub-buckets, so any recorded value is known to within 1/64 (about 1.6%) of itself.
 * 1,728 counters cover 0 µs to about 71 minutes in 14 KB, whatever the number of samples, so a
 * run of millions of requests costs no more memory than a run of ten, and recording is a few
 * integer operations (no allocation, no sort).
 */

const LINEAR_LIMIT = 128;
const SUB_BUCKETS = 64;
const SUB_BUCKET_BITS = 6;
/** Values are clamped to this (2^32 − 1 µs, about 71 minutes). */
export const MAX_TRACKABLE_US = 0xffff_ffff;
const BUCKET_COUNT = (31 - SUB_BUCKET_BITS + 2) * SUB_BUCKETS;

/** Bucket index of a non-negative integer value (µs). */
function indexOf(valueUs: number): number {
  if (valueUs < LINEAR_LIMIT) return valueUs;
  const msb = 31 - Math.clz32(valueUs);
  const shift = msb - SUB_BUCKET_BITS;
  return (shift + 1) * SUB_BUCKETS + (Math.floor(valueUs / 2 ** shift) - SUB_BUCKETS);
}

/** Inclusive [low, high] value range (µs) of a bucket. */
export function bucketRange(index: number): readonly [number, number] {
  if (index < LINEAR_LIMIT) return [index, index];
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = (index % SUB_BUCKETS) + SUB_BUCKETS;
  return [sub * 2 ** shift, (sub + 1) * 2 ** shift - 1];
}

/** Serialized form: sparse `[bucketIndex, count]` pairs plus exact aggregates. */
export interface HistogramJson {
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/**
 * Latency histogram (µs). Percentiles are reported as the midpoint of the bucket holding the
 * requested rank, clamped to the exact minimum and maximum seen.
 *
 * @example
 * const h = new Histogram();
 * h.record(1_250); // 1.25 ms
 * h.percentile(50); // ≈ 1_250
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKET_COUNT);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** Records one value in microseconds (fractions rounded; negatives count as 0). */
  record(valueUs: number): void {
    let v = Math.round(valueUs);
    if (!(v > 0)) v = 0;
    else if (v > MAX_TRACKABLE_US) v = MAX_TRACKABLE_US;
    this.#counts[indexOf(v)]! += 1;
    this.#count += 1;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  /** Exact mean of the recorded (rounded) values, or 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * Value at percentile `p` (0–100): the smallest recorded value such that at least p% of the
   * samples are at or below it, to bucket precision. 0 when empty.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    if (p <= 0) return this.min;
    if (p >= 100) return this.#max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const [low, high] = bucketRange(i);
        const mid = low === high ? low : (low + high) / 2;
        return Math.min(this.#max, Math.max(this.min, mid));
      }
    }
    return this.#max;
  }

  /** Adds every sample of `other` into this histogram. */
  merge(other: Histogram): void {
    const counts = other.#counts;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = counts[i]!;
      if (c !== 0) this.#counts[i]! += c;
    }
    if (other.#count === 0) return;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Non-empty buckets as `{ lowUs, highUs, count }`, in value order (for distribution charts). */
  buckets(): { lowUs: number; highUs: number; count: number }[] {
    const out: { lowUs: number; highUs: number; count: number }[] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const count = this.#counts[i]!;
      if (count === 0) continue;
      const [lowUs, highUs] = bucketRange(i);
      out.push({ lowUs, highUs, count });
    }
    return out;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.#counts[i]!;
      if (c !== 0) buckets.push([i, c]);
    }
    return { count: this.#count, sumUs: this.#sum, minUs: this.min, maxUs: this.#max, buckets };
  }

  /** Rebuilds a histogram from {@link Histogram.toJSON} output. */
  static fromJSON(json: HistogramJson): Histogram {
    const h = new Histogram();
    for (const [index, count] of json.buckets) {
      if (index >= 0 && index < BUCKET_COUNT) h.#counts[index]! += count;
    }
    h.#count = json.count;
    h.#sum = json.sumUs;
    h.#min = json.count === 0 ? Number.POSITIVE_INFINITY : json.minUs;
    h.#max = json.maxUs;
    return h;
  }
}
