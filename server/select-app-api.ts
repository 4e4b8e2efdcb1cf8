// The Node entry's share of app selection (contract §8): which app and which of its areas (API, agent,
// static files) a raw request-target addresses, from its Host header and path only. The app's /api/*
// takes the fast path here; everything else goes to Next, where proxy.ts routes it.
import type { IncomingMessage } from 'node:http';
import type { Config } from '@next-token-handler/lib/config';
import { areaOf, pathInApp, selectApp, staticPathFor, type AppArea } from '@next-token-handler/lib/apps/select-app';

export function selectAppArea(config: Config, req: IncomingMessage): { app: Config; area: AppArea } | undefined {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const app = selectApp(config, req.headers.host, path);
  return app && { app, area: areaOf(pathInApp(app, path)) };
}

/** The app whose `<base>/api` this request-target is under, or undefined. */
export function selectAppApi(config: Config, req: IncomingMessage): Config | undefined {
  const selected = selectAppArea(config, req);
  return selected?.area === 'api' ? selected.app : undefined;
}

/** The request-target Next should serve for an app's static path: its file or its index.html, query kept. */
export function staticTargetFor(app: Config, target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const file = staticPathFor(app, pathInApp(app, path));
  return file === path ? target : file + (q < 0 ? '' : target.slice(q));
}
