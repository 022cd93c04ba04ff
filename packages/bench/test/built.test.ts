import { describe, expect, it } from 'vitest';
import { buildGate, isCi } from './built.js';

describe('buildGate', () => {
  it('skips the end-to-end tests on a missing build outside CI', () => {
    const warnings: string[] = [];
    const gate = buildGate('not built: @pd-router/bench', {}, (m) => warnings.push(m));
    expect(gate.skip).toBe(true);
    expect(warnings).toEqual(['end-to-end tests skipped: not built: @pd-router/bench']);
  });

  it('fails them on a missing build in CI instead of skipping', () => {
    const gate = buildGate('not built: @pd-router/bench', { CI: 'true' });
    expect(gate.skip).toBe(false);
    expect(() => gate.check()).toThrow(
      /CI is set and the end-to-end tests cannot run: not built: @pd-router\/bench/,
    );
  });

  it('runs them when everything is built, in CI or not', () => {
    for (const env of [{}, { CI: 'true' }]) {
      const gate = buildGate(undefined, env);
      expect(gate.skip).toBe(false);
      expect(() => gate.check()).not.toThrow();
    }
  });

  it.each([
    [undefined, false],
    ['', false],
    ['0', false],
    ['false', false],
    ['FALSE', false],
    ['true', true],
    ['1', true],
    ['yes', true],
  ])('CI=%s counts as CI: %s', (value, expected) => {
    expect(isCi(value === undefined ? {} : { CI: value })).toBe(expected);
  });
});
