// Peer `peer-next-auth`: what a next-auth (v4) app does to call an API with the user's token —
// `getToken` decrypts the session cookie (JWE, dir + A256GCM, key from HKDF of NEXTAUTH_SECRET) in
// proxy.ts, which then rewrites to the upstream with `Authorization: Bearer`. Bench-only.
import { getToken } from 'next-auth/jwt';
import { NextResponse, type NextRequest } from 'next/server';

export async function proxy(req: NextRequest): Promise<Response> {
  const token = await getToken({ req, secret: process.env.NEXTAUTH_SECRET });
  const accessToken = token?.accessToken;
  if (typeof accessToken !== 'string') {
    return NextResponse.json({ code: 'unauthorized_request', message: 'No session' }, { status: 401 });
  }
  const headers = new Headers(req.headers);
  headers.delete('cookie');
  headers.set('authorization', `Bearer ${accessToken}`);
  const target = new URL(req.nextUrl.pathname.slice('/api'.length) + req.nextUrl.search, process.env.BENCH_UPSTREAM);
  return NextResponse.rewrite(target, { request: { headers } });
}

export const config = { matcher: ['/api/:path*'] };
