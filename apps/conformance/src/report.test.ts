import { describe, expect, it } from 'vitest';
import { CaseRecorder, columnOf, failedCase, skippedCase } from './case-result.js';
import { renderProblems, renderTable, summaryLine, tally } from './report.js';

describe('report', () => {
  const passed = new CaseRecorder('01-seed-chat').result();
  const broken = new CaseRecorder('05-duplicate-keys-chat');
  broken.fail(columnOf('body', 'decode'), 'decode request differs:\n  body: bodies differ at byte 3');
  broken.fail(columnOf('prefill-before-decode', 'decode'), 'decode arrived first');
  const results = [passed, broken.result(), skippedCase('nixl/01', 'skipped: router has no NIXL')];

  it('renders one aligned row per case with a mark per column', () => {
    expect(renderTable(results).split('\n')).toEqual([
      'case                    prefill body  decode body  headers  request id  prefill-before-decode  client body  pair',
      '----------------------------------------------------------------------------------------------------------------',
      '01-seed-chat            ✓             ✓            ✓        ✓           ✓                      ✓            ✓',
      '05-duplicate-keys-chat  ✓             ✗            ✓        ✓           ✗                      ✓            ✓',
      'nixl/01                 -             -            -        -           -                      -            -  skipped: router has no NIXL',
    ]);
  });

  it('lists the failures of failed cases only, indented', () => {
    expect(renderProblems(results)).toBe(
      [
        '✗ 05-duplicate-keys-chat',
        '    decode request differs:',
        '      body: bodies differ at byte 3',
        '    decode arrived first',
      ].join('\n'),
    );
  });

  it('counts and closes with the summary line', () => {
    const t = tally([...results, failedCase('x', 'router did not start')]);
    expect(t).toEqual({ passed: 1, failed: 2, skipped: 1 });
    expect(summaryLine(t)).toBe('1 passed, 2 failed');
  });

  it('maps comparator checks to columns', () => {
    expect(columnOf('body', 'prefill')).toBe('prefill body');
    expect(columnOf('golden-match', 'decode')).toBe('decode body');
    expect(columnOf('header:x-request-id', 'prefill')).toBe('request id');
    expect(columnOf('same-request-id', 'decode')).toBe('request id');
    expect(columnOf('prefill-before-decode', 'decode')).toBe('prefill-before-decode');
    expect(columnOf('round-robin-pair', 'decode')).toBe('pair');
    expect(columnOf('header:content-length', 'prefill')).toBe('headers');
    expect(columnOf('request-line', 'decode')).toBe('headers');
  });
});
