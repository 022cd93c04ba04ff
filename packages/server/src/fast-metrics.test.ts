import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from './fast-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];

describe('fast metrics export exactly what prom-client would', () => {
  it('histograms: buckets, sum and count per label set', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastHistogram(ours, 'x_seconds', 'X.', ['worker'], BUCKETS);
    const prom = new Histogram({
      name: 'x_seconds',
      help: 'X.',
      labelNames: ['worker'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const values = [0.0005, 0.001, 0.002, 0.5, 3, 10, 11, 0];
    for (const [i, v] of values.entries()) {
      const worker = i % 2 === 0 ? 'a' : 'b';
      fast.labels(worker).observe(v);
      prom.labels(worker).observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('counters, and removing a label set', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastCounter(ours, 'y_total', 'Y.', ['route', 'status']);
    const prom = new Counter({
      name: 'y_total',
      help: 'Y.',
      labelNames: ['route', 'status'],
      registers: [theirs],
    });
    for (const [route, status] of [
      ['/a', '200'],
      ['/a', '200'],
      ['/b', '502'],
      ['/c', '200'],
    ] as const) {
      fast.labels(route, status).inc();
      prom.labels(route, status).inc();
    }
    fast.remove('/c', '200');
    prom.remove('/c', '200');
    expect(await ours.metrics()).toBe(await theirs.metrics());
    fast.removeWhere((labels) => labels['route'] === '/a');
    expect(await ours.metrics()).toContain('y_total{route="/b",status="502"} 1');
    expect(await ours.metrics()).not.toContain('/a');
  });
});
