import { describeOption, negatedFlag } from './describe-option.js';
import { OPTION_GROUPS, OPTIONS } from './options.js';

const WIDTH = 80;
const INDENT = '      ';

/**
 * The `--help` text, generated from the option table and the schema (so it lists every flag with
 * its real type and default).
 *
 * @example process.stdout.write(helpText('0.1.0'));
 */
export function helpText(version: string): string {
  const lines = [
    `pd-router ${version}: a router for vLLM prefill/decode disaggregation, a drop-in for`,
    "vllm-router --vllm-pd-disaggregation with the reference proxy's exact wire format.",
    '',
    'Usage:',
    '  pd-router --prefill URL[:zmq://HOST:PORT] --decode URL[:zmq://HOST:PORT] [options]',
    '  pd-router --vllm-discovery-address HOST:PORT [options]   (workers register themselves)',
    '',
    'Example (1 prefill + 1 decode worker, P2P NCCL):',
    '  pd-router --prefill http://10.0.0.1:8100:zmq://10.0.0.1:14579 \\',
    '            --decode http://10.0.0.2:8200:zmq://10.0.0.2:14580 --port 10001',
    '',
    'Values: --flag VALUE or --flag=VALUE. Settings can also come from --config FILE (JSON or',
    'YAML, keys as in config.schema.json); flags on the command line override the file.',
  ];
  for (const group of OPTION_GROUPS) {
    lines.push('', `${group}:`);
    for (const option of OPTIONS.filter((o) => o.group === group)) {
      const doc = describeOption(option);
      // A boolean's two spellings get a line each, so each reads (and greps) as a flag.
      if (option.kind === 'boolean') lines.push(`  ${option.flag}[=true|false]`, `  ${negatedFlag(option)}`);
      else lines.push(`  ${doc.usage}`);
      for (const line of wrap(doc.description, WIDTH - INDENT.length)) lines.push(`${INDENT}${line}`);
      lines.push(`${INDENT}[${doc.type}; default: ${doc.defaultText}]`);
    }
  }
  lines.push(
    '',
    'Exit status: 0 after a clean shutdown, 1 if the server cannot start, 2 for bad flags or config.',
  );
  return `${lines.join('\n')}\n`;
}

/** Greedy word wrap (descriptions are plain sentences). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
