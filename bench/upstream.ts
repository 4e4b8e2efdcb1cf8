// The upstream API of every bench variant: as cheap as Node's http server allows, so that what the
// bench measures is the proxy in front of it. GET answers a small JSON; POST reads the whole body
// (10 KB in the bench) and answers how many bytes arrived. `bearer` tells the runner's sanity check
// whether the proxy attached an `Authorization: Bearer` header (the token itself is never echoed).
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

const server = createServer((req, res) => {
  const bearer = /^Bearer \S+$/.test(req.headers.authorization ?? '');
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const body = JSON.stringify({ ok: true, bearer, items: [{ id: 1, name: 'alpha' }, { id: 2, name: 'beta' }] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  let received = 0;
  req.on('data', (chunk: Buffer) => { received += chunk.length; });
  req.on('end', () => {
    const body = JSON.stringify({ ok: true, bearer, received });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
