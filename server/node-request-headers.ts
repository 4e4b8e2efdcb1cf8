// Node's header object seen through the policy's RequestHeaders interface (no Headers copy per request).
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHeaders } from '@next-token-handler/lib/oauth-proxy/request-headers';

const join = (v: string | string[]) => (Array.isArray(v) ? v.join(', ') : v);

export class NodeRequestHeaders implements RequestHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.headers[name];
    return v === undefined ? null : join(v);
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const name of Object.keys(this.headers)) {
      const v = this.headers[name];
      if (v !== undefined) callback(join(v), name);
    }
  }
}
