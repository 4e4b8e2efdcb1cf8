// What every e2e/security file shares: one stack (identity server, sample API, the built BFF on both
// transports), the response audit wired to it, the two canaries (the sample API's request log and
// the identity server's grant witness), and logins whose tokens the audit watches for.
import { expect, it } from 'vitest';
import { loginThroughBff, type LoginOptions, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack, type StackOptions } from '../harness/stack';
import type { RunningBff, Transport } from '../harness/start-bff';
import type { LoggedRequest } from '../servers/sample-api';
import { ResponseAudit } from './response-audit';

export const TRANSPORTS: Transport[] = ['node', 'next'];
export const CSRF_HEADER = 'x-th-csrf';
export const SESSION_COOKIES = ['__Host-th-at', '__Host-th-rt', '__Host-th-id', '__Host-th-csrf'] as const;

export interface SecurityStack {
  stack: Stack;
  audit: ResponseAudit;
  bff(t: Transport): RunningBff;
  /** A login through the agent; its tokens join the audit's watch list. */
  login(t: Transport, username?: string, opts?: LoginOptions): Promise<LoginResult>;
  /** What the sample API received since the last clear (its canary log, over HTTP). */
  upstreamLog(): Promise<LoggedRequest[]>;
  clearUpstreamLog(): Promise<void>;
  /** Identity-server events since the last clear (grant witness, over HTTP). */
  idpEvents(): Promise<Array<{ type: string; grantType?: string; error?: string }>>;
  clearIdpEvents(): Promise<void>;
  /** Clears both canaries. */
  resetCanaries(): Promise<void>;
  close(): Promise<void>;
}

export type SecurityStackOptions = StackOptions;

export async function startSecurityStack(opts: SecurityStackOptions = {}): Promise<SecurityStack> {
  const audit = new ResponseAudit().install();
  const stack = await startStack({ transports: TRANSPORTS, ...opts });
  audit.watch(...stack.bffs);
  const s: SecurityStack = {
    stack, audit,
    bff: (t) => stack.bff(t),
    async login(t, username = 'alice', loginOpts) {
      const result = await loginThroughBff(stack.bff(t), username, loginOpts);
      audit.harvest(stack.bff(t), result.cookies);
      return result;
    },
    upstreamLog: async () => (await fetch(`${stack.local.apiUrl}/__log`)).json() as Promise<LoggedRequest[]>,
    clearUpstreamLog: async () => { await fetch(`${stack.local.apiUrl}/__log`, { method: 'DELETE' }); },
    idpEvents: async () => (await fetch(`${stack.local.issuer}/__test/events`)).json() as never,
    clearIdpEvents: async () => { await fetch(`${stack.local.issuer}/__test/events`, { method: 'DELETE' }); },
    async resetCanaries() { await Promise.all([s.clearUpstreamLog(), s.clearIdpEvents()]); },
    async close() {
      audit.uninstall();
      await stack.close();
    },
  };
  return s;
}

/** Set-Cookie lines that would give the browser a session cookie (removals excluded). */
export const sessionCookiesSet = (setCookies: string[]) =>
  setCookies.filter((l) => SESSION_COOKIES.some((n) => l.startsWith(`${n}=`) || l.startsWith(`${n}-`)) && !/Max-Age=0/.test(l));

/** Identity-server events that mean the BFF used a session's tokens (refresh grant, UserInfo). */
export const tokenUse = (events: Array<{ type: string; grantType?: string }>) =>
  events.filter((e) => e.type.startsWith('userinfo') || (e.type.startsWith('grant') && e.grantType === 'refresh_token'));

/**
 * The last test of a file: every response it received is checked (nextjs-auth0 CVE-2025-48947:
 * Set-Cookie without no-store; draft-ietf-oauth-browser-based-apps §6.1: no token reaches the
 * browser or the logs). Vitest runs a file's tests in order, so this sees all of them.
 */
export function itAuditsEveryResponse(get: () => SecurityStack | undefined, minimumTokens = 1): void {
  it('[CVE-2025-48947][draft-ietf-oauth-browser-based-apps §6.1] every Set-Cookie response had no-store; no token in any response or BFF log line', async () => {
    const s = get();
    expect(s, 'stack started').toBeDefined();
    expect(s!.audit.tokens.size, 'tokens recovered from the session cookies to look for').toBeGreaterThanOrEqual(minimumTokens);
    expect(s!.audit.responses.length).toBeGreaterThan(0);
    expect(await s!.audit.findings()).toEqual([]);
  });
}
