// Child processes of the bench: started, timed to their first healthy answer (cold start), and
// measured from /proc — CPU time (utime + stime) and peak RSS (VmHWM) summed over the process tree,
// because a server may fork workers. Linux only, like the rest of the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  /** Path answering 200 once the server is ready; defaults to /healthz. */
  healthPath?: string;
}

export interface RunningServer {
  name: string;
  port: number;
  pid: number;
  /** Milliseconds from spawn to the first 200 on the health path. */
  coldStartMs: number;
  output: string[];
  stop(): Promise<void>;
}

const CLK_TCK = 100; // Linux USER_HZ; `getconf CLK_TCK` is 100 on every mainstream kernel

export async function startServer(spec: ServerSpec, timeoutMs = 60_000): Promise<RunningServer> {
  const started = performance.now();
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.cwd, env: spec.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = `http://127.0.0.1:${spec.port}${spec.healthPath ?? '/healthz'}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${spec.name} exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output.join('\n')}`);
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} was not healthy after ${timeoutMs} ms:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const coldStartMs = performance.now() - started;
  return {
    name: spec.name, port: spec.port, pid: child.pid!, coldStartMs, output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const tree = descendants(child.pid!);
      child.kill('SIGTERM');
      const timer = setTimeout(() => { for (const pid of [child.pid!, ...tree]) tryKill(pid); }, 5000);
      await exited;
      clearTimeout(timer);
      for (const pid of tree) tryKill(pid); // workers that outlived their parent
    },
  };
}

function tryKill(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
}

function readStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) }; // utime (14), stime (15)
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid`. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(Number(entry)); else children.set(stat.ppid, [Number(entry)]);
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

/** CPU seconds (user + system) used so far by `pid` and its live descendants. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) ticks += readStat(p)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** Peak resident set (VmHWM) in MB, summed over `pid` and its live descendants. */
export function treePeakRssMb(pid: number): number {
  let kb = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch { /* exited */ }
  }
  return kb / 1024;
}
