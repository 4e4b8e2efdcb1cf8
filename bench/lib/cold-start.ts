// Cold start of the product: seconds from spawning a fresh process to its first 200 on /healthz,
// for the Node server entry (dist/server.mjs) and for `next start`, one process at a time.
import { freePort } from '../../e2e/harness/free-port';
import { startServer } from './processes';
import { median, type BenchReport } from './report';
import { ROOT, nextStartSpec, nodeEntrySpec, oursEnv } from './variants';

export async function runColdStarts(times: number, issuer: string, upstream: string, cookieKeys: string): Promise<BenchReport['coldStart']> {
  const out: BenchReport['coldStart'] = [];
  for (const [server, specFor] of [
    ['Node server entry (dist/server.mjs)', (port: number) => nodeEntrySpec('cold-node', port, oursEnv(port, issuer, upstream, cookieKeys))],
    ['next start', (port: number) => nextStartSpec('cold-next', ROOT, port, oursEnv(port, issuer, upstream, cookieKeys))],
  ] as const) {
    try {
      const samplesMs: number[] = [];
      for (let i = 0; i < times; i++) {
        const s = await startServer(specFor(await freePort()));
        samplesMs.push(s.coldStartMs);
        await s.stop();
      }
      out.push({ server, status: 'ok', samplesMs, medianMs: median(samplesMs) });
    } catch (err) {
      out.push({ server, status: 'error', reason: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  return out;
}
