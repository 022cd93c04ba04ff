/** What the banner shows about one process. */
export interface BannerProcess {
  readonly name: string;
  readonly url: string;
  readonly kvAddress?: string;
  readonly pid: number;
}

export interface BannerInfo {
  readonly routerUrl: string;
  readonly model: string;
  readonly policy: string;
  readonly preset: string;
  readonly prefillCount: number;
  readonly decodeCount: number;
  readonly processes: readonly BannerProcess[];
}

/** First line of the banner: tests and scripts wait for it. */
export const READY_HEADLINE = 'pd-router dev stack is ready';
/** Header of the SDK block; the snippet follows, indented by two spaces, up to a blank line. */
export const SDK_HEADER =
  'OpenAI SDK (Node >= 20 with the openai package; save as hello.mjs, run node hello.mjs):';

const PROMPT = 'Say hello in five words.';
const MAX_TOKENS = 16;

/** Quotes `text` as one POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function chatBody(model: string, stream: boolean): string {
  const body: Record<string, unknown> = {
    model,
    messages: [{ role: 'user', content: PROMPT }],
    max_tokens: MAX_TOKENS,
  };
  if (stream) body['stream'] = true;
  return JSON.stringify(body);
}

/** A non-streaming (or, with `-N`, streaming) chat completion through the router, as one shell line. */
export function curlCommand(routerUrl: string, model: string, stream: boolean): string {
  // -w '\n': a JSON answer has no final newline, and the shell prompt would stick to it.
  const flags = stream ? 'curl -N -sS' : `curl -sS -w '\\n'`;
  return (
    `${flags} ${routerUrl}/v1/chat/completions -H 'Content-Type: application/json' ` +
    `-d ${shellQuote(chatBody(model, stream))}`
  );
}

/** An ES module using the official client: one plain answer, then one streamed. */
export function sdkSnippet(routerUrl: string, model: string): string[] {
  const m = JSON.stringify(model).replaceAll("'", "\\'").slice(1, -1);
  const messages = `[{ role: 'user', content: '${PROMPT}' }]`;
  return [
    `import OpenAI from 'openai';`,
    `// pnpm dev asks for no key; the client insists on one.`,
    `const client = new OpenAI({ baseURL: '${routerUrl}/v1', apiKey: 'unused' });`,
    `const chat = await client.chat.completions.create({ model: '${m}', messages: ${messages}, max_tokens: ${MAX_TOKENS} });`,
    `console.log(chat.choices[0].message.content);`,
    `const stream = await client.chat.completions.create({ model: '${m}', messages: ${messages}, max_tokens: ${MAX_TOKENS}, stream: true });`,
    `for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');`,
    `process.stdout.write('\\n');`,
  ];
}

/**
 * The text printed once the stack is ready: where everything listens, two curl commands and an SDK
 * snippet that work as printed (a test runs them from this very output).
 *
 * @example
 * process.stdout.write(renderBanner(info));
 */
export function renderBanner(info: BannerInfo): string {
  const nameWidth = Math.max(...info.processes.map((p) => p.name.length));
  const urlWidth = Math.max(...info.processes.map((p) => p.url.length));
  const rows = info.processes.map((p) => {
    const kv = p.kvAddress === undefined ? ''.padEnd(3 + 21) : `kv ${p.kvAddress}`.padEnd(3 + 21);
    return `  ${p.name.padEnd(nameWidth)}  ${p.url.padEnd(urlWidth)}  ${kv}  pid ${p.pid}`;
  });
  const mocks = `${info.prefillCount} prefill + ${info.decodeCount} decode mock vLLM`;
  return [
    `${READY_HEADLINE} (${mocks}, preset ${info.preset}, policy ${info.policy}, model ${info.model})`,
    '',
    ...rows,
    '',
    'Chat completion:',
    `  ${curlCommand(info.routerUrl, info.model, false)}`,
    '',
    'Streaming (server-sent events):',
    `  ${curlCommand(info.routerUrl, info.model, true)}`,
    '',
    SDK_HEADER,
    ...sdkSnippet(info.routerUrl, info.model).map((line) => `  ${line}`),
    '',
    `Router logs follow. Ctrl-C stops everything.`,
    '',
  ].join('\n');
}
