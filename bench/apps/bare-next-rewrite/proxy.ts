// Baseline `bare-next-rewrite`: Next 16 request interception rewriting /api/* to the upstream,
// no auth. The floor for any proxy.ts transport built on NextResponse.rewrite.
import { NextResponse, type NextRequest } from 'next/server';

export function proxy(req: NextRequest): Response {
  const target = new URL(req.nextUrl.pathname.slice('/api'.length) + req.nextUrl.search, process.env.BENCH_UPSTREAM);
  return NextResponse.rewrite(target);
}

export const config = { matcher: ['/api/:path*'] };
