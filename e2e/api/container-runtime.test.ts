// The container without a container engine. The runtime stage of the Dockerfile is
// reproduced by hand: exactly the files its `COPY --from=build` lines copy (parsed from the
// Dockerfile, so this test breaks when they diverge) go into a fresh directory, owned by root and
// started as an unprivileged user (when the test runs as root), with the stage's ENV and CMD plus the
// local stack's configuration.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { randomCookieKey, type RunningBff } from '../harness/start-bff';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';

const ROOT = resolve(import.meta.dirname, '../..');
const NOBODY = 65534;

interface RuntimeStage { workdir: string; copies: Array<{ from: string; to: string }>; env: Record<string, string>; cmd: string[]; healthcheck: string[]; user: string; expose: string[] }

/** The last stage of the Dockerfile, as far as this test needs it (exec-form CMD/HEALTHCHECK only). */
function parseRuntimeStage(dockerfile: string): RuntimeStage {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stage = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)));
  const out: RuntimeStage = { workdir: '/', copies: [], env: {}, cmd: [], healthcheck: [], user: 'root', expose: [] };
  for (const line of stage) {
    const [instr, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (instr!.toUpperCase()) {
      case 'WORKDIR': out.workdir = args; break;
      case 'USER': out.user = args; break;
      case 'EXPOSE': out.expose.push(...rest); break;
      case 'ENV': for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) out.env[m[1]!] = m[2]!.replace(/^"|"$/g, ''); break;
      case 'CMD': out.cmd = JSON.parse(args) as string[]; break;
      case 'HEALTHCHECK': out.healthcheck = JSON.parse(args.slice(args.indexOf('CMD') + 3).trim()) as string[]; break;
      case 'COPY': {
        const parts = rest.filter((p) => !p.startsWith('--'));
        expect(rest.some((p) => p === '--from=build'), `runtime COPY from elsewhere than the build stage: ${line}`).toBe(true);
        const to = parts.pop()!;
        for (const from of parts) out.copies.push({ from, to });
        break;
      }
      default: break;
    }
  }
  return out;
}

const stage = parseRuntimeStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

