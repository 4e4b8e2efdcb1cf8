// README "Logs" is the catalogue operators alert on: it must name exactly the events the code logs,
// and every field it promises must survive lib/log.ts's scrubber and be set where the event is logged.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log, setLogLevel } from '../lib/log';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(entry) && !entry.endsWith('.test.ts') && !entry.endsWith('.d.mts') ? [path] : [];
  });
}

const SOURCE_FILES = [...['lib', 'server', 'app'].flatMap((d) => sources(join(ROOT, d))), join(ROOT, 'proxy.ts'), join(ROOT, 'instrumentation.ts')];

/** Every `log(level, 'event', ...)` call: the event and the source text of the call's arguments. */
function logCalls(): Array<{ event: string; file: string; args: string }> {
  const calls: Array<{ event: string; file: string; args: string }> = [];
  for (const file of SOURCE_FILES) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\blog\(\s*(?:'[a-z]+'|\w+)\s*,\s*'([a-z_]+)'/g)) {
      let depth = 0;
      let end = m.index!;
      for (; end < text.length; end++) {
        if (text[end] === '(') depth++;
        else if (text[end] === ')' && --depth === 0) break;
      }
      calls.push({ event: m[1]!, file, args: text.slice(m.index!, end) });
    }
  }
  return calls;
}

interface CatalogueEntry { event: string; fields: string[] }

function catalogue(): CatalogueEntry[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Logs\n'), readme.indexOf('\n## ', readme.indexOf('\n## Logs\n') + 1));
  return [...section.matchAll(/^\| `([a-z_]+)` \|[^|]*\|[^|]*\| (.*) \|$/gm)].map((m) => ({
    event: m[1]!,
    // Field names are the backticked words outside parentheses (those list a field's values).
    fields: [...m[2]!.replace(/\([^)]*\)/g, '').matchAll(/`([A-Za-z]+)`/g)].map((f) => f[1]!),
  }));
}

// Fields some call sites add by spreading: describeCause's result (lib/errors.ts) and the request
// context each caller hands to toErrorResponse.
const spreadSources = () => ({
  describeCause: readFileSync(join(ROOT, 'lib/errors.ts'), 'utf8'),
  context: SOURCE_FILES.map((f) => readFileSync(f, 'utf8')).filter((t) => t.includes('toErrorResponse(')).join('\n'),
});

/** A realistic value for a catalogued field (the contract's error codes for `code`). */
const SAMPLE: Record<string, unknown> = {
  code: 'invalid_request', status: 400, sid: 'b3Jx2n5cR1y0qEwZ8kL7tA', port: 3000, transport: 'node', signal: 'SIGTERM', method: 'POST',
  path: '/oauth-agent/login/end', route: '/api', ms: 3, rotated: true, revoked: true, expiresIn: 12, site: 'cross-site', reason: 'issuer_mismatch',
  extraParams: ['prompt'], by: 'sid', kind: 'successor', op: 'get', store: 'redis://127.0.0.1:6379/0', maxEntries: 100000, cause: { errorName: 'TypeError' }, errorName: 'TypeError', errorCode: 'ECONNREFUSED',
};

describe('README "Logs"', () => {
  afterEach(() => { vi.restoreAllMocks(); setLogLevel('info'); });

  it('lists every event the code logs, and no event the code does not log', () => {
    const code = new Set(logCalls().map((c) => c.event));
    expect(code.size).toBeGreaterThan(10); // the scan found the log calls
    expect(catalogue().map((e) => e.event).sort()).toEqual([...code].sort());
  });

  it('each event\'s notable fields survive the scrubber (a `code` error code included)', () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => { lines.push(String(chunk)); return true; };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    setLogLevel('debug');
    const entries = catalogue();
    expect(entries.filter((e) => e.fields.length > 0).length).toBeGreaterThan(15);
    for (const { event, fields } of entries) {
      lines.length = 0;
      for (const f of fields) expect(SAMPLE, `a sample value for ${event}.${f}`).toHaveProperty(f);
      log('warn', event, Object.fromEntries(fields.map((f) => [f, SAMPLE[f]])));
      const written = JSON.parse(lines.join('')) as Record<string, unknown>;
      for (const f of fields) expect(written[f], `${event}.${f}`).toEqual(SAMPLE[f]);
    }
  });

  it('each event\'s notable fields are set where it is logged', () => {
    const spread = spreadSources();
    const calls = logCalls();
    for (const { event, fields } of catalogue()) {
      const sites = calls.filter((c) => c.event === event);
      expect(sites.length, event).toBeGreaterThan(0);
      const text = sites.map((c) => c.args).join('\n');
      for (const f of fields) {
        // In the call itself (`{ code }`, `code: ...`), or through a spread of describeCause / the error context.
        const inCall = new RegExp(`[{,]\\s*${f}\\b`).test(text);
        const viaSpread = (/\bdescribeCause\(/.test(text) && new RegExp(`(?:out\\.|[{,]\\s*)${f}\\b`).test(spread.describeCause))
          || (/\.\.\.context\b/.test(text) && new RegExp(`[{,]\\s*${f}\\b`).test(spread.context));
        expect(inCall || viaSpread, `${event}.${f}`).toBe(true);
      }
    }
  });
});
