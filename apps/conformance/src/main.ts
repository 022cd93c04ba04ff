import { parseCli, USAGE } from './options.js';
import { renderProblems, renderTable, summaryLine, tally } from './report.js';
import { runConformance } from './run-conformance.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as a shell reports an interrupted command. */
const EXIT_INTERRUPTED = 130;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCli(argv);
  if (parsed.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    console.error(`${parsed.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { verbose, ...options } = parsed.options;
  // Ctrl-C / SIGTERM: exit now; the router processes are killed by the exit hook of router-process.ts.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => process.exit(EXIT_INTERRUPTED));
  }
  const results = await runConformance({
    ...options,
    ...(verbose ? { log: (line: string) => console.error(line) } : {}),
  });
  console.log(renderTable(results));
  const problems = renderProblems(results);
  if (problems !== '') console.log(`\n${problems}`);
  const t = tally(results);
  if (t.skipped > 0) console.log(`\n${t.skipped} skipped`);
  console.log(summaryLine(t));
  // Nothing run and nothing knowingly skipped means the filters or fixtures matched nothing: not a pass.
  return t.failed > 0 || t.passed + t.skipped === 0 ? EXIT_FAILED : 0;
}

/** After the report, a handle someone forgot must not keep the run (and CI) waiting. */
const EXIT_GRACE_MS = 2_000;

function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

main(process.argv.slice(2)).then(finish, (e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  finish(EXIT_FAILED);
});
