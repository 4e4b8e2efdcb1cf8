// POST /oauth-agent/refresh: trusted origin, CSRF, session.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { refreshSession } from '@/lib/oauth-agent/refresh-session';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: refreshSession }, { csrf: true, session: true });
