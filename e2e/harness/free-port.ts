// An unused loopback port, so parallel suites never collide on fixed ports.
//
// Not the kernel's `listen(0)`: that hands out a port of the ephemeral range (32768–60999 on Linux),
// which every outgoing connection also draws its local port from, so in the moment between our check
// and the server's own listen() another test's fetch could take it (seen: a BFF failing with
// EADDRINUSE in CI). Ports below the ephemeral range are only ever taken by a listen() of their own:
// a random one there that both 127.0.0.1 and :: accept (the BFF listens on ::) stays ours.
import { createServer } from 'node:net';

const LOW = 20_000;
const HIGH = 32_767; // below /proc/sys/net/ipv4/ip_local_port_range's default start (32768)
const handedOut = new Set<number>();

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    // Taken (or refused) means no; a host without IPv6 cannot listen on :: at all, which says nothing.
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE' && err.code !== 'EACCES'));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port, '127.0.0.1') && await canListen(port, '::')) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${LOW}-${HIGH}`);
}
