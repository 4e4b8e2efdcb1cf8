// freePort() hands out ports below the kernel's ephemeral range (where outgoing connections never
// take them), never the same one twice in a process, and never one that something listens on.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './free-port';

describe('freePort', () => {
  it('gives distinct ports below 32768 that a server can listen on at once', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
    const servers: Server[] = [];
    try {
      for (const port of ports) {
        const srv = createServer();
        await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, resolve); });
        servers.push(srv);
      }
      // With all 20 taken, further ports are still free ones (none of the taken).
      const more = await Promise.all(Array.from({ length: 20 }, () => freePort()));
      for (const port of more) expect(ports).not.toContain(port);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
