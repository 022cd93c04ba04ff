#!/usr/bin/env node
/**
 * `pd-router`: reads the command line (and `--config FILE`), validates it, builds the server and
 * listens. Exit status: 0 after a clean shutdown (or --help/--version), 1 when the server cannot
 * start, 2 for bad flags or configuration. The server module is imported only after the
 * configuration is valid, so --help and configuration errors never depend on it.
 */
import { exitWithParent } from '@pd-router/core';
import type { FastifyInstance } from 'fastify';
import { formatConfigIssue } from './config/config-error.js';
import { loadConfigFromArgs } from './config/load.js';
import { parseArgv } from './config/parse-argv.js';
import { helpText } from './config/render.js';
import { DEFAULT_INTAKE_CONFIG } from './config/schema.js';
import type { Config } from './config/types.js';
import { VERSION } from './version.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

function say(line: string): void {
  process.stderr.write(`pd-router: ${line}\n`);
}

async function main(): Promise<number | undefined> {
  const parsed = parseArgv(process.argv.slice(2));
  // `--version extra` is a mistake (a typo, a flag's value gone astray), not a version request.
  if ((parsed.help || parsed.version) && parsed.strays.length > 0) {
    const flag = parsed.help ? '--help' : '--version';
    for (const stray of parsed.strays) say(`${stray}: unexpected argument (${flag} takes no arguments)`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    process.stdout.write(helpText(VERSION));
    return EXIT_OK;
  }
  if (parsed.version) {
    process.stdout.write(`pd-router ${VERSION}\n`);
    return EXIT_OK;
  }
  const result = loadConfigFromArgs(parsed, { env: process.env });
  if (!result.ok) {
    for (const issue of result.error.issues) say(formatConfigIssue(issue));
    say("run 'pd-router --help' for every flag and its default");
    return EXIT_USAGE;
  }
  for (const warning of result.warnings) say(`warning: ${warning}`);
  const config = result.value;

  let app: FastifyInstance;
  try {
    const { buildServer } = await import('./app.js');
    app = await buildServer(config);
  } catch (error) {
    say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }
  handleSignals(app, config.shutdownTimeoutMs);
  exitWithParent();
  try {
    await app.listen({
      host: config.host,
      port: config.port,
      backlog: (config.intake ?? DEFAULT_INTAKE_CONFIG).backlog,
    });
  } catch (error) {
    say(listenErrorMessage(error, config));
    await app.close().catch(() => undefined);
    return EXIT_FAILURE;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const policy =
    config.prefillPolicy === config.decodePolicy
      ? config.prefillPolicy
      : `${config.prefillPolicy} (prefill) / ${config.decodePolicy} (decode)`;
  const metricsAt =
    config.prometheusPort === 0
      ? `http://${host}:${port}/metrics`
      : `http://${config.prometheusHost.includes(':') ? `[${config.prometheusHost}]` : config.prometheusHost}:${config.prometheusPort}/metrics`;
  const urls = (workers: Config['prefill']) => workers.map((w) => w.address.url).join(' ') || 'none yet';
  app.log.info(
    `pd-router listening on http://${host}:${port} (prefill: ${config.prefill.length}, decode: ${config.decode.length}, policy: ${policy}, connector: ${config.kvConnector}, metrics: ${metricsAt}; prefill workers: ${urls(config.prefill)}; decode workers: ${urls(config.decode)})`,
  );
  void awaitWorkers(app, config);
  return undefined;
}

/**
 * `--worker-startup-timeout-secs`: /readiness answers 503 until every static worker has answered
 * GET /health 200 once (requests are served meanwhile, as the health checks allow); when the time
 * runs out first, the process stops with status 1, naming the workers still down.
 */
async function awaitWorkers(app: FastifyInstance, config: Config): Promise<void> {
  const timeoutSecs = config.startup?.timeoutSecs ?? 0;
  const urls = [...config.prefill, ...config.decode].map((w) => w.address.url);
  if (timeoutSecs === 0 || urls.length === 0) return;
  const stop = new AbortController();
  app.server.once('close', () => stop.abort());
  const waiting = (down: readonly string[]) =>
    `waiting for workers to answer /health (${urls.length - down.length} of ${urls.length}; down: ${down.join(' ')})`;
  app.pd.startup = waiting(urls);
  const { waitForWorkers } = await import('./startup-wait.js');
  const down = await waitForWorkers({
    urls,
    timeoutMs: timeoutSecs * 1_000,
    intervalMs: (config.startup?.checkIntervalSecs ?? 1) * 1_000,
    signal: stop.signal,
    onRound: (down) => {
      if (down.length > 0) app.pd.startup = waiting(down);
    },
  });
  if (stop.signal.aborted) return;
  if (down.length === 0) {
    app.pd.startup = undefined;
    app.log.info(`all ${urls.length} workers answer /health: ready`);
    return;
  }
  say(`workers still down after --worker-startup-timeout-secs ${timeoutSecs}: ${down.join(' ')}`);
  await app.close().catch(() => undefined);
  flushLogs(app);
  process.exit(EXIT_FAILURE);
}

/**
 * First SIGTERM/SIGINT: stop accepting, let in-flight requests finish (Fastify's close), and exit
 * 0 when they have, or when shutdownTimeoutMs runs out (remaining connections die with the
 * process). A second signal exits at once.
 */
function handleSignals(app: FastifyInstance, shutdownTimeoutMs: number): void {
  let closing = false;
  const onSignal = (signal: keyof typeof SIGNAL_NUMBERS): void => {
    if (closing) {
      say(`${signal} again: exiting now`);
      process.exit(128 + SIGNAL_NUMBERS[signal]);
    }
    closing = true;
    app.log.info(`${signal} received: finishing in-flight requests (up to ${shutdownTimeoutMs} ms)`);
    const timer = setTimeout(() => {
      app.log.warn(`shutdown: in-flight requests still running after ${shutdownTimeoutMs} ms; exiting`);
      flushLogs(app);
      process.exit(EXIT_OK);
    }, shutdownTimeoutMs);
    app.close().then(
      () => {
        clearTimeout(timer);
        app.log.info('pd-router stopped');
        // close() has closed the batching log destination (and its flush on exit): flush by hand.
        flushLogs(app);
        process.exit(EXIT_OK);
      },
      (error: unknown) => {
        clearTimeout(timer);
        say(`error while shutting down: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

/**
 * Writes out the log lines still batched (BatchedLogDestination holds them up to 25 ms), through
 * pino's logger.flush(), which calls the destination's synchronous flush(). Needed before
 * process.exit() once close() has run: the destination's own flush on exit is removed then.
 */
function flushLogs(app: FastifyInstance): void {
  (app.log as FastifyInstance['log'] & { flush?: () => void }).flush?.();
}

function listenErrorMessage(error: unknown, config: Readonly<Config>): string {
  const where = `${config.host}:${config.port}`;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: address already in use (is another router running there? choose another --port)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: this machine has no such address (check --host)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: unknown host name (check --host)`;
    default:
      return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

main().then(
  (code) => {
    // After a failed start, server resources (pools, timers) may still hold the event loop.
    if (code === EXIT_FAILURE) process.exit(code);
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    say(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(EXIT_FAILURE);
  },
);
