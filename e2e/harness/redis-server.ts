// A real redis-server for tests and the demo: on a free port, persistence off, stopped by its PID.
// Also a "silent" server that accepts connections and never answers (a hung store).
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port';

export interface RunningRedis {
  port: number;
  url: string;
  process: ChildProcess;
  /** Every key and value in the server (SCAN + DUMP-free GET/TYPE), for at-rest audits. */
  dump(): Promise<Array<{ key: string; value: string }>>;
  /** One command over a fresh connection (RESP), e.g. ['DBSIZE']. */
  command(args: string[]): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface RedisOptions {
  port?: number;
  password?: string;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RunningRedis> {
  const port = opts.port ?? await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  if (opts.password) args.push('--requirepass', opts.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const auth = opts.password ? [['AUTH', opts.password]] : [];
  const send = (cmd: string[]) => sendResp(port, [...auth, cmd]).then((replies) => replies.at(-1)!);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output.join('')}`);
    try { if ((await send(['PING'])).includes('PONG')) break; } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`redis-server did not start: ${output.join('')}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}127.0.0.1:${port}`,
    process: child,
    command: send,
    async dump() {
      const keys = parseBulkArray(await send(['KEYS', '*']));
      const out: Array<{ key: string; value: string }> = [];
      for (const key of keys) {
        const type = (await send(['TYPE', key])).trim().replace(/^\+/, '');
        out.push({ key, value: type === 'string' ? parseBulk(await send(['GET', key])) : `<${type}>` });
      }
      return out;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Sends commands on one connection and returns each raw reply (enough RESP for tests). */
function sendResp(port: number, commands: string[][]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => socket.destroy(new Error('redis test client timed out')));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      const replies = splitReplies(buffer);
      if (replies && replies.length >= commands.length) { socket.end(); resolve(replies); }
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(commands.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join(''));
    });
  });
}

/** Splits complete top-level RESP2 replies; undefined while incomplete. */
function splitReplies(text: string): string[] | undefined {
  const replies: string[] = [];
  let i = 0;
  const readOne = (): boolean => {
    const end = text.indexOf('\r\n', i);
    if (end < 0) return false;
    const type = text[i]!;
    const head = text.slice(i + 1, end);
    i = end + 2;
    if (type === '$') {
      const n = Number(head);
      if (n < 0) return true;
      if (text.length < i + n + 2) return false;
      i += n + 2;
      return true;
    }
    if (type === '*') {
      for (let k = 0; k < Number(head); k += 1) if (!readOne()) return false;
    }
    return true;
  };
  while (i < text.length) {
    const start = i;
    if (!readOne()) return undefined;
    replies.push(text.slice(start, i));
  }
  return replies;
}

function parseBulk(reply: string): string {
  if (reply.startsWith('$-1')) return '';
  return reply.slice(reply.indexOf('\r\n') + 2, reply.length - 2);
}

function parseBulkArray(reply: string): string[] {
  const lines = reply.split('\r\n');
  const out: string[] = [];
  for (let k = 1; k < lines.length; k += 1) if (lines[k]!.startsWith('$')) out.push(lines[++k]!);
  return out;
}

/** A TCP server that accepts connections, reads, and never answers: a hung store. */
export async function startSilentServer(): Promise<{ port: number; url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((s) => { accepted += 1; sockets.add(s); s.on('data', () => {}); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port, url: `redis://127.0.0.1:${port}`, connections: () => accepted,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
