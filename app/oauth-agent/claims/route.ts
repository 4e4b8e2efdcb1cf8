// GET /oauth-agent/claims: same-origin request, session.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { getClaims } from '@/lib/oauth-agent/user-info';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ GET: getClaims }, { session: true });
