// Baseline `bare-hpm`: the smallest http-proxy-middleware keep-alive reverse proxy, no auth.
// It is the floor the Node server entry (`ours-node`) is compared with: same library, same
// keep-alive agent, nothing else. Bench-only; not part of the product.
import { createServer, Agent } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';

const port = Number(process.argv[2] ?? 0);
const upstream = process.env.BENCH_UPSTREAM ?? 'http://127.0.0.1:4001';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const proxy = createProxyMiddleware({ target: upstream, agent, xfwd: false, pathRewrite: { '^/api': '' } });

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  void proxy(req, res, (err?: unknown) => {
    res.statusCode = err ? 502 : 404;
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
