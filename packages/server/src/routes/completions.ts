import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Admission } from '../admission/admission.js';
import { AdmissionMetrics, admissionHook } from '../admission/admission-hook.js';
import { DEFAULT_INTAKE_CONFIG } from '../config/schema.js';
import type { AdmissionConfig } from '../config/types.js';
import { ServerError } from '../errors.js';
import { BODY_RATE_WINDOW_MS, bodyParser } from '../intake/body.js';
import { SlicedParses } from '../intake/parse-slices.js';
import { contentCodings } from '../stream/decompress.js';
import { bearerAuth, CLIENT_REALM } from './auth.js';
import { Exchange } from './exchange.js';

/** The two proxied routes of the reference (and of vLLM's OpenAI server). */
export const PROXY_ROUTES = ['/v1/completions', '/v1/chat/completions'] as const;

/**
 * `application/json` with any parameters, and `application/*+json`: what Quart's `is_json`
 * (the reference) accepts. Anything else is 415; a body is never parsed here, only buffered.
 */
const JSON_TYPE = 'application/json';
const JSON_SUFFIX_TYPE = /^application\/[^;\s]+\+json\s*(?:;|$)/i;

type BodyDone = (error: Error | null, body?: Buffer) => void;

/** A header value quoted in a message is cut to this length. */
const QUOTED_HEADER_CHARS = 64;

/**
 * Refuses compressed request bodies with 415 (RFC 9110's answer to an unsupported content coding),
 * before the body is read. Decoding them is not worth it: neither vLLM nor the reference proxy
 * accepts them (the reference fails on the compressed bytes as JSON), the body must reach the
 * canonicalizer as the client's own JSON bytes, and inflating would need a second, output-side
 * size limit against decompression bombs.
 */
function refuseContentEncoding(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
  const encoding = request.headers['content-encoding'];
  if (contentCodings(encoding).length === 0) {
    done();
    return;
  }
  const shown = String(encoding).slice(0, QUOTED_HEADER_CHARS);
  done(
    new ServerError(
      'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
      `compressed request bodies are not supported (Content-Encoding: ${shown}); send the JSON body uncompressed`,
    ),
  );
}

/** A hand-built Config without `admission`: no cap, no queue, no rate (its metrics still exist). */
const NO_ADMISSION_LIMITS: AdmissionConfig = {
  maxConcurrentRequests: 0,
  queueSize: 0,
  queueTimeoutMs: 60_000,
  rateLimitTokensPerSecond: undefined,
};

/** Admission control (docs/admission.md): after auth and body intake, before the exchange. */
function installAdmission(app: FastifyInstance, config: AdmissionConfig): void {
  const cap = config.maxConcurrentRequests;
  const admission = new Admission({
    maxConcurrent: cap,
    queueSize: config.queueSize,
    queueTimeoutMs: config.queueTimeoutMs,
    // The Python launcher's default: as many tokens per second as the cap (no bucket without one).
    tokensPerSecond: config.rateLimitTokensPerSecond ?? (cap > 0 ? cap : Number.POSITIVE_INFINITY),
    now: () => performance.now(),
  });
  const metrics = new AdmissionMetrics(app.pd.metrics.registry, admission);
  app.addHook('preHandler', admissionHook(admission, metrics, config.queueTimeoutMs));
  app.addHook('onClose', async () => admission.close());
}

/**
 * The proxied completion routes (an encapsulated route plugin: its body parser and auth hook
 * apply to these routes only). The body arrives as one Buffer (intake/body.ts: 413 from
 * Content-Length before reading or as soon as the limit is crossed, 408 past its deadline or
 * below its minimum rate) and is parsed exactly once, by the connector (core's canonicalizer):
 * a large one here, in slices within the parse budget (intake/parse-slices.ts), others by the
 * exchange.
 */
export async function completionsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.pd;
  app.removeAllContentTypeParsers();
  const intake = ctx.config.intake ?? DEFAULT_INTAKE_CONFIG;
  const readBody = bodyParser({
    limit: ctx.config.maxPayloadSize,
    timeoutMs: intake.bodyTimeoutMs,
    minRate: intake.bodyMinRate,
    rateWindowMs: BODY_RATE_WINDOW_MS,
  });
  const parses = new SlicedParses(intake.parseBudgetBytes);
  const connector = ctx.connector;
  const parseJsonBody = (request: FastifyRequest, payload: IncomingMessage, done: BodyDone): void => {
    readBody(request, payload, (error, body) => {
      if (error !== null || body === undefined || !parses.wants(body, connector)) {
        done(error, body);
        return;
      }
      parses.parse(body, connector).then(
        (refusal) => (refusal === undefined ? done(null, body) : done(refusal)),
        (failure: unknown) => done(failure instanceof Error ? failure : new Error(String(failure))),
      );
    });
  };
  app.addContentTypeParser(JSON_TYPE, { bodyLimit: ctx.config.maxPayloadSize }, parseJsonBody);
  app.addContentTypeParser(JSON_SUFFIX_TYPE, { bodyLimit: ctx.config.maxPayloadSize }, parseJsonBody);
  const auth = bearerAuth(ctx.config.apiKeys, CLIENT_REALM, ctx.keyValidator);
  if (auth !== undefined) app.addHook('onRequest', auth);
  // After the key check: an unauthenticated client learns nothing about the body it sent.
  app.addHook('onRequest', refuseContentEncoding);
  installAdmission(app, ctx.config.admission ?? NO_ADMISSION_LIMITS);
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
