// Access-token verification for the sample API (RFC 6750 + RFC 9068 JWTs), with jose. The token may
// come with the Bearer or the DPoP scheme; sample-api-dpop.ts checks the proof a DPoP token needs.
import type { IncomingMessage } from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface VerifierOptions {
  issuer: string | (() => string);
  audience: string | (() => string);
  algorithms: string[];
}

export interface VerifiedToken { payload: JWTPayload; token: string; scheme: 'Bearer' | 'DPoP' }

export function createBearerVerifier(opts: VerifierOptions) {
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const issuer = () => (typeof opts.issuer === 'function' ? opts.issuer() : opts.issuer);

  // The key set comes from the issuer's discovery document, fetched on first use (the identity
  // server may start after us) and retried on the next request if that fails.
  function keySet() {
    jwks ??= (async () => {
      const res = await fetch(new URL('/.well-known/openid-configuration', issuer()));
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const metadata = await res.json() as { issuer?: string; jwks_uri?: string };
      if (metadata.issuer !== issuer() || !metadata.jwks_uri) throw new Error('discovery metadata mismatch');
      return createRemoteJWKSet(new URL(metadata.jwks_uri));
    })().catch((err) => { jwks = undefined; throw err; });
    return jwks;
  }

  /** The verified JWT payload and how it came, or undefined for a missing, duplicated or invalid token. */
  return async function verifyBearer(req: IncomingMessage): Promise<VerifiedToken | undefined> {
    const values: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]?.toLowerCase() === 'authorization') values.push(req.rawHeaders[i + 1] ?? '');
    }
    if (values.length !== 1) return undefined; // RFC 6750: exactly one way of presenting a token
    const match = /^(Bearer|DPoP) ([\w.~+/-]+=*)$/i.exec(values[0] ?? '');
    const token = match?.[2];
    if (!match || !token) return undefined;
    try {
      const { payload } = await jwtVerify(token, await keySet(), {
        issuer: issuer(),
        audience: typeof opts.audience === 'function' ? opts.audience() : opts.audience,
        algorithms: opts.algorithms,
      });
      return { payload, token, scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer' };
    } catch {
      return undefined;
    }
  };
}
