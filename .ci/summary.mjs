// vitest's own summary is not a line the CI judge reads: sum every workspace's JSON report into
// one `N passed, N failed` line. A workspace with a test script but no report counts as a failure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
/** Failed tests, printed last so that the tail of the CI log names them. */
const failures = [];
let skipped = 0;
const missing = [];
for (const root of ['packages', 'apps']) {
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    const pkgFile = join(dir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const report = join(dir, '.vitest', 'report.json');
    if (!existsSync(report)) {
      missing.push(dir);
      continue;
    }
    const j = JSON.parse(readFileSync(report, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    skipped += j.numPendingTests + (j.numTodoTests ?? 0);
    if (j.numFailedTestSuites > 0 && j.numFailedTests === 0) failed += j.numFailedTestSuites;
    for (const file of j.testResults ?? []) {
      const where = file.name.slice(file.name.indexOf(dir));
      if (file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed'))
        failures.push(`${where}: ${firstLines(file.message ?? 'the file failed to run')}`);
      for (const a of file.assertionResults)
        if (a.status === 'failed')
          failures.push(`${where} > ${a.fullName}: ${firstLines(a.failureMessages.join('\n'))}`);
    }
  }
}
function firstLines(text) {
  return text.split('\n').slice(0, 6).join('\n    ');
}

// `pnpm test` also builds, typechecks and lints: its exit status (passed by .ci/run) counts as one
// failure when no test accounts for it, so that the closing line never says 0 failed on a red run.
const stepsStatus = Number(process.argv[2] ?? 0);
if (stepsStatus !== 0 && failed === 0 && missing.length === 0) {
  failures.push(
    `pnpm test exited ${stepsStatus} with every test passing: a build, typecheck or lint step failed (see above)`,
  );
  failed += 1;
}
for (const f of failures) console.log(`FAILED ${f}`);
for (const dir of missing) console.log(`no test report from ${dir} (its tests did not run)`);
failed += missing.length;
if (skipped > 0) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
if (passed === 0 || failed > 0) process.exit(1);