let dir: string;
let local: LocalStack;
let server: ChildProcess;
let origin: string;
const logs: string[] = [];
const asUnprivileged = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'th-container-'));
  chmodSync(dir, 0o755);
  for (const { from, to } of stage.copies) {
    // The build stage's WORKDIR is /app, the checkout's root here.
    expect(from.startsWith('/app/'), from).toBe(true);
    const src = join(ROOT, from.slice('/app/'.length));
    const dest = resolve(dir, to.startsWith('/') ? `.${to}` : to);
    expect(existsSync(src), `${from} exists after npm run build`).toBe(true);
    // Docker copies a directory's contents into the destination, and a file to the destination path.
    cpSync(src, dest, { recursive: true, dereference: true });
  }
  const port = await freePort();
  origin = `http://localhost:${port}`;
  local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: [origin] });
  const [command, ...args] = stage.cmd;
  expect(command).toBe('node');
  server = spawn(process.execPath, args, {
    cwd: dir,
    ...asUnprivileged,
    env: {
      PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...stage.env,
      PORT: String(port), PUBLIC_ORIGIN: origin, OIDC_ISSUER: local.issuer, OIDC_CLIENT_ID: 'demo-bff',
      OIDC_CLIENT_SECRET: 'demo-bff-secret', COOKIE_KEYS: randomCookieKey(), API_ROUTES: `/api=${local.apiUrl}`,
    } as Record<string, string> as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (d: Buffer) => logs.push(...d.toString('utf8').split('\n').filter(Boolean));
  server.stdout!.on('data', collect);
  server.stderr!.on('data', collect);
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
    if (server.exitCode !== null) throw new Error(`the runtime stage exited with ${server.exitCode}:\n${logs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`the runtime stage did not become healthy:\n${logs.join('\n')}`);
    try { if ((await fetch(`${origin}/healthz`)).ok) break; } catch { /* not listening yet */ }
  }
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await local?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Dockerfile runtime stage, reproduced', () => {
  it('runs production Node as a non-root user on port 3000, with a node-only HEALTHCHECK', () => {
    expect(stage.env.NODE_ENV).toBe('production');
    expect(stage.user).not.toMatch(/^(root|0)(:|$)/);
    expect(stage.expose).toContain('3000');
    expect(stage.env.PORT ?? '3000').toBe('3000');
    expect(stage.healthcheck[0]).toBe('node');
    expect(stage.healthcheck.join(' ')).toContain('/healthz');
    expect(stage.cmd).toEqual(['node', 'dist/standalone-entry.mjs']);
  });

  it('holds only runtime files: no sources, tests, dev dependencies or local secrets', () => {
    for (const p of ['app', 'lib', 'e2e', 'server', 'scripts', '.env', '.git', 'node_modules/.bin/next',
      'node_modules/typescript', 'node_modules/vitest', 'node_modules/oidc-provider', 'node_modules/@playwright', 'node_modules/esbuild']) {
      expect(existsSync(join(dir, p)), p).toBe(false);
    }
    for (const p of ['dist/server.mjs', '.next/BUILD_ID', 'public/index.html', 'node_modules/next/package.json']) {
      expect(existsSync(join(dir, p)), p).toBe(true);
    }
    const size = (p: string): number => {
      const st = statSync(p);
      return st.isDirectory() ? readdirSync(p).reduce((n, e) => n + size(join(p, e)), 0) : st.size;
    };
    expect(size(dir)).toBeLessThan(150 * 1024 * 1024);
  });

  it('passes its own HEALTHCHECK, and /healthz and /readyz', async () => {
    const [command, ...args] = stage.healthcheck;
    const port = new URL(origin).port;
    const probe = spawnSync(command === 'node' ? process.execPath : command!, args, { env: { PATH: process.env.PATH ?? '', PORT: port } as Record<string, string> as NodeJS.ProcessEnv, timeout: 10_000 });
    expect(probe.status).toBe(0);
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'none' });
  });

  it('serves the SPA with its headers: index.html, a client route, the fingerprinted asset, a 404', async () => {
    const index = readFileSync(join(ROOT, 'public/index.html'), 'utf8');
    for (const path of ['/', '/orders/42']) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(await res.text()).toBe(index);
    }
    const asset = await fetch(`${origin}/assets/demo-49259c14.css`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${origin}/missing.js`)).status).toBe(404);
    // The build-time configuration applies: the image optimizer stays off.
    expect((await fetch(`${origin}/_next/image?url=%2Fassets%2Fdemo-49259c14.css&w=64&q=75`)).status).toBe(404);
  });

  it('logs in through the OAuth Agent, calls the sample API through the OAuth Proxy and refreshes', async () => {
    const bff = { origin } as RunningBff; // the harness's helpers only need the origin
    const login = await loginThroughBff(bff, 'alice');
    expect(login.body).toMatchObject({ handled: true, isLoggedIn: true });
    const api = await fetch(`${origin}/api/echo?from=container`, { headers: browserHeaders(bff, login.cookies) });
    expect(api.status).toBe(200);
    const seen = await api.json() as { sub: string; query: Record<string, string>; headers: { authorization: string; cookie?: string } };
    expect(seen.sub).toBe('alice');
    expect(seen.query).toEqual({ from: 'container' });
    expect(seen.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(seen.headers.cookie).toBeUndefined();
    const refresh = await fetch(`${origin}/oauth-agent/refresh`, { method: 'POST', headers: browserHeaders(bff, login.cookies, { 'x-th-csrf': login.csrf }) });
    expect(refresh.status).toBe(204);
    expect(refresh.headers.getSetCookie().length).toBeGreaterThan(0);
    expect(logs.some((l) => l.includes('"event":"login_completed"'))).toBe(true);
    expect(logs.join('\n')).not.toContain(seen.headers.authorization.slice('Bearer '.length));
  });

  it('logs structured JSON lines and stops cleanly on SIGTERM', async () => {
    expect(logs.some((l) => l.includes('"event":"server_started"'))).toBe(true);
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs.some((l) => l.includes('"event":"server_stopping"'))).toBe(true);
  });

});
