// Contract §3, what an upstream answers that no browser may be given as is, on both transports: a
// status outside 100–599 or an unasked-for 101 (→ 502 bad_gateway, never a hung request), and
// WebSocket handshake answers (302 or 101) that would reveal the upstream's address or set cookies
// (→ the same response filter as HTTP). The upstream is a raw TCP server writing exact bytes.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../harness/free-port';
import { loginThroughBff } from '../harness/login-through-bff';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';

// Long, so that a 504 from the timeout can never pass for the 502 under test.
const UPSTREAM_TIMEOUT_MS = 20_000;
const ANSWER_WITHIN_MS = 5_000;

let local: LocalStack;
let odd: { port: number; close(): Promise<void> };
const bffs = {} as Record<Transport, RunningBff>;
const cookies = {} as Record<Transport, string>;

/** What the raw upstream writes for a request to `path` (`port` is its own, to leak on purpose). */
function answerFor(path: string, port: number, key: string | undefined): { bytes: string; keepOpen?: boolean } {
  const self = `127.0.0.1:${port}`;
  switch (path) {
    case '/base/status/99': return { bytes: 'HTTP/1.1 99 Odd\r\ncontent-length: 2\r\n\r\nhi' };
    case '/base/status/600': return { bytes: 'HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nhi' };
    case '/base/status/999': return { bytes: 'HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nhi' };
    case '/base/status/101': return { bytes: 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n', keepOpen: true };
    case '/base/status/101-bare': return { bytes: 'HTTP/1.1 101 Switching Protocols\r\n\r\n', keepOpen: true };
    case '/base/ok': return { bytes: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}' };
    case '/base/ws-redirect-out':
      return { bytes: `HTTP/1.1 302 Found\r\nlocation: http://${self}/internal\r\nx-backend: http://${self}/x\r\nset-cookie: up=1\r\ncontent-length: 5\r\n\r\nmoved` };
    case '/base/ws-redirect-in':
      return { bytes: `HTTP/1.1 302 Found\r\nlocation: http://${self}/base/elsewhere?a=1\r\ncontent-length: 0\r\n\r\n` };
    case '/base/ws-accept': {
      // RFC 6455 §4.2.2: the accept value proves the upstream read the key.
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      return {
        keepOpen: true,
        bytes: `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n`
          + `x-backend: ${self}\r\nset-cookie: up=1\r\nx-middleware-rewrite: http://${self}/base/ws-accept\r\n\r\n`,
      };
    }
    default: return { bytes: 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n' };
  }
}

async function startOddUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let port = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = '';
      const path = head.split(' ')[1] ?? '/';
      const key = /\r\nsec-websocket-key: *([^\r]+)/i.exec(head)?.[1];
      const answer = answerFor(path, port, key);
      if (answer.keepOpen) socket.write(answer.bytes, 'latin1'); else socket.end(answer.bytes, 'latin1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

beforeAll(async () => {
  odd = await startOddUpstream();
  const ports = { node: await freePort(), next: await freePort() };
  local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: Object.values(ports).map((p) => `http://localhost:${p}`) });
  const cookieKeys = randomCookieKey();
  const apiRoutes = `/api/odd=http://127.0.0.1:${odd.port}/base`;
  for (const transport of ['node', 'next'] as const) {
    bffs[transport] = await startBff({ transport, port: ports[transport], issuer: local.issuer, apiRoutes, cookieKeys, env: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) } });
    cookies[transport] = (await loginThroughBff(bffs[transport])).cookies;
  }
}, 120_000);
afterAll(async () => {
  await Promise.all(Object.values(bffs).map((b) => b.stop()));
  await local?.close();
  await odd?.close();
});

const oddHost = () => `127.0.0.1:${odd.port}`;

describe.each(['node', 'next'] as const)('upstream statuses no browser may get (%s transport)', (transport) => {
  const get = (path: string) => fetch(`${bffs[transport].origin}${path}`, {
    headers: { origin: bffs[transport].origin, 'sec-fetch-site': 'same-origin', cookie: cookies[transport] },
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS), // a hung request fails the test here
  });

  // A bare 101 (no Upgrade header) is an informational answer to undici's fetch, which keeps waiting
  // for the final one: proxy.ts can only bound it by UPSTREAM_TIMEOUT_MS (504). The Node transport sees it.
  const statuses = transport === 'node' ? ['99', '600', '999', '101', '101-bare'] : ['99', '600', '999', '101'];
  it.each(statuses)('[docs/contract.md §3] upstream status %s → 502 bad_gateway at once; the server keeps serving', async (status) => {
    const res = await get(`/api/odd/status/${status}`);
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text).code).toBe('bad_gateway');
    expect(text + JSON.stringify([...res.headers])).not.toContain(oddHost());
    const ok = await get('/api/odd/ok');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
  });
});

describe('Node transport: WebSocket handshake answers pass the response filter', () => {
  const origin = () => bffs.node.origin;
  type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string; opened: boolean };
  const handshake = (path: string) => new Promise<Answer>((resolve, reject) => {
    const ws = new WebSocket(`${origin().replace('http', 'ws')}${path}`, { headers: { origin: origin(), cookie: cookies.node }, followRedirects: false });
    ws.once('upgrade', (res) => {
      ws.once('open', () => { ws.terminate(); resolve({ status: 101, headers: res.headers, body: '', opened: true }); });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, opened: false }));
    });
    ws.once('error', reject);
  });
  const expectNothingNamesTheUpstream = (a: Answer) => {
    for (const [name, value] of Object.entries(a.headers)) expect(`${name}: ${String(value)}`).not.toContain(oddHost());
    expect(a.body).not.toContain(oddHost());
  };

  it('[docs/contract.md §3] a 302 to an internal address: the Location and any header naming the upstream never reach the browser, nor its Set-Cookie', async () => {
    const a = await handshake('/api/odd/ws-redirect-out');
    expect(a.status).toBe(302);
    expect(a.headers.location).toBeUndefined();
    expect(a.headers['x-backend']).toBeUndefined();
    expect(a.headers['set-cookie']).toBeUndefined();
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.body).toBe('moved');
    expectNothingNamesTheUpstream(a);
  });

  it('[docs/contract.md §3] a 302 inside the route\'s upstream base is rewritten to the public path, as for HTTP', async () => {
    const a = await handshake('/api/odd/ws-redirect-in');
    expect(a.status).toBe(302);
    expect(a.headers.location).toBe(`${origin()}/api/odd/elsewhere?a=1`);
    expectNothingNamesTheUpstream(a);
  });

  it('[docs/contract.md §3] on a 101 too: no header naming the upstream, no Set-Cookie, no Next internals; the WebSocket opens', async () => {
    const a = await handshake('/api/odd/ws-accept');
    expect(a.opened).toBe(true);
    expect(a.headers['x-backend']).toBeUndefined();
    expect(a.headers['x-middleware-rewrite']).toBeUndefined();
    expect(a.headers['set-cookie']).toBeUndefined();
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(String(a.headers.upgrade).toLowerCase()).toBe('websocket');
    expectNothingNamesTheUpstream(a);
  });

  it('[docs/contract.md §3] a handshake answered with a status outside 100–599 → 502 bad_gateway JSON', async () => {
    const a = await handshake('/api/odd/status/600');
    expect(a.status).toBe(502);
    expect(JSON.parse(a.body).code).toBe('bad_gateway');
  });
});
