import { request } from 'undici';

/** Answers whether a bearer token is valid; never rejects. */
export type KeyValidator = (token: string) => Promise<boolean>;

export interface KeyValidatorOptions {
  /** vllm-router's `--api-key-validation-urls`: a token is valid when a GET to one of them answers 200. */
  readonly urls: readonly string[];
  /** How long an answer is trusted (vllm-router caches forever: a revoked key would stay valid). */
  readonly cacheTtlMs: number;
  /** Budget of one validation GET; a URL that does not answer in time says no (fail closed). */
  readonly timeoutMs: number;
  /** Most tokens remembered; the oldest entry is dropped beyond it, so a flood of made-up tokens is bounded. */
  readonly maxEntries: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface Entry {
  readonly valid: Promise<boolean>;
  readonly expiresAt: number;
}

/**
 * A cached, fail-closed validator of client bearer tokens against vllm-router's validation URLs:
 * `GET url` with `Authorization: Bearer <token>`; any 200 makes the token valid, anything else
 * (another status, a refused connection, a timeout) does not. Concurrent checks of one token share
 * one round of GETs, and each answer, yes or no, is kept for `cacheTtlMs`.
 *
 * @example
 * const validate = createKeyValidator({ urls: ['http://auth.internal/check'], cacheTtlMs: 60_000, timeoutMs: 5_000, maxEntries: 10_000 });
 * if (await validate('sk-123')) { ... }
 */
export function createKeyValidator(options: KeyValidatorOptions): KeyValidator {
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const check = async (token: string): Promise<boolean> => {
    for (const url of options.urls) {
      try {
        const answer = await request(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}` },
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        await answer.body.dump();
        if (answer.statusCode === 200) return true;
      } catch {
        // Fail closed: an unreachable validator never lets a token in.
      }
    }
    return false;
  };
  return (token) => {
    const at = now();
    const cached = cache.get(token);
    if (cached !== undefined && cached.expiresAt > at) return cached.valid;
    cache.delete(token);
    if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value as string);
    const valid = check(token);
    cache.set(token, { valid, expiresAt: at + options.cacheTtlMs });
    return valid;
  };
}
