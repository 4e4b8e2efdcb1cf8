// The stack the proxy suites share: the local identity server and sample API, and the built BFF on
// both transports, with a route table that has no `/api` catch-all (so unlisted prefixes are 404)
// one route to a port where nothing listens (502), and one to a server that accepts connections and
// never answers (timeouts, WebSocket handshakes included).
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../harness/free-port';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { loginThroughBff } from '../harness/login-through-bff';
import type { TestSession } from '../harness/session-from-idp';
import { openSession } from './agent-test-helpers';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';

export interface ProxyStack {
  local: LocalStack;
  bffs: Record<Transport, RunningBff>;
  deadPort: number;
  /** The port of the server that accepts and never answers (route /api/hang). */
  hangPort: number;
  session(transport: Transport, username?: string): Promise<TestSession>;
  /** What the sample API received, oldest first (its canary log over HTTP). */
  upstreamLog(): Promise<Array<{ method: string; path: string; url: string; query: Record<string, unknown>; headers: Record<string, string | string[]>; rawHeaders: Array<[string, string]> }>>;
  clearUpstreamLog(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxyStack(env: Record<string, string> = {}, transports: Transport[] = ['node', 'next']): Promise<ProxyStack> {
  const ports = await Promise.all(transports.map(() => freePort()));
  const deadPort = await freePort();
  const hang = await startHangingServer();
  const local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: ports.map((p) => `http://localhost:${p}`) });
  const cookieKeys = randomCookieKey();
  const apiRoutes = `/api/orders=${local.apiUrl}/v1,/api/data=${local.apiUrl},/api/down=http://127.0.0.1:${deadPort},/api/hang=http://127.0.0.1:${hang.port}`;
  const started: RunningBff[] = [];
  try {
    for (const [i, transport] of transports.entries()) {
      started.push(await startBff({ transport, port: ports[i]!, issuer: local.issuer, apiRoutes, cookieKeys, env }));
    }
  } catch (err) {
    await Promise.all(started.map((b) => b.stop()));
    await local.close();
    await hang.close();
    throw err;
  }
  const bffs = Object.fromEntries(started.map((b) => [b.transport, b])) as Record<Transport, RunningBff>;
  return {
    local, bffs, deadPort, hangPort: hang.port,
    // A real login through the BFF's own OAuth Agent, as the SPA does it; the raw access token is read
    // from the cookies (with the BFF's keys) only to compare with what the upstream received.
    async session(transport, username) {
      const login = await loginThroughBff(bffs[transport], username);
      return { cookie: login.cookies, csrf: login.csrf, accessToken: openSession(bffs[transport], login.cookies)!.accessToken };
    },
    upstreamLog: async () => (await fetch(`${local.apiUrl}/__log`)).json() as never,
    clearUpstreamLog: async () => { await fetch(`${local.apiUrl}/__log`, { method: 'DELETE' }); },
    async close() {
      await Promise.all(started.map((b) => b.stop()));
      await local.close();
      await hang.close();
    },
  };
}

/** Accepts TCP connections, reads and discards, never writes a byte. */
async function startHangingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
