// A test HTTP client over node:http: sends the request-target byte for byte (fetch would normalise
// `..`, `\` and `%2e`) and any header, including hop-by-hop and underscore names fetch refuses.
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RawRequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer | Readable;
  timeoutMs?: number;
}

export function rawRequest(origin: string, target: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port, method: opts.method ?? 'GET', path: target, headers: { host: new URL(origin).host, ...opts.headers }, agent: false });
    req.setTimeout(opts.timeoutMs ?? 20_000, () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, json: () => JSON.parse(body) });
      });
    });
    const body = opts.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
      // The server may answer (413) and close while we still send: keep the response, not the EPIPE.
      req.on('error', () => body.destroy());
    }
  });
}
