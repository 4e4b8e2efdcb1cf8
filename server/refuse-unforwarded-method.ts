// Methods that never reach an HTTP 'request' handler: CONNECT (Node emits 'connect') and names its
// parser does not know (TRACK, made-up verbs: 'clientError'). Contract §3 answers both with 405
// `method_not_allowed`; Node's defaults would close the socket silently or answer a bare 400.
import type { Duplex } from 'node:stream';
import { ThError, toErrorResponse } from '@next-token-handler/lib/errors';

/** Writes `response` as a complete HTTP/1.1 message on a raw socket and closes it. */
async function writeRaw(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const head = [`HTTP/1.1 ${response.status} ${response.statusText || 'Method Not Allowed'}`];
  response.headers.forEach((value, name) => head.push(`${name}: ${value}`));
  head.push(`content-length: ${body.length}`, 'connection: close');
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]));
  else socket.destroy();
}

const methodNotAllowed = (method: string) => toErrorResponse(
  new ThError('method_not_allowed', 'This method is not allowed', { headers: [['allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']] }),
  { transport: 'node', method },
);

/** RFC 9110 §9.3.6: CONNECT would turn the BFF into a tunnel; it is refused, never forwarded. */
export function refuseConnect(socket: Duplex): void {
  void writeRaw(socket, methodNotAllowed('CONNECT')).catch(() => socket.destroy());
}

/**
 * Node's 'clientError': the request line or headers could not be parsed. An unknown method gets
 * the contract's 405; everything else keeps Node's own answer (431 for oversized headers, 408 for a
 * slow request, else 400).
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // As Node's default: nothing to say on a reset socket, or once a response has begun on it.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (!socket.writable || inFlight || err.code === 'ECONNRESET') { socket.destroy(); return; }
  if (err.code === 'HPE_INVALID_METHOD') { void writeRaw(socket, methodNotAllowed('unknown')).catch(() => socket.destroy()); return; }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}
