// Cookie crypto micro-benchmark: µs per seal and per open of a 1 KB and a 4 KB token, for our codec
// (lib/cookies/codec.ts, node:crypto AES-256-GCM) beside iron-session, jose JWE (dir, A256GCM) and
// next-auth's decode (jose JWE plus an HKDF key derivation on every call, as getToken does).
import { randomBytes } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { sealData, unsealData } from 'iron-session';
import { decode as nextAuthDecode, encode as nextAuthEncode } from 'next-auth/jwt';
import { CookieCodec } from '../../lib/cookies/codec';

export interface CodecRow { library: string; tokenBytes: number; sealUs: number; openUs: number }

/** Mean µs per call of `fn` over at least `budgetMs` (after a warm-up of a fifth of that). */
async function timeOp(fn: () => unknown, budgetMs: number): Promise<number> {
  const run = async (ms: number) => {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 20; i++) await fn();
      n += 20;
      now = performance.now();
    }
    return ((now - start) * 1000) / n;
  };
  await run(budgetMs / 5);
  return run(budgetMs);
}

/** Synchronous calls are timed without an await per call, which would otherwise dominate. */
function timeSync(fn: () => unknown, budgetMs: number): number {
  const run = (ms: number) => {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
      now = performance.now();
    }
    return ((now - start) * 1000) / n;
  };
  run(budgetMs / 5);
  return run(budgetMs);
}

export async function benchCodecs(budgetMs: number): Promise<CodecRow[]> {
  const rows: CodecRow[] = [];
  const key = randomBytes(32);
  const password = randomBytes(32).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  for (const tokenBytes of [1024, 4096]) {
    const token = randomBytes(tokenBytes).toString('base64url').slice(0, tokenBytes);

    const codec = new CookieCodec([key], 'http://localhost:3000 th');
    const sealed = codec.seal('at', token, exp);
    if (codec.open('at', sealed) !== token) throw new Error('our codec did not round-trip');
    rows.push({
      library: 'ours (node:crypto AES-256-GCM)', tokenBytes,
      sealUs: timeSync(() => codec.seal('at', token, exp), budgetMs),
      openUs: timeSync(() => codec.open('at', sealed), budgetMs),
    });

    const iron = await sealData({ t: token }, { password });
    if ((await unsealData<{ t: string }>(iron, { password })).t !== token) throw new Error('iron-session did not round-trip');
    rows.push({
      library: 'iron-session sealData/unsealData', tokenBytes,
      sealUs: await timeOp(() => sealData({ t: token }, { password }), budgetMs),
      openUs: await timeOp(() => unsealData(iron, { password }), budgetMs),
    });

    const bytes = new TextEncoder().encode(token);
    const jwe = await new CompactEncrypt(bytes).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    if (new TextDecoder().decode((await compactDecrypt(jwe, key)).plaintext) !== token) throw new Error('jose did not round-trip');
    rows.push({
      library: 'jose JWE (dir, A256GCM)', tokenBytes,
      sealUs: await timeOp(() => new CompactEncrypt(bytes).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key), budgetMs),
      openUs: await timeOp(() => compactDecrypt(jwe, key), budgetMs),
    });

    const na = await nextAuthEncode({ secret, token: { accessToken: token } });
    if ((await nextAuthDecode({ secret, token: na }))?.accessToken !== token) throw new Error('next-auth did not round-trip');
    rows.push({
      library: 'next-auth v4 encode/decode (HKDF + JWE)', tokenBytes,
      sealUs: await timeOp(() => nextAuthEncode({ secret, token: { accessToken: token } }), budgetMs),
      openUs: await timeOp(() => nextAuthDecode({ secret, token: na }), budgetMs),
    });
  }
  return rows;
}
