// Baseline `bare-next-fetch`: Next 16 request interception that forwards /api/* with fetch and
// returns the upstream's response (the shape our proxy.ts transport has to take, docs/architecture.md),
// with no auth and only the header filtering any fetch-forwarder needs.
import { NextResponse, type NextRequest } from 'next/server';

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'host', 'content-length'];

export async function proxy(req: NextRequest): Promise<Response> {
  const target = new URL(req.nextUrl.pathname.slice('/api'.length) + req.nextUrl.search, process.env.BENCH_UPSTREAM);
  const headers = new Headers(req.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const upstream = await fetch(target, {
    method: req.method, headers, redirect: 'manual',
    body: hasBody ? await req.arrayBuffer() : undefined,
  });
  const out = new Headers(upstream.headers);
  for (const h of [...HOP_BY_HOP, 'set-cookie', 'content-encoding']) out.delete(h);
  return new NextResponse(upstream.body, { status: upstream.status, headers: out });
}

export const config = { matcher: ['/api/:path*'] };
