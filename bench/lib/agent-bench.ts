// OAuth Agent figures: is the agent there, and how long login/end takes outside the identity
// server's token endpoint (our own work: transaction cookie, code exchange client side, ID token
// validation, session cookies). The identity server runs in this process, so Node's built-in
// diagnostics channels time its token endpoint from the server side.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { loginAtIdentityServer } from '../../e2e/servers/drive-login';

export async function agentAvailable(origin: string, port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/oauth-agent/session`, { headers: { 'sec-fetch-site': 'same-origin', origin } });
    const body = await r.json() as { isLoggedIn?: unknown };
    return r.status === 200 && typeof body.isLoggedIn === 'boolean';
  } catch {
    return false;
  }
}

export interface LoginEndSample { totalMs: number; tokenEndpointMs: number; outsideMs: number }

const setCookiesToHeader = (lines: string[]) => lines.map((l) => l.split(';')[0]).filter((p) => !/=$/.test(p!)).join('; ');

/**
 * `count` full logins through the agent; each login/end is timed against the token endpoint's own
 * time. The first `warmup` logins are not kept (discovery, JWKS fetch and JIT make them 5-10× slower).
 */
export async function timeLoginEnd(origin: string, port: number, tokenEndpointPath: string, count: number, warmup = 1): Promise<LoginEndSample[]> {
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'sec-fetch-site': 'same-origin', origin, 'content-type': 'application/json' };
  const started = new WeakMap<IncomingMessage, number>();
  let window: { tokenMs: number } | undefined;
  const onStart = (m: unknown) => {
    const { request } = m as { request: IncomingMessage };
    if (new URL(request.url ?? '/', 'http://x').pathname === tokenEndpointPath) started.set(request, performance.now());
  };
  const onFinish = (m: unknown) => {
    const { request } = m as { request: IncomingMessage };
    const t0 = started.get(request);
    if (t0 !== undefined && window) window.tokenMs += performance.now() - t0;
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  const samples: LoginEndSample[] = [];
  try {
    for (let i = 0; i < count + warmup; i++) {
      const start = await fetch(`${base}/oauth-agent/login/start`, { method: 'POST', headers, body: '{}' });
      if (start.status !== 200) throw new Error(`login/start answered ${start.status}`);
      const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
      const cookie = setCookiesToHeader(start.headers.getSetCookie());
      const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, `bench-agent-${i}`);
      window = { tokenMs: 0 };
      const t0 = performance.now();
      const end = await fetch(`${base}/oauth-agent/login/end`, { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ pageUrl }) });
      const body = await end.json() as { handled?: boolean; isLoggedIn?: boolean };
      const totalMs = performance.now() - t0;
      if (end.status !== 200 || !body.handled || !body.isLoggedIn) throw new Error(`login/end answered ${end.status}`);
      if (i >= warmup) samples.push({ totalMs, tokenEndpointMs: window.tokenMs, outsideMs: totalMs - window.tokenMs });
      window = undefined;
    }
  } finally {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
  }
  return samples;
}
