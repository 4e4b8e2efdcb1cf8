// Starts the built BFF as a child process on one of its two transports and waits for /healthz.
// Tests talk to it over real HTTP; its stdout/stderr lines are kept for log assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

export type Transport = 'node' | 'next';

export interface BffOptions {
  transport: Transport;
  port: number;
  issuer: string;
  apiRoutes: string;
  /** Extra or overriding environment variables (any of docs/contract.md §4). */
  env?: Record<string, string>;
  cookieKeys?: string;
  /** Called with each output line (the demo prints them); lines are kept in `logs` unless `keepLogs` is false. */
  onLog?: (line: string) => void;
  keepLogs?: boolean;
}

export interface RunningBff {
  origin: string;
  transport: Transport;
  port: number;
  cookieKeys: string;
  logs: string[];
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = resolve(import.meta.dirname, '../..');

export const randomCookieKey = () => randomBytes(32).toString('hex');

export async function startBff(opts: BffOptions): Promise<RunningBff> {
  const origin = `http://localhost:${opts.port}`;
  const cookieKeys = opts.cookieKeys ?? randomCookieKey();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    PUBLIC_ORIGIN: origin,
    OIDC_ISSUER: opts.issuer,
    OIDC_CLIENT_ID: 'demo-bff',
    OIDC_CLIENT_SECRET: 'demo-bff-secret',
    COOKIE_KEYS: cookieKeys,
    API_ROUTES: opts.apiRoutes,
    PORT: String(opts.port),
    LOG_LEVEL: 'debug',
    ...opts.env,
  };
  const args = opts.transport === 'node'
    ? ['dist/server.mjs']
    : ['node_modules/next/dist/bin/next', 'start', '-p', String(opts.port)];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      if (opts.keepLogs !== false) logs.push(line);
      opts.onLog?.(line);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`BFF (${opts.transport}) exited with ${child.exitCode}:\n${logs.join('\n')}`);
    try {
      const r = await fetch(`http://127.0.0.1:${opts.port}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`BFF (${opts.transport}) did not become healthy:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin, transport: opts.transport, port: opts.port, cookieKeys, logs, process: child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
