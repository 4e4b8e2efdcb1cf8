// Playwright cleans its own outputDir (test-results/), so machine-readable reports go to reports/.
// Reads the vitest and Playwright JSON reports and prints one line: "N passed, M failed".
// A suite that should have run but left no report counts as one failure, so a crash is never green.
import { existsSync, readFileSync } from 'node:fs';

const testRc = Number(process.argv[2] ?? '0');
let passed = 0;
let failed = 0;
let skipped = 0;

const read = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);
const vitest = read('reports/vitest.json');
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests;
  skipped += (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0);
  if (!vitest.success && vitest.numFailedTests === 0) failed += 1; // e.g. a suite that failed to load
} else {
  failed += 1;
  console.log('[summary] no vitest report');
}
const pw = read('reports/playwright.json');
if (pw) {
  passed += pw.stats.expected + pw.stats.flaky;
  failed += pw.stats.unexpected;
  skipped += pw.stats.skipped;
  if (pw.errors?.length) failed += pw.errors.length;
} else if (vitest?.success) {
  failed += 1;
  console.log('[summary] no Playwright report');
}
if (testRc !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
