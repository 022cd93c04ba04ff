import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** How long the router may take to accept connections (a cold start on a loaded 2-core machine). */
export const ROUTER_START_TIMEOUT_MS = 30_000;
/** Grace period between SIGTERM and SIGKILL when stopping the router. */
const STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 50;
/** Router output kept for error messages. */
const OUTPUT_TAIL_CHARS = 8_000;

export interface RouterProcess {
  readonly port: number;
  readonly url: string;
  /** The last few KB of the router's stdout and stderr, interleaved. */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process (group) is gone. */
  stop(): Promise<void>;
}

export class RouterStartError extends Error {
  readonly output: string;
  readonly exitCode: number | null;
  constructor(message: string, output: string, exitCode: number | null) {
    super(message);
    this.name = 'RouterStartError';
    this.output = output;
    this.exitCode = exitCode;
  }
}

/** `OPENAI_API_KEY` as the router must see it: null unsets it, a string (even empty) sets it. */
export type ApiKeySetting = string | null;

export interface StartRouterOptions {
  /** argv of the router command, before the generated flags (e.g. ['node', 'packages/server/dist/cli.js']). */
  readonly command: readonly string[];
  /** Flags after the command; `--host 127.0.0.1 --port N` is appended. */
  readonly flags: readonly string[];
  readonly apiKey: ApiKeySetting;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

// Every router this process started, so that an exit (normal, error or signal) leaves none behind.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals, evenAfterExit = false): void {
  if (child.pid === undefined) return;
  if (!evenAfterExit && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    // The router runs in its own process group, so a wrapper command's children go too.
    process.kill(-child.pid, signal);
  } catch {
    if (!evenAfterExit) child.kill(signal);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

/** A port that was free a moment ago (the router must listen on a port it is told). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the router command as a child process on 127.0.0.1 and a free port, with OPENAI_API_KEY set,
 * empty or unset, and resolves once the port accepts connections. Throws RouterStartError (with the
 * router's output) when it exits first or does not listen in time; the child is then already gone.
 *
 * @example
 * const router = await startRouter({ command: ['node', 'packages/server/dist/cli.js'], flags, apiKey: null });
 * try { ... } finally { await router.stop(); }
 */
export async function startRouter(options: StartRouterOptions): Promise<RouterProcess> {
  try {
    return await startOnce(options, await freePort());
  } catch (e) {
    // The free port was taken between our probe and the router's bind: try once more, elsewhere.
    if (e instanceof RouterStartError && /EADDRINUSE/.test(e.output))
      return startOnce(options, await freePort());
    throw e;
  }
}

async function startOnce(options: StartRouterOptions, port: number): Promise<RouterProcess> {
  const [file, ...args] = options.command;
  if (file === undefined) throw new Error('empty router command');
  const env = { ...process.env };
  if (options.apiKey === null) delete env['OPENAI_API_KEY'];
  else env['OPENAI_API_KEY'] = options.apiKey;
  installExitHook();
  const child = spawn(file, [...args, ...options.flags, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.cwd ?? process.cwd(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let out = '';
  const collect = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('close', () => resolve());
  });
  void exited.then(() => live.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && spawnError === undefined) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // A wrapper command may have exited while its children still run: make sure its group is gone.
    killGroup(child, 'SIGKILL', true);
    live.delete(child);
  };

  const deadline = Date.now() + (options.timeoutMs ?? ROUTER_START_TIMEOUT_MS);
  for (;;) {
    if (spawnError !== undefined) {
      await stop();
      throw new RouterStartError(`cannot start ${file}: ${spawnError.message}`, out, null);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      await stop();
      throw new RouterStartError(
        `router exited (${child.exitCode ?? child.signalCode}) before listening on 127.0.0.1:${port}`,
        out,
        child.exitCode,
      );
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new RouterStartError(`router did not listen on 127.0.0.1:${port} in time`, out, null);
    }
    await delay(POLL_INTERVAL_MS);
  }
  return { port, url: `http://127.0.0.1:${port}`, output: () => out, stop };
}
