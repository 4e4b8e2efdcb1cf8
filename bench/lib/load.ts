// Runs one load-generator process (bench/load-generator.mjs, autocannon) and returns its summary.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

const GENERATOR = resolve(import.meta.dirname, '../load-generator.mjs');

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [GENERATOR, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', rej);
    child.once('exit', (code) => {
      if (code !== 0) return rej(new Error(`load generator exited with ${code}: ${err.slice(-2000)}`));
      try { res(JSON.parse(out.trim().split('\n').pop()!) as LoadResult); } catch { rej(new Error(`load generator printed no result: ${out}${err}`)); }
    });
  });
}
