import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { goldenPrefillAnswer } from './golden-answer.js';
import { findCase, nixlCases, randomId, referenceCases } from './test-support.js';

describe('goldenPrefillAnswer', () => {
  test('NIXL: the captured prefill answer with this request id', () => {
    const round = findCase(nixlCases, '01-seed-chat').rounds[0]!;
    const id = randomId('nixl');
    const answer = goldenPrefillAnswer(round, id);
    expect(answer?.status).toBe(200);
    expect(answer?.contentType).toBe('application/json');
    const text = Buffer.from(answer!.body).toString('utf8');
    expect(text).toContain(`"id":"chatcmpl-${id}"`);
    expect(text).toContain(`"remote_request_id":"chatcmpl-${id}"`);
    expect(text).not.toContain('{uuid}');
    // The capture's own bytes come back when its own id is used.
    const captured = findCase(nixlCases, '01-seed-chat');
    const raw = readFileSync(`${captured.dir}/prefill.response.http`);
    const capturedBody = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    expect(Buffer.from(goldenPrefillAnswer(round, '059847b8-40c4-4e00-b190-aa4809d6033b')!.body)).toEqual(
      capturedBody,
    );
  });

  test('P2P NCCL rounds have none', () => {
    expect(goldenPrefillAnswer(findCase(referenceCases, '01-seed-chat').rounds[0]!, 'x')).toBeUndefined();
  });
});
