// README "Logs" is the catalogue operators alert on: it must name exactly the events the code logs.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(entry) && !entry.endsWith('.test.ts') && !entry.endsWith('.d.mts') ? [path] : [];
  });
}

function loggedEvents(): Set<string> {
  const events = new Set<string>();
  const files = [...['lib', 'server', 'app'].flatMap((d) => sources(join(ROOT, d))), join(ROOT, 'proxy.ts'), join(ROOT, 'instrumentation.ts')];
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\blog\(\s*(?:'[a-z]+'|\w+)\s*,\s*'([a-z_]+)'/g)) events.add(m[1]!);
  }
  return events;
}

function catalogue(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Logs\n'), readme.indexOf('\n## ', readme.indexOf('\n## Logs\n') + 1));
  return new Set([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!));
}

describe('README "Logs"', () => {
  it('lists every event the code logs, and no event the code does not log', () => {
    const code = loggedEvents();
    expect(code.size).toBeGreaterThan(10); // the scan found the log calls
    expect([...catalogue()].sort()).toEqual([...code].sort());
  });
});
