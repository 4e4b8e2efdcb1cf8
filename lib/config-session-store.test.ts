// SESSION_STORE_URL / SESSION_STORE_PREFIX (docs/contract.md §4, §6): validated at start-up, naming the
// variable, never repeating the value (it may carry the password).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from './config';

const VALID: Env = {
  PUBLIC_ORIGIN: 'https://www.example.com', OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'spa-bff',
  OIDC_CLIENT_SECRET: 's3cret', COOKIE_KEYS: 'a'.repeat(64), API_ROUTES: '/api=http://api:8080',
};

function problemsOf(env: Env): string[] {
  try { loadConfig(env); } catch (err) { expect(err).toBeInstanceOf(ConfigError); return [...(err as ConfigError).problems]; }
  throw new Error('expected a ConfigError');
}

describe('SESSION_STORE_URL', () => {
  it('is optional: without it there is no store', () => {
    expect(loadConfig(VALID).sessionStore).toBeUndefined();
  });

  it('accepts redis:// and rediss:// with credentials, port and database; the display form has no credentials', () => {
    const store = loadConfig({ ...VALID, SESSION_STORE_URL: 'rediss://bff:p%40ss-w0rd@cache.example.com:6380/2' }).sessionStore!;
    expect(store).toEqual({ url: 'rediss://bff:p%40ss-w0rd@cache.example.com:6380/2', displayUrl: 'rediss://cache.example.com:6380/2', prefix: 'nth:' });
    expect(loadConfig({ ...VALID, SESSION_STORE_URL: 'redis://127.0.0.1' }).sessionStore?.displayUrl).toBe('redis://127.0.0.1');
    expect(loadConfig({ ...VALID, SESSION_STORE_URL: 'redis://h:6379', SESSION_STORE_PREFIX: 'shop:prod:' }).sessionStore?.prefix).toBe('shop:prod:');
  });

  it.each([
    ['http://cache:6379', 'redis:// or rediss://'],
    ['not a url', 'is not a URL'],
    ['redis://cache:6379/x', 'database number'],
    ['redis://cache:6379/0/1', 'database number'],
    ['redis://cache:6379/0?password=hunter2', 'query'],
    ['redis://:p@cache:99999', 'is not a URL'],
  ])('refuses %s, naming the variable and never echoing the value', (url, why) => {
    const problems = problemsOf({ ...VALID, SESSION_STORE_URL: url });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SESSION_STORE_URL /);
    expect(problems[0]).toContain(why);
    expect(problems[0]).not.toContain('hunter2');
    expect(problems[0]).not.toContain(url);
  });

  it('refuses a prefix with spaces or wildcards', () => {
    for (const prefix of ['a b', 'x*', 'q?', 'a'.repeat(65)]) {
      expect(problemsOf({ ...VALID, SESSION_STORE_PREFIX: prefix })[0]).toMatch(/^SESSION_STORE_PREFIX /);
    }
  });
});
