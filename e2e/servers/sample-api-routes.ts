// The sample API's authenticated endpoints. Each route matches at the root and after any
// prefix (`/echo`, `/v1/echo`), because the BFF forwards `/api/x` to `<upstream base>/x`.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';

export type HeaderMap = Record<string, string | string[]>;

export interface RequestInfo {
  method: string;
  url: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Every header as received: names lowercased; a repeated header becomes an array. */
  headers: HeaderMap;
  /** The same headers in arrival order, duplicates kept: [name (lowercased), value][]. */
  rawHeaders: Array<[string, string]>;
}

const MAX_ECHOED_BODY = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  res.writeHead(status, noBody ? headers : { 'content-type': 'application/json', ...headers });
  res.end(noBody ? undefined : JSON.stringify(body));
}

/** POST /echo: hashes the body while it streams in; keeps the text only up to 64 KB. */
function echoBody(req: IncomingMessage, res: ServerResponse) {
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let length = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
    if (length <= MAX_ECHOED_BODY) kept.push(chunk);
  });
  req.on('end', () => sendJson(res, 200, {
    method: req.method,
    contentType: req.headers['content-type'] ?? null,
    length,
    sha256: hash.digest('hex'),
    ...(length <= MAX_ECHOED_BODY ? { body: Buffer.concat(kept).toString('utf8') } : {}),
  }));
  req.on('error', () => res.destroy());
}

function slow(req: IncomingMessage, res: ServerResponse, info: RequestInfo) {
  const ms = Math.max(0, Math.min(Number(info.query.ms) || 0, 10 * 60 * 1000));
  const timer = setTimeout(() => sendJson(res, 200, { slept: ms }), ms);
  res.on('close', () => clearTimeout(timer));
  req.resume();
}

function sse(req: IncomingMessage, res: ServerResponse, info: RequestInfo) {
  const count = Math.max(0, Math.min(Number(info.query.count) || 3, 10000));
  const interval = Math.max(0, Number(info.query.interval) || 100);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  req.resume();
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    if (n >= count) { res.end(); return; }
    res.write(`data: ${JSON.stringify({ n })}\n\n`);
    n += 1;
    timer = setTimeout(send, interval);
  };
  res.on('close', () => clearTimeout(timer));
  send();
}

/** Writes headers and part of a body, then drops the connection mid-response. */
function reset(req: IncomingMessage, res: ServerResponse) {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: the body never terminates
  res.write('partial body, then the connection is reset…\n');
  setTimeout(() => req.socket.destroy(), 50);
}

export function handleAuthenticated(req: IncomingMessage, res: ServerResponse, info: RequestInfo, claims: JWTPayload) {
  const { path, method } = info;
  const status = /(?:^|\/)status\/(\d{3})$/.exec(path);
  if (/(?:^|\/)echo$/.test(path) && method !== 'GET' && method !== 'HEAD') return echoBody(req, res);
  if (/(?:^|\/)slow$/.test(path)) return slow(req, res, info);
  if (/(?:^|\/)sse$/.test(path)) return sse(req, res, info);
  if (/(?:^|\/)reset$/.test(path)) return reset(req, res);
  req.resume();
  if (status && Number(status[1]) >= 200 && Number(status[1]) <= 599) {
    return sendJson(res, Number(status[1]), { status: Number(status[1]) });
  }
  // What a browser-facing API returns: who the caller is, never the request's headers (the default
  // route below echoes them, Authorization included, which only server-side tests may read).
  if (/(?:^|\/)whoami$/.test(path)) {
    return sendJson(res, 200, { sub: claims.sub, scope: claims.scope ?? null, aud: claims.aud, exp: claims.exp, method });
  }
  if (/(?:^|\/)set-cookie$/.test(path)) return sendJson(res, 200, { ok: true }, { 'set-cookie': 'upstream=1; Path=/' });
  if (/(?:^|\/)redirect$/.test(path)) return sendJson(res, 302, { location: 'http://127.0.0.1:9/elsewhere' }, { location: 'http://127.0.0.1:9/elsewhere' });
  // Default for any method and any other path: echo what arrived and who the caller is.
  return sendJson(res, 200, { ...info, claims, sub: claims.sub });
}
