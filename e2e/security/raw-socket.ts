// Sends bytes over a plain TCP connection and returns what came back: for request forms no HTTP
// client will produce (absolute-form targets, conflicting framing headers, pipelined requests).
import { connect, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawExchange {
  /** Everything the server sent before closing (or before the timeout). */
  text: string;
  /** Status codes of every response in `text`, in order. */
  statuses: number[];
}

export function exchange(port: number, request: string, timeoutMs = 5000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statuses: [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1])) });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(request);
  });
}

/** A TCP listener that only counts connections: proof that nobody was sent its way. */
export async function startConnectionCanary(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => { count += 1; socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Sends `head` then the body chunks, stopping once the server answers or closes (a 413 may come
 * long before the last byte): returns the status and body of the first response, if any.
 */
export function upload(port: number, head: string, chunks: Iterable<Buffer>, timeoutMs = 30_000): Promise<{ status?: number; body: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let answered = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      resolve({ status: status ? Number(status) : undefined, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => {
      if (!answered) setTimeout(finish, 1000); // the whole (small) error response follows at once
      answered = true;
      received.push(c);
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(head, async () => {
      let first = true;
      for (const chunk of chunks) {
        if (first) { socket.write(chunk); first = false; await new Promise((r) => setTimeout(r, 1000)); continue; } // room for an early 413
        if (answered || socket.destroyed) break;
        if (!socket.write(chunk)) await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
      }
    });
  });
}
