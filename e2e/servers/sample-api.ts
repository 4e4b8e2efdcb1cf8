// Sample upstream API for the demo and the tests: verifies the Bearer JWT from the local identity
// server with jose and tells the caller what arrived. Every request is recorded in a canary log
// (`GET /__log`) so tests can prove what the BFF did — or did not — forward.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { handleAuthenticated, sendJson, type HeaderMap, type RequestInfo } from './sample-api-routes';
import { createDpopVerifier } from './sample-api-dpop';
import { createBearerVerifier } from './sample-api-verify';

export interface SampleApiOptions {
  host?: string;
  port?: number;
  /** Issuer whose discovery/JWKS is trusted; a function is read lazily (ephemeral IdP ports). */
  issuer?: string | (() => string);
  /** Expected `aud`; defaults to this API's own base URL (http://127.0.0.1:4001 by default). */
  audience?: string;
  algorithms?: string[];
  /** RFC 9449 §9: DPoP proofs must carry this API's nonce (`POST /__dpop-nonce` rotates it). */
  dpopNonce?: boolean;
}

export interface LoggedRequest extends RequestInfo { at: number }

export interface SampleApi {
  url: string;
  port: number;
  close(): Promise<void>;
  log: LoggedRequest[];
  clearLog(): void;
}

const MAX_LOG = 10_000; // oldest dropped first, so a long demo run stays bounded
const UNAUTHORIZED = { 'www-authenticate': 'Bearer error="invalid_token"', 'cache-control': 'no-store' };

export function describeRequest(req: IncomingMessage): RequestInfo {
  const url = req.url ?? '/';
  const parsed = new URL(url, 'http://sample-api.invalid');
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(parsed.searchParams.keys())) {
    const all = parsed.searchParams.getAll(key);
    query[key] = all.length === 1 ? all[0] ?? '' : all;
  }
  const headers: HeaderMap = {};
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    rawHeaders.push([name, value]);
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return { method: req.method ?? 'GET', url, path: parsed.pathname, query, headers, rawHeaders };
}

export async function startSampleApi(opts: SampleApiOptions = {}): Promise<SampleApi> {
  const host = opts.host ?? '127.0.0.1';
  const log: LoggedRequest[] = [];
  const record = (info: RequestInfo) => {
    log.push({ ...info, at: Date.now() });
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
  };
  let audience = opts.audience;
  const verify = createBearerVerifier({
    issuer: opts.issuer ?? 'http://127.0.0.1:4000',
    audience: () => audience as string,
    algorithms: opts.algorithms ?? ['ES256'],
  });
  let url = '';
  const dpop = createDpopVerifier({ baseUrl: () => url, requireNonce: opts.dpopNonce });

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const info = describeRequest(req);
    if (info.path === '/health') { req.resume(); return sendJson(res, 200, { status: 'ok' }); }
    if (info.path === '/__log' && (req.method === 'GET' || req.method === 'DELETE')) {
      req.resume();
      if (req.method === 'DELETE') { log.length = 0; return sendJson(res, 204, undefined); }
      return sendJson(res, 200, log);
    }
    if (info.path === '/__dpop-nonce' && req.method === 'POST') { req.resume(); dpop.rotateNonce(); return sendJson(res, 204, undefined); }
    record(info); // before verification: unauthenticated calls are evidence too
    const verified = await verify(req);
    if (!verified) { req.resume(); return sendJson(res, 401, { error: 'invalid_token' }, UNAUTHORIZED); }
    const refused = await dpop.check(req, verified);
    if (refused) { req.resume(); return sendJson(res, refused.status, refused.body, refused.headers); }
    return handleAuthenticated(req, res, info, verified.payload);
  }

  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const info = describeRequest(req);
    record(info);
    const refuse = (response: string) => {
      socket.once('finish', () => socket.destroy());
      socket.end(response);
    };
    if (!/(?:^|\/)ws$/.test(info.path)) {
      refuse('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const verified = await verify(req);
    if (!verified) {
      const body = '{"error":"invalid_token"}';
      refuse(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`
        + `WWW-Authenticate: Bearer error="invalid_token"\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const refused = await dpop.check(req, verified);
    if (refused) {
      const body = JSON.stringify(refused.body);
      const lines = Object.entries(refused.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      refuse(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${lines}Connection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => { if (!res.headersSent) sendJson(res, 500, { error: 'server_error' }); else res.destroy(); });
  });
  server.on('upgrade', (req, socket, head) => { onUpgrade(req, socket, head).catch(() => socket.destroy()); });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4001, host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  audience ??= url;

  return {
    url,
    port,
    log,
    clearLog: () => { log.length = 0; },
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
