// A per-provider in-memory storage adapter for oidc-provider (test/demo only).
// Same contract as oidc-provider's bundled MemoryAdapter, but with an unbounded Map per
// identity-server instance (no LRU eviction under long e2e runs) and no "development-only"
// warning on every start. Expiry is lazy: an entry is dropped when read after it expired
// (plus the provider's clock tolerance, so the models can still report "expired").

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };
interface Entry { payload: Payload; expiresAt: number }

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

export function createMemoryAdapterFactory(clockToleranceSeconds = 0) {
  const store = new Map<string, Entry>();
  const secondary = new Map<string, string>(); // "sessionUid:<uid>" / "userCode:<code>" -> id
  const grants = new Map<string, Set<string>>(); // grantId -> keys of its tokens

  const live = (key: string): Entry | undefined => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  };

  class MemoryAdapter {
    constructor(private readonly model: string) {}

    private key(id: string) { return `${this.model}:${id}`; }

    async upsert(id: string, payload: Payload, expiresIn?: number) {
      const key = this.key(id);
      const expiresAt = typeof expiresIn === 'number'
        ? Date.now() + (expiresIn + clockToleranceSeconds) * 1000
        : Number.POSITIVE_INFINITY;
      store.set(key, { payload, expiresAt });
      if (this.model === 'Session' && payload.uid) secondary.set(`sessionUid:${payload.uid}`, id);
      if (payload.userCode) secondary.set(`userCode:${payload.userCode}`, id);
      if (GRANTABLE.has(this.model) && payload.grantId) {
        const members = grants.get(payload.grantId) ?? new Set<string>();
        members.add(key);
        grants.set(payload.grantId, members);
      }
    }

    async find(id: string | undefined) {
      return id === undefined ? undefined : live(this.key(id))?.payload;
    }

    async findByUid(uid: string) { return this.find(secondary.get(`sessionUid:${uid}`)); }

    async findByUserCode(userCode: string) { return this.find(secondary.get(`userCode:${userCode}`)); }

    async consume(id: string) {
      const entry = live(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string) {
      const key = this.key(id);
      const entry = store.get(key);
      store.delete(key);
      if (entry?.payload.grantId) grants.get(entry.payload.grantId)?.delete(key);
    }

    async revokeByGrantId(grantId: string) {
      const members = grants.get(grantId);
      if (!members) return;
      for (const key of members) {
        if (key.startsWith(`${this.model}:`)) {
          store.delete(key);
          members.delete(key);
        }
      }
      if (members.size === 0) grants.delete(grantId);
    }
  }

  return MemoryAdapter;
}
