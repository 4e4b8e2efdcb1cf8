// The CI's last line comes from scripts/summarize-results.mjs: it must sum both suites, never call a
// crash green, and name every failed test so the tail of a CI log says what to look at.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(__dirname, 'summarize-results.mjs');
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function reportsDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'summary-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

function summarize(...args: string[]): { code: number; lines: string[] } {
  try {
    return { code: 0, lines: execFileSync(process.execPath, [script, ...args], { encoding: 'utf8' }).trim().split('\n') };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, lines: err.stdout.trim().split('\n') };
  }
}

const vitestOk = { success: true, numPassedTests: 3, numFailedTests: 0, testResults: [] };
const playwrightOk = { stats: { expected: 2, unexpected: 0, flaky: 0, skipped: 0 }, errors: [], suites: [] };

describe('summarize-results', () => {
  it('sums two green runs and exits 0', () => {
    const a = reportsDir({ 'vitest.json': vitestOk, 'playwright.json': playwrightOk });
    const b = reportsDir({ 'vitest.json': vitestOk, 'playwright.json': playwrightOk });
    const { code, lines } = summarize(`${a}=0`, `${b}=0`);
    expect(code).toBe(0);
    expect(lines.at(-1)).toBe('10 passed, 0 failed');
  });

  it('names each failed vitest test and Playwright spec before the sums', () => {
    const dir = reportsDir({
      'vitest.json': {
        success: false, numPassedTests: 1, numFailedTests: 1,
        testResults: [
          { name: join(process.cwd(), 'lib/a.test.ts'), status: 'failed', assertionResults: [{ fullName: 'a refuses b', status: 'failed' }, { fullName: 'ok', status: 'passed' }] },
          { name: join(process.cwd(), 'lib/b.test.ts'), status: 'failed', message: 'Cannot find module x\n    at stack', assertionResults: [] },
        ],
      },
      'playwright.json': {
        stats: { expected: 1, unexpected: 1, flaky: 0, skipped: 1 }, errors: [],
        suites: [{ title: 'apps.spec.ts', file: 'apps.spec.ts', specs: [], suites: [{ title: 'group', specs: [
          { title: 'shop (node)', file: 'apps.spec.ts', line: 33, tests: [{ status: 'unexpected', results: [{ status: 'failed', error: { message: '\u001b[31mError: expect(locator).toBeVisible() failed\u001b[39m\nmore' } }] }] },
          { title: 'shop (next)', file: 'apps.spec.ts', line: 33, tests: [{ status: 'skipped', results: [] }] },
        ] }] }],
      },
    });
    const { code, lines } = summarize(`${dir}=1`);
    expect(code).toBe(1);
    expect(lines).toContain(`[summary] ${dir}: FAILED lib/a.test.ts: a refuses b`);
    expect(lines).toContain(`[summary] ${dir}: FAILED lib/b.test.ts: Cannot find module x`);
    expect(lines).toContain(`[summary] ${dir}: FAILED apps.spec.ts:33: group › shop (node) — Error: expect(locator).toBeVisible() failed`);
    expect(lines.filter((l) => l.includes('FAILED'))).toHaveLength(3);
    expect(lines.at(-1)).toBe('2 passed, 2 failed, 1 skipped');
  });

  it('counts a run that left no report, or exited non-zero with green reports, as failed', () => {
    expect(summarize(`${reportsDir({})}=0`).lines.at(-1)).toBe('0 passed, 1 failed');
    const green = reportsDir({ 'vitest.json': vitestOk, 'playwright.json': playwrightOk });
    const { code, lines } = summarize(`${green}=1`);
    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('5 passed, 1 failed');
  });
});
