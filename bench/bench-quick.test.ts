// CI check that `npm run bench -- --quick` works end to end on the cheapest variants: it starts its
// servers, runs autocannon in its own process, and writes a well-formed report. No timing is
// asserted (CI machines vary); only that every measured figure exists and nothing failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from './lib/report';

const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const aNumber = expect.any(Number);

describe('npm run bench -- --quick --only direct,bare-hpm,codec', () => {
  it('measures both variants for GET and POST and writes the JSON report', () => {
    const out = join(dir, 'report.json');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'direct,bare-hpm,codec', '--out', out], {
      cwd: ROOT, encoding: 'utf8', timeout: 240_000, // bounded; a loaded 2-core machine needs more than a minute
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('| bare-hpm | GET |');

    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report).toMatchObject({ schema: 'next-token-handler/bench@1', mode: 'quick', only: ['direct', 'bare-hpm', 'codec'] });
    expect(report.settings.rounds).toBeGreaterThanOrEqual(2);
    expect(report.cases.map((c) => `${c.variant} ${c.method}`)).toEqual(['direct GET', 'direct POST', 'bare-hpm GET', 'bare-hpm POST']);
    for (const c of report.cases) {
      expect(c).toMatchObject({ status: 'ok', errors: 0, requestsPerSecond: aNumber, upstreamCpuUsPerRequest: aNumber,
        latencyMs: { p50: aNumber, p99: aNumber, max: aNumber } });
      expect(c.rounds).toHaveLength(report.settings.rounds);
      expect(c.requestsPerSecond).toBeGreaterThan(0);
    }
    const hpm = report.cases.filter((c) => c.variant === 'bare-hpm');
    for (const c of hpm) {
      expect(c.proxyCpuUsPerRequest).toBeGreaterThan(0);
      expect(c.proxyPeakRssMb).toBeGreaterThan(0);
      expect(c.coldStartMs).toBeGreaterThan(0);
    }
    expect(report.cases.find((c) => c.variant === 'direct')!.proxyCpuUsPerRequest).toBeNull();

    expect(report.codec.map((r) => `${r.library.split(' ')[0]} ${r.tokenBytes}`)).toEqual(
      ['ours 1024', 'iron-session 1024', 'jose 1024', 'next-auth 1024', 'ours 4096', 'iron-session 4096', 'jose 4096', 'next-auth 4096']);
    for (const r of report.codec) expect(r).toMatchObject({ sealUs: aNumber, openUs: aNumber });
    // Ratios whose variants were not selected are reported as unknown, never as met or missed.
    for (const r of report.ratios) expect(r).toMatchObject({ value: null, met: null });
    expect(report.targets.find((t) => t.name.startsWith('our cookie decrypt'))!.value).toBeGreaterThan(0);
  }, 260_000);
});
