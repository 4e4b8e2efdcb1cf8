// A bare upstream for body-limit tests: records, for every request it receives, how many body
// bytes arrived and whether the request body ended cleanly (a truncated but "complete" body is
// the failure the 413 rule exists to prevent). Test-only; never imports lib/.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WitnessedRequest {
  method: string;
  url: string;
  /** Body bytes received so far. */
  length: number;
  sha256?: string;
  /** True once the request body ended normally; false while streaming or after an abort. */
  complete: boolean;
  /** True once the request is over, whether its body ended normally or the connection was cut. */
  ended: boolean;
}

export interface BodyWitness {
  url: string;
  port: number;
  requests: WitnessedRequest[];
  close(): Promise<void>;
}

export async function startBodyWitness(port = 0): Promise<BodyWitness> {
  const requests: WitnessedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const entry: WitnessedRequest = { method: req.method ?? '', url: req.url ?? '', length: 0, complete: false, ended: false };
    requests.push(entry);
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => { entry.length += c.length; hash.update(c); });
    req.on('close', () => { entry.ended = true; });
    req.on('end', () => {
      entry.complete = true;
      entry.ended = true;
      entry.sha256 = hash.digest('hex');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ length: entry.length, sha256: entry.sha256 }));
    });
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`, port: actual, requests,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}
