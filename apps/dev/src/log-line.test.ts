import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-line.js';

describe('formatLogLine', () => {
  it('prefixes plain lines with the process name', () => {
    expect(formatLogLine('decode-1', 'mock-vllm role=decode')).toBe('[decode-1] mock-vllm role=decode');
  });

  it('shows a pino line as level, message and its own fields', () => {
    const line = '{"level":30,"time":1,"pid":2,"hostname":"h","msg":"proxied request","status":200}';
    expect(formatLogLine('pd-router', line)).toBe('[pd-router] INFO proxied request {"status":200}');
    expect(formatLogLine('pd-router', '{"level":50,"msg":"boom"}')).toBe('[pd-router] ERROR boom');
  });

  it('leaves JSON that is not a log record, and broken JSON, as it is', () => {
    expect(formatLogLine('r', '{nope')).toBe('[r] {nope');
    expect(formatLogLine('r', '[1]')).toBe('[r] [1]');
  });
});
