// Next.js 16 request interception (the convention formerly named middleware.ts).
// Until the OAuth Proxy lands, /api/* fails closed with the contract's 404.
import { NextResponse } from 'next/server';

export function proxy(): Response {
  return NextResponse.json({ code: 'not_found', message: 'No API route matches this path' }, { status: 404, headers: { 'cache-control': 'no-store' } });
}

export const config = { matcher: ['/api/:path*'] };
