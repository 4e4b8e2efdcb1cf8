// Baseline `bare-undici`: the smallest keep-alive reverse proxy on undici's Pool (the library the
// Node transport forwards with), no auth, no header policy: the floor for `ours-node` on the same
// library. Bench-only; not part of the product.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const port = Number(process.argv[2] ?? 0);
const upstream = process.env.BENCH_UPSTREAM ?? 'http://127.0.0.1:4001';
const pool = new Pool(upstream, { keepAliveTimeout: 4_000, bodyTimeout: 0 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection']);

class Relay implements Dispatcher.DispatchHandler {
  constructor(private readonly res: ServerResponse) {}
  onRequestStart(): void {}
  onResponseStart(call: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return;
    const out: Record<string, string | string[]> = {};
    for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name]!;
    this.res.writeHead(status, out);
  }
  onResponseData(call: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) { call.pause(); this.res.once('drain', () => call.resume()); }
  }
  onResponseEnd(): void { this.res.end(); }
  onResponseError(): void {
    if (this.res.headersSent) this.res.destroy(); else { this.res.writeHead(502); this.res.end(); }
  }
}

function proxy(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) if (!HOP_BY_HOP.has(name) && name !== 'host') headers[name] = req.headers[name]!;
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  pool.dispatch({ path: req.url!.replace(/^\/api/, '') || '/', method: req.method!, headers, body: hasBody ? req : null }, new Relay(res));
}

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  proxy(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
