// Playwright cleans its own outputDir (test-results/), so machine-readable reports go to reports/.
// Reads the vitest and Playwright JSON reports of one or more runs and prints one line per run and a
// last line that sums them: "N passed, M failed". A suite that should have run but left no report
// counts as one failure, so a crash is never green. Each failed test is named on a line of its own
// (before the sums), so the tail of a CI log says what to look at.
//   node scripts/summarize-results.mjs <rc>                         one run, reports in reports/
//   node scripts/summarize-results.mjs reports/node20=<rc> reports/node24=<rc>   one per directory
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const runs = process.argv.slice(2).map((arg) => {
  const m = /^(.*)=(\d+)$/.exec(arg);
  return m ? { dir: m[1], rc: Number(m[2]) } : { dir: 'reports', rc: Number(arg) };
});
if (runs.length === 0) runs.push({ dir: 'reports', rc: 0 });

/** Names of what failed, so the tail of a CI log says which tests to look at. */
function vitestFailures(report) {
  const names = [];
  for (const file of report.testResults ?? []) {
    const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedTests) names.push(`${relative(process.cwd(), file.name)}: ${t.fullName}`);
    if (file.status === 'failed' && failedTests.length === 0) names.push(`${relative(process.cwd(), file.name)}: ${(file.message ?? 'failed to run').split('\n')[0]}`);
  }
  return names;
}
function playwrightFailures(report) {
  const names = [];
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status === 'unexpected') {
          const error = (t.results?.at(-1)?.error?.message ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n')[0];
          names.push(`${spec.file}:${spec.line}: ${[...titles, spec.title].join(' › ')}${error ? ` — ${error}` : ''}`);
        }
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title].filter(Boolean));
  };
  for (const suite of report.suites ?? []) walk(suite, []);
  for (const e of report.errors ?? []) names.push(`playwright: ${(e.message ?? '').split('\n')[0]}`);
  return names;
}

const read = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);

function summarize({ dir, rc }) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const vitest = read(join(dir, 'vitest.json'));
  if (vitest) {
    passed += vitest.numPassedTests;
    failed += vitest.numFailedTests;
    skipped += (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0);
    if (!vitest.success && vitest.numFailedTests === 0) failed += 1; // e.g. a suite that failed to load
    for (const name of vitestFailures(vitest)) console.log(`[summary] ${dir}: FAILED ${name}`);
  } else {
    failed += 1;
    console.log(`[summary] ${dir}: no vitest report`);
  }
  const pw = read(join(dir, 'playwright.json'));
  if (pw) {
    passed += pw.stats.expected + pw.stats.flaky;
    failed += pw.stats.unexpected;
    skipped += pw.stats.skipped;
    if (pw.errors?.length) failed += pw.errors.length;
    for (const name of playwrightFailures(pw)) console.log(`[summary] ${dir}: FAILED ${name}`);
  } else if (vitest?.success) {
    failed += 1;
    console.log(`[summary] ${dir}: no Playwright report`);
  }
  if (rc !== 0 && failed === 0) failed = 1;
  return { passed, failed, skipped };
}

const line = ({ passed, failed, skipped }) => `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
const total = { passed: 0, failed: 0, skipped: 0 };
for (const run of runs) {
  const result = summarize(run);
  if (runs.length > 1) console.log(`[summary] ${run.dir}: ${line(result)}`);
  total.passed += result.passed;
  total.failed += result.failed;
  total.skipped += result.skipped;
}
console.log(line(total));
process.exit(total.failed === 0 && total.passed > 0 ? 0 : 1);
