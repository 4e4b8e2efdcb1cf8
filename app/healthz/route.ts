// Liveness (docs/contract.md §1): answers as soon as the server accepts requests; no auth, no cookies.
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
}
