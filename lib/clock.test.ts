import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nowMs, nowSeconds } from './clock';
import { nowSeconds as sessionCookiesNowSeconds } from './cookies/session-cookies';

const LIB = import.meta.dirname;

/** lib/'s server-side modules (what scripts/build-lib.mjs builds, plus lib/testing): not the browser client, tests or build output. */
function serverModules(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['client', 'dist', 'node_modules'].includes(relative(LIB, path)) ? [] : serverModules(path);
    return /\.(ts|mjs)$/.test(entry.name) && !/\.test\.ts$|\.d\.m?ts$/.test(entry.name) ? [path] : [];
  });
}

describe('lib/clock.ts, the one wall clock of lib/', () => {
  it('nowMs is the epoch time in milliseconds and nowSeconds its whole seconds', () => {
    const before = Date.now();
    const ms = nowMs();
    const s = nowSeconds();
    const after = Date.now();
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
    expect(Number.isInteger(s)).toBe(true);
    expect(s).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(s).toBeLessThanOrEqual(Math.floor(after / 1000));
  });

  it('session-cookies\' nowSeconds (imported by the proxy) is the clock\'s own function', () => {
    expect(sessionCookiesNowSeconds).toBe(nowSeconds);
  });

  it('no other server-side module of lib/ reads the wall clock itself (Date.now, new Date())', () => {
    const files = serverModules().filter((f) => relative(LIB, f) !== 'clock.ts');
    expect(files.length).toBeGreaterThan(50); // the walk really found lib/
    const readers = files.flatMap((file) => readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
      const code = line.trimStart();
      if (code.startsWith('//') || code.startsWith('*')) return [];
      return /\bDate\.now\b|\bnew Date\(\s*\)/.test(code) ? [`${relative(LIB, file)}:${i + 1}`] : [];
    }));
    expect(readers).toEqual([]);
  });
});
