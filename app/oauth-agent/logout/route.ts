// POST /oauth-agent/logout: trusted origin, CSRF, session.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { logout } from '@/lib/oauth-agent/logout';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: logout }, { csrf: true, session: true });
