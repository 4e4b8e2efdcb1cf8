// METRICS_PORT: Prometheus text on a listener of its own (docs/contract.md §9), so the public port never
// serves it and a network policy can keep the scrape port internal. GET /metrics only.
import { createServer, type Server } from 'node:http';
import { log } from '../log';
import { collectProcessMetrics, enableMetrics, renderMetrics } from './metrics';

export function startMetricsListener(port: number, host?: string): Promise<Server> {
  enableMetrics();
  collectProcessMetrics();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') { res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n'); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    renderMetrics().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.unref(); // never what keeps the process alive
      log('info', 'metrics_listening', { port });
      resolve(server);
    });
  });
}
