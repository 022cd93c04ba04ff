import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ServerError } from '../errors.js';
import type { KeyValidator } from '../http/key-validator.js';
import { sendError } from './context.js';

export type AuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/** What a refusal says: the client routes' wording, or the admin API's. */
export interface AuthRealm {
  /** The `WWW-Authenticate` value. */
  readonly challenge: string;
  readonly message: string;
}

export const CLIENT_REALM: AuthRealm = { challenge: 'Bearer', message: 'missing or invalid API key' };
export const ADMIN_REALM: AuthRealm = {
  challenge: 'Bearer realm="pd-router admin"',
  message: 'missing or invalid admin API key',
};

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The one bearer-auth hook (client routes with `--client-api-key`, `/workers`, the admin API with
 * `--admin-api-key`): an onRequest hook that accepts `Authorization: Bearer <key>` for any of
 * `keys` and answers 401 `PD_ERR_UNAUTHORIZED` with `WWW-Authenticate` otherwise. Undefined when
 * no key is configured: no hook, no cost. With `validate` (vllm-router's `--api-key-validation-urls`),
 * a bearer token that is not among `keys` is let in when the validator says yes (cached, fail closed).
 *
 * Constant time, lengths included: both sides are SHA-256 digests (a plain buffer compare must
 * first check lengths, so the time to reject would tell a guess of the right length), and every
 * key is compared, without stopping at a match, so the time does not tell which key matched.
 *
 * @example
 * const hook = bearerAuth(['sk-1']);
 * if (hook) app.addHook('onRequest', hook);
 */
export function bearerAuth(
  keys: readonly string[],
  realm: AuthRealm = CLIENT_REALM,
  validate?: KeyValidator,
): AuthHook | undefined {
  if (keys.length === 0 && validate === undefined) return undefined;
  const expected = keys.map((k) => digest(`Bearer ${k}`));
  const refuse = (reply: FastifyReply): void => {
    reply.header('www-authenticate', realm.challenge);
    sendError(reply, new ServerError('PD_ERR_UNAUTHORIZED', realm.message));
  };
  return (request, reply, done) => {
    const given = request.headers.authorization;
    // Hashed even when absent, so a missing header costs what a wrong one does.
    const hash = digest(typeof given === 'string' ? given : '');
    let match = false;
    for (const e of expected) match = timingSafeEqual(e, hash) || match;
    if (match && typeof given === 'string') return done();
    const token = typeof given === 'string' && given.startsWith('Bearer ') ? given.slice(7) : '';
    if (validate === undefined || token === '') return refuse(reply);
    validate(token).then((valid) => (valid ? done() : refuse(reply)));
  };
}
