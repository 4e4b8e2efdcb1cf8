// Refresh coordination and the successor cache are per app (contract §8): the same refresh-token
// value presented to two apps never shares a grant or a successor between them.
import { describe, expect, it } from 'vitest';
import type { Session } from '../cookies/session-cookies';
import { InMemoryRefreshCoordinator } from '../session/refresh-coordinator';
import { refreshSessionTokens, refreshTokenKey } from '../session/refresh-session-tokens';
import { InMemorySuccessorStore, type SuccessorTokens } from '../session/successor-store';

const session: Session = { sid: 's', csrf: 'c', expiresAt: 2_000_000_000, accessToken: 'at', accessTokenExpiresAt: 1, refreshToken: 'rt-shared', idToken: 'id' };
const app = (id: string) => ({ oidc: {} as never, refreshGraceSeconds: 60, refreshMarginSeconds: 30, app: { id, basePath: `/${id}`, staticDir: `/${id}` } });

describe('per-app refresh keys', () => {
  it('keys by app: a successor remembered for shop is not handed to admin, and each app runs its own grant', async () => {
    const successors = new InMemorySuccessorStore();
    const coordinator = new InMemoryRefreshCoordinator();
    const grants: string[] = [];
    const grantFor = (id: string) => async (): Promise<SuccessorTokens> => {
      grants.push(id);
      return { accessToken: `at-${id}`, accessTokenExpiresAt: 2_000_000_000, refreshToken: `rt-${id}-2` };
    };
    const shop = await refreshSessionTokens(session, { config: app('shop'), successors, coordinator, grant: grantFor('shop') });
    const admin = await refreshSessionTokens(session, { config: app('admin'), successors, coordinator, grant: grantFor('admin') });
    expect([shop.accessToken, admin.accessToken]).toEqual(['at-shop', 'at-admin']);
    expect(grants).toEqual(['shop', 'admin']);
    // Within one app the successor is reused (grace window), as without APPS.
    const again = await refreshSessionTokens(session, { config: app('shop'), successors, coordinator, grant: grantFor('shop') });
    expect(again.accessToken).toBe('at-shop');
    expect(grants).toEqual(['shop', 'admin']);
    // Without APPS the key is exactly the old one (sessions and shared stores keep working).
    expect(successors.get(refreshTokenKey('rt-shared'))).toBeUndefined();
    expect((successors.get(`shop:${refreshTokenKey('rt-shared')}`) as SuccessorTokens | undefined)?.accessToken).toBe('at-shop');
  });
});
