// One call starts what an API-level test needs: the local identity server and sample API on free
// ports, and the built BFF on one or both transports, wired together. Everything real, over HTTP.
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../servers/start-local-stack';
import { freePort } from './free-port';
import { randomCookieKey, startBff, type RunningBff, type Transport } from './start-bff';

export interface StackOptions extends Omit<LocalStackOptions, 'idpPort' | 'apiPort' | 'bffOrigins'> {
  transports?: Transport[];
  /** Extra BFF environment (docs/contract.md §4 names), applied to every transport. */
  bffEnv?: Record<string, string>;
  cookieKeys?: string;
  /** API_ROUTES from the sample API's URL (default `/api=<api>`), e.g. to give a route a base path. */
  routes?: (apiUrl: string) => string;
  /** The BFFs' OIDC_ISSUER, e.g. a fault injector in front of the identity server (default: the identity server). */
  issuer?: (local: LocalStack) => Promise<string>;
}

export interface Stack {
  local: LocalStack;
  bffs: RunningBff[];
  bff(transport: Transport): RunningBff;
  cookieKeys: string;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const transports = opts.transports ?? ['node'];
  const ports = await Promise.all(transports.map(() => freePort()));
  const local = await startLocalStack({
    ...opts,
    idpPort: 0,
    apiPort: 0,
    bffOrigins: ports.map((p) => `http://localhost:${p}`),
  });
  const cookieKeys = opts.cookieKeys ?? randomCookieKey();
  const apiRoutes = opts.routes?.(local.apiUrl) ?? `/api=${local.apiUrl}`;
  const bffs: RunningBff[] = [];
  try {
    const issuer = opts.issuer ? await opts.issuer(local) : local.issuer;
    for (const [i, transport] of transports.entries()) {
      bffs.push(await startBff({ transport, port: ports[i]!, issuer, apiRoutes, cookieKeys, env: opts.bffEnv }));
    }
  } catch (err) {
    await Promise.all(bffs.map((b) => b.stop()));
    await local.close();
    throw err;
  }
  return {
    local, bffs, cookieKeys,
    bff(t) {
      const found = bffs.find((b) => b.transport === t);
      if (!found) throw new Error(`no ${t} transport in this stack`);
      return found;
    },
    async close() {
      await Promise.all(bffs.map((b) => b.stop()));
      await local.close();
    },
  };
}
