#!/usr/bin/env node
/**
 * pd-bench: flags → options → runBenchmark → results.json, results.md, throughput.svg.
 * Exit status: 0 done; 1 the run failed; 2 bad usage; 3 `--check` and a measured target missed.
 */
import { parseArgs } from 'node:util';
import type { PolicyName } from '@pd-router/server';
import { HELP, parseBenchArgs, positive } from './cli-args.js';
import { BenchError } from './errors.js';
import { POLICY_SCALE_HELP, runPolicyScale } from './policy-scale.js';
import { ProgressLine, progressText, runSummaryText } from './progress.js';
import { parseReplayArgs, REPLAY_HELP, runReplay } from './replay/replay-cli.js';
import { renderScenarioTable } from './report/markdown.js';
import { writeReport } from './report/write-report.js';
import { runBenchmark } from './runner.js';

const PROGRESS_REDRAW_MS = 250;

async function replay(argv: readonly string[]): Promise<number> {
  const command = parseReplayArgs(argv);
  if (command === undefined) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  const outcome = await runReplay(command, argv, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(
    `\nWrote ${outcome.markdown}${command.json === undefined ? '' : `, ${command.json}`}\n`,
  );
  return 0;
}

function policyScale(argv: readonly string[]): number {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      policy: { type: 'string', default: 'pd_aware' },
      prefills: { type: 'string', default: '1000' },
      decodes: { type: 'string', default: '1000' },
      'max-tree-size': { type: 'string', default: String(2 ** 24) },
      'prompt-chars': { type: 'string', default: '4096' },
      decisions: { type: 'string', default: '20000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help === true) {
    process.stdout.write(POLICY_SCALE_HELP);
    return 0;
  }
  const options = {
    policy: v.policy as PolicyName,
    prefills: positive('--prefills', v.prefills, 1, true),
    decodes: positive('--decodes', v.decodes, 1, true),
    maxTreeSize: positive('--max-tree-size', v['max-tree-size'], 1, true),
    promptChars: positive('--prompt-chars', v['prompt-chars'], 1, true),
    decisions: positive('--decisions', v.decisions, 1, true),
  };
  const r = runPolicyScale(options);
  process.stdout.write(
    `${options.policy}: ${options.prefills} prefills x ${options.decodes} decodes, max tree ${options.maxTreeSize} chars, ` +
      `${options.promptChars}-char prompts, ${options.decisions} decisions after ${r.fillDecisions} to fill: ` +
      `p50 ${r.p50Us.toFixed(2)} us, p99 ${r.p99Us.toFixed(2)} us, max ${r.maxUs.toFixed(0)} us, heap ${r.heapMb.toFixed(0)} MB\n`,
  );
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'replay') return replay(argv.slice(1));
  if (argv[0] === 'policy-scale') return policyScale(argv.slice(1));
  const command = parseBenchArgs(argv);
  if (command.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const progress = new ProgressLine();
  let lastDraw = 0;
  const report = await runBenchmark(command.options, {
    onStatus: (message) => progress.line(message),
    onProgress: (context, p) => {
      const now = performance.now();
      if (now - lastDraw < PROGRESS_REDRAW_MS) return;
      lastDraw = now;
      progress.update(progressText(context, p));
    },
    onRunEnd: (context, run) => progress.line(runSummaryText(context, run)),
  });
  progress.end();
  const written = writeReport(report, command.options.outDir);
  const scenarios = [...new Set(report.summary.map((r) => r.scenario))];
  for (const name of scenarios) {
    process.stdout.write(
      `\n## ${name}\n\n${renderScenarioTable(report.summary.filter((r) => r.scenario === name))}\n`,
    );
  }
  process.stdout.write('\n');
  for (const c of report.checks)
    process.stdout.write(`${c.status.padEnd(12)} ${c.description}: ${c.value}\n`);
  process.stdout.write(`\nWrote ${written.markdown}, ${written.json}, ${written.svg}\n`);
  if (command.check && report.checks.some((c) => c.status === 'missed')) return 3;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BenchError) {
      process.stderr.write(`pd-bench: ${error.code}: ${error.message}\n`);
      if (error.code === 'PD_ERR_BENCH_USAGE') process.stderr.write('Try pd-bench --help.\n');
      process.exitCode = error.code === 'PD_ERR_BENCH_USAGE' ? 2 : 1;
    } else {
      process.stderr.write(
        `pd-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
