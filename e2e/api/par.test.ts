// docs/contract.md §10: OIDC_PAR against the local identity server, which advertises a PAR
// endpoint (RFC 9126) unless started without it. Witness: the authorization request URL the agent
// returns, the identity server's own discovery, and a login that completes (or does not start).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { freePort } from '../harness/free-port';
import { startBff, type RunningBff } from '../harness/start-bff';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';

async function startLogin(bff: RunningBff): Promise<{ status: number; body: Record<string, string> }> {
  const r = await fetch(`${bff.origin}/oauth-agent/login/start`, { method: 'POST', headers: browserHeaders(bff) });
  return { status: r.status, body: await r.json() as Record<string, string> };
}

async function callApi(bff: RunningBff, cookies: string): Promise<number> {
  return (await fetch(`${bff.origin}/api/whoami`, { headers: browserHeaders(bff, cookies) })).status;
}

/** One identity server + sample API, and one BFF (node transport) per OIDC_PAR value. */
async function startWith(par: boolean | undefined, modes: string[]) {
  const ports = await Promise.all(modes.map(() => freePort()));
  const local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: ports.map((p) => `http://localhost:${p}`), par });
  const bffs: Record<string, RunningBff> = {};
  try {
    for (const [i, mode] of modes.entries()) {
      bffs[mode] = await startBff({ transport: 'node', port: ports[i]!, issuer: local.issuer, apiRoutes: `/api=${local.apiUrl}`, env: { OIDC_PAR: mode } });
    }
  } catch (err) {
    await Promise.all(Object.values(bffs).map((b) => b.stop()));
    await local.close();
    throw err;
  }
  return { local, bffs, close: async () => { await Promise.all(Object.values(bffs).map((b) => b.stop())); await local.close(); } };
}

describe('OIDC_PAR with an identity server that offers PAR', () => {
  let env: Awaited<ReturnType<typeof startWith>>;
  beforeAll(async () => { env = await startWith(undefined, ['auto', 'never']); }, 120_000);
  afterAll(async () => { await env?.close(); });

  it('auto pushes the request: the URL carries only client_id and request_uri, and the login completes', async () => {
    const metadata = await (await fetch(`${env.local.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${env.local.issuer}/request`);
    const { status, body } = await startLogin(env.bffs.auto!);
    expect(status).toBe(200);
    const url = new URL(body.authorizationRequestUrl!);
    expect(`${url.origin}${url.pathname}`).toBe(metadata.authorization_endpoint);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('client_id')).toBe('demo-bff');
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const login = await loginThroughBff(env.bffs.auto!, 'alice');
    expect(login.body.isLoggedIn).toBe(true);
    expect(await callApi(env.bffs.auto!, login.cookies)).toBe(200);
  });

  it('never keeps the classic authorization request URL, and the login completes', async () => {
    const { status, body } = await startLogin(env.bffs.never!);
    expect(status).toBe(200);
    const params = new URL(body.authorizationRequestUrl!).searchParams;
    expect(params.has('request_uri')).toBe(false);
    for (const name of ['client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge']) expect(params.has(name), name).toBe(true);
    expect(params.get('code_challenge_method')).toBe('S256');
    const login = await loginThroughBff(env.bffs.never!, 'bob');
    expect(await callApi(env.bffs.never!, login.cookies)).toBe(200);
  });
});

describe('OIDC_PAR with an identity server without PAR', () => {
  let env: Awaited<ReturnType<typeof startWith>>;
  beforeAll(async () => { env = await startWith(false, ['always', 'auto']); }, 120_000);
  afterAll(async () => { await env?.close(); });

  it('always: readiness fails and every login/start answers 502 authorization_server_error', async () => {
    const metadata = await (await fetch(`${env.local.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(metadata.pushed_authorization_request_endpoint).toBeUndefined();
    const ready = await fetch(`${env.bffs.always!.origin}/readyz`);
    expect(ready.status).toBe(503);
    for (let i = 0; i < 2; i++) {
      const { status, body } = await startLogin(env.bffs.always!);
      expect(status).toBe(502);
      expect(body.code).toBe('authorization_server_error');
    }
  });

  it('auto falls back to the classic URL, is ready, and the login completes (today\'s behaviour)', async () => {
    expect((await fetch(`${env.bffs.auto!.origin}/readyz`)).status).toBe(200);
    const { body } = await startLogin(env.bffs.auto!);
    expect(new URL(body.authorizationRequestUrl!).searchParams.has('code_challenge')).toBe(true);
    const login = await loginThroughBff(env.bffs.auto!, 'carol');
    expect(await callApi(env.bffs.auto!, login.cookies)).toBe(200);
  });
});
