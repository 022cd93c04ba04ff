/**
 * A very small SVG vocabulary: escaped text, numbers with bounded precision, and "nice" axis ticks.
 * Enough for line charts without a charting dependency.
 */

/** Escapes text for SVG content and attribute values. */
export function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A coordinate with at most one decimal (keeps files small and diffs readable). */
export function num(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Round tick values from 0 up to at least `max`: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  // Multiply rather than accumulate, and trim float noise (3 × 0.2 is 0.6000000000000001).
  for (let k = 0; k * step < max + step * 0.999; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (for log axes). */
export function decadeTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-6)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-6)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return ticks;
}

/** Short axis label: 12000 → `12k`, 0.5 → `0.5`. */
export function shortNumber(n: number): string {
  if (n >= 1_000_000) return `${Number((n / 1_000_000).toPrecision(3))}M`;
  if (n >= 1_000) return `${Number((n / 1_000).toPrecision(3))}k`;
  return String(Number(n.toPrecision(3)));
}

/** Series colours: the floor grey, the router blue, others after. */
export const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2'];
export const FLOOR_COLOUR = '#6b7280';
