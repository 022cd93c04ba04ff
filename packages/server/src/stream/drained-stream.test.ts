import { describe, expect, it } from 'vitest';
import { checkDrainedStream } from './drained-stream.js';

const chunk = (finish: string) =>
  `data: {"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":" tok0"${finish}}]}\n\n`;

describe('checkDrainedStream: is a drained prefill stream a complete answer?', () => {
  it.each([
    ['a finished choice and [DONE] (vLLM)', `${chunk(',"finish_reason":"length"')}data: [DONE]\n\n`],
    ['a finished choice, no [DONE]', chunk(', "finish_reason": "stop"')],
    // Servers that omit finish_reason (and the acceptance harness's fake prefill) still end with [DONE].
    ['no finish_reason field, then [DONE]', `${chunk('')}data: [DONE]\n\n`],
    ['finish_reason null, then [DONE]', `${chunk(',"finish_reason":null')}data: [DONE]\n\n`],
  ])('complete: %s', (_name, stream) => {
    expect(checkDrainedStream(Buffer.from(stream))).toBeUndefined();
  });

  it.each([
    ['finish_reason null and no [DONE]', chunk(',"finish_reason":null')],
    ['no finish_reason and no [DONE]', chunk('')],
    ['nothing at all', ''],
  ])('cut short: %s', (_name, stream) => {
    expect(checkDrainedStream(Buffer.from(stream))).toBe('ended its stream without finishing');
  });

  it('an error event wins over [DONE], with its message', () => {
    const stream = 'data: {"error": {"message": "engine step failed", "code": 500}}\n\ndata: [DONE]\n\n';
    expect(checkDrainedStream(Buffer.from(stream))).toBe(
      'ended its stream with an error: engine step failed',
    );
  });
});
