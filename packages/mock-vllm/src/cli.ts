#!/usr/bin/env node
import { exitWithParent } from '@pd-router/core';
import { HELP_TEXT, parseCliArgs } from './cli-args.js';
import { createMockVllm } from './mock-server.js';

async function main(): Promise<number> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`mock-vllm: ${(error as Error).message}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${HELP_TEXT}\n`);
    return 0;
  }
  const mock = await createMockVllm(command.options);
  process.stdout.write(
    `mock-vllm role=${mock.role} url=${mock.url} kv=${mock.kvAddress} model=${mock.model}` +
      (mock.bootstrapPort === undefined
        ? ''
        : ` bootstrap=${mock.kvAddress.slice(0, mock.kvAddress.lastIndexOf(':'))}:${mock.bootstrapPort}`) +
      '\n',
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    exitWithParent();
  });
  await mock.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mock-vllm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
