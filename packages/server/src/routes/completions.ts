import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerAuth } from './auth.js';
import { Exchange } from './exchange.js';

/** The two proxied routes of the reference (and of vLLM's OpenAI server). */
export const PROXY_ROUTES = ['/v1/completions', '/v1/chat/completions'] as const;

/**
 * `application/json` with any parameters, and `application/*+json`: what Quart's `is_json`
 * (the reference) accepts. Anything else is 415; a body is never parsed here, only buffered.
 */
const JSON_TYPE = 'application/json';
const JSON_SUFFIX_TYPE = /^application\/[^;\s]+\+json\s*(?:;|$)/i;

function yieldBuffer(
  _request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, body?: Buffer) => void,
) {
  done(null, body);
}

/**
 * The proxied completion routes (an encapsulated route plugin: its body parser and auth hook
 * apply to these routes only). The body arrives as a Buffer, bounded by `maxPayloadSize`
 * (Fastify answers 413 from Content-Length before reading, or as soon as the limit is crossed),
 * and is parsed exactly once, by the connector (core's canonicalizer).
 */
export async function completionsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  app.removeAllContentTypeParsers();
  const parserOptions = { parseAs: 'buffer', bodyLimit: ctx.config.maxPayloadSize } as const;
  app.addContentTypeParser(JSON_TYPE, parserOptions, yieldBuffer);
  app.addContentTypeParser(JSON_SUFFIX_TYPE, parserOptions, yieldBuffer);
  const auth = bearerAuth(ctx.config.apiKeys);
  if (auth !== undefined) app.addHook('onRequest', auth);
  for (const path of PROXY_ROUTES) {
    const route = { path };
    app.post(
      path,
      { bodyLimit: ctx.config.maxPayloadSize },
      (request: FastifyRequest, reply: FastifyReply) => {
        // Not returned: the exchange answers (or hijacks) on its own, and a client that left gets nothing.
        void new Exchange(ctx, request, reply, route).run();
      },
    );
  }
}
