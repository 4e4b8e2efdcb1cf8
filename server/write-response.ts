// Writes a Web Response (as toErrorResponse produces) onto Node's raw response or an upgrade socket.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

function nodeHeaders(response: Response): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => { if (name !== 'set-cookie') out[name] = value; });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/** Sends `response` unless headers already went out; then the only honest signal left is a reset. */
export async function writeWebResponse(res: ServerResponse, response: Response, opts: { close?: boolean } = {}): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  if (res.headersSent || res.destroyed) { res.destroy(); return; }
  const headers = nodeHeaders(response);
  headers['content-length'] = String(body.length);
  if (opts.close) headers.connection = 'close';
  res.writeHead(response.status, headers);
  res.end(body);
}

/** How long the rest of a refused request's body is read and discarded before the connection is cut. */
const LINGER_MS = 5_000;

/**
 * Answers a request whose body may still be arriving (a 413, a refused POST). Answering and closing at
 * once makes the kernel reset the connection under the client's upload, so the client sees a network
 * error instead of the answer (and Node closes right after the response when the client asked for
 * `Connection: close`). So the rest of the (framed) body is read and discarded first, as RFC 9112 §9.6
 * recommends, and the answer goes out when it has ended, or after a bounded time with the connection
 * closed (an endless upload gets no more than LINGER_MS of our attention).
 */
export function answerEarly(req: IncomingMessage, res: ServerResponse, response: Response): void {
  if (req.complete) { void writeWebResponse(res, response); return; }
  let sent = false;
  const send = (close: boolean) => {
    if (sent) return;
    sent = true;
    clearTimeout(timer);
    void writeWebResponse(res, response, { close });
  };
  const timer = setTimeout(() => send(true), LINGER_MS);
  req.once('end', () => send(false));
  req.once('close', () => send(true)); // the client gave up: writeWebResponse finds the response destroyed
  req.resume();
}

/** Answers a refused WebSocket handshake with a plain HTTP response, then closes the socket. */
export async function writeSocketResponse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  if (socket.destroyed) return;
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`];
  for (const [name, value] of Object.entries(nodeHeaders(response))) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  lines.push(`content-length: ${body.length}`, 'connection: close');
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}

/** A response head (status line and headers) onto a raw socket: a relayed WebSocket handshake answer. */
export function writeSocketHead(socket: Duplex, status: number, statusMessage: string | undefined, headers: Record<string, string | string[]>): void {
  const lines = [`HTTP/1.1 ${status} ${statusMessage || STATUS_CODES[status] || ''}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * A JSON error written synchronously onto an upgrade socket, for the moment just before http-proxy
 * ends it (its 'error' event): there is no time to read a Response body first.
 */
export function writeSocketError(socket: Duplex, status: number, body: { code: string; message: string }, headers: Record<string, string | string[]> = {}): void {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'content-type: application/json; charset=utf-8', 'cache-control: no-store'];
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-type' || name === 'cache-control' || name === 'content-length' || name === 'connection') continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  lines.push(`content-length: ${json.length}`, 'connection: close');
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), json]));
}
