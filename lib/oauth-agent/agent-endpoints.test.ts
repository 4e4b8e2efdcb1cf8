// The agent endpoint table serving /<base>/oauth-agent/* (contract §8) must declare exactly what
// app/oauth-agent/**/route.ts declare: the same handlers under the same guard policies.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_ENDPOINTS } from './agent-endpoints';

const ROOT = join(import.meta.dirname, '../../app/oauth-agent');
const DECLARATION = /agentRoute\(\s*(\{[^}]*\})\s*,\s*(\{[^}]*\})\s*\)/;
const normalise = (s: string) => s.replace(/\s+/g, '');

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return routeFiles(path);
    return name === 'route.ts' ? [path] : [];
  });
}

describe('AGENT_ENDPOINTS', () => {
  it('declares every agent route file with the same handlers and guard policy, and nothing else', () => {
    const table = readFileSync(join(import.meta.dirname, 'agent-endpoints.ts'), 'utf8');
    const declared: string[] = [];
    for (const file of routeFiles(ROOT)) {
      const endpoint = relative(ROOT, file).replace(/\/route\.ts$/, '');
      const match = DECLARATION.exec(readFileSync(file, 'utf8'));
      if (!match) continue; // the catch-all 404 route
      declared.push(endpoint);
      const key = /^[A-Za-z]\w*$/.test(endpoint) ? endpoint : `'${endpoint}'`;
      const entry = new RegExp(`\\n\\s*${key.replace('/', '\\/')}:\\s*agentRoute\\((\\{[^}]*\\})\\s*,\\s*(\\{[^}]*\\})\\)`).exec(table);
      expect(entry, endpoint).not.toBeNull();
      expect(normalise(entry![1]!), `${endpoint} handlers`).toBe(normalise(match[1]!));
      expect(normalise(entry![2]!), `${endpoint} policy`).toBe(normalise(match[2]!));
    }
    expect(Object.keys(AGENT_ENDPOINTS).sort()).toEqual(declared.sort());
  });
});
