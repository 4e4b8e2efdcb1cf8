// nth_refresh_total{result} as refreshSessionTokens reports it (real in-memory coordinator and
// successor store; the grant is an injected stand-in for the identity server).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../cookies/session-cookies';
import { ThError } from '../errors';
import { InMemoryRefreshCoordinator } from '../session/refresh-coordinator';
import { refreshSessionTokens } from '../session/refresh-session-tokens';
import { InMemorySuccessorStore, type SuccessorTokens } from '../session/successor-store';
import { enableMetrics, renderMetrics } from './metrics';

const config = { oidc: {} as never, refreshGraceSeconds: 60, refreshMarginSeconds: 30 };
const session = (refreshToken: string): Session => ({ sid: 's', csrf: 'c', expiresAt: 2_000_000_000, accessToken: 'at', accessTokenExpiresAt: 1, refreshToken });
const tokens: SuccessorTokens = { accessToken: 'at-2', accessTokenExpiresAt: 2_000_000_000, refreshToken: 'rt-2' };

async function refreshCounts(): Promise<Record<string, number>> {
  const { body } = await renderMetrics();
  return Object.fromEntries([...body.matchAll(/^nth_refresh_total\{result="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

async function deltaOf(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await refreshCounts();
  await run();
  const after = await refreshCounts();
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
}

describe('refresh outcomes in nth_refresh_total', () => {
  beforeAll(() => { enableMetrics(); });
  const deps = (grant: () => Promise<SuccessorTokens>) => ({ config, coordinator: new InMemoryRefreshCoordinator(), successors: new InMemorySuccessorStore(100), grant });
  const slowly = async () => { await new Promise((r) => setTimeout(r, 20)); return tokens; };

  it('one grant for 5 concurrent callers: 1 success and 4 coalesced; a later caller with the old token: 1 successor', async () => {
    const d = deps(slowly);
    expect(await deltaOf(() => Promise.all(Array.from({ length: 5 }, () => refreshSessionTokens(session('rt-1'), d)))))
      .toEqual({ success: 1, coalesced: 4 });
    expect(await deltaOf(() => refreshSessionTokens(session('rt-1'), d))).toEqual({ successor: 1 });
  });

  it('invalid_grant when the identity server refuses the refresh token, error for anything else', async () => {
    const refused = deps(async () => { throw new ThError('session_expired', 'invalid_grant'); });
    expect(await deltaOf(() => refreshSessionTokens(session('rt-x'), refused).catch(() => {}))).toEqual({ invalid_grant: 1 });
    const down = deps(async () => { throw new ThError('authorization_server_error', 'down'); });
    expect(await deltaOf(() => refreshSessionTokens(session('rt-y'), down).catch(() => {}))).toEqual({ error: 1 });
  });
});
