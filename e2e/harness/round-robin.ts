// A small HTTP load balancer for tests and the demo: each request goes to the next backend in turn
// (no stickiness), the Host header passes unchanged; a backend that refuses the connection (being
// restarted) is skipped for the next one, as a real balancer's health check would.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobin {
  port: number;
  origin: string;
  /** Requests each backend answered, by port. */
  served: Map<number, number>;
  close(): Promise<void>;
}

export async function startRoundRobin(backendPorts: () => number[], port = 0, host = '127.0.0.1'): Promise<RoundRobin> {
  let next = 0;
  const served = new Map<number, number>();
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, attempt: number) => {
    const ports = backendPorts();
    const target = ports[next++ % ports.length]!;
    const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (up) => {
      served.set(target, (served.get(target) ?? 0) + 1);
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if ((err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') && attempt < ports.length * 2 && !res.headersSent) {
        setTimeout(() => forward(req, res, body, attempt + 1), attempt < ports.length ? 0 : 100);
        return;
      }
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), 0));
  });
  // Idle client connections stay open well past a test's pauses: a close racing a reuse is not a finding.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(port, host, r));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual, origin: `http://localhost:${actual}`, served,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
