# syntax=docker/dockerfile:1
# next-token-handler: deps → build → runtime. The runtime image holds only Next's standalone output
# (traced node_modules, completed for dist/server.mjs by scripts/complete-standalone.mjs), the static
# files and the Node server entry, owned by root and read-only to the unprivileged `node` user that
# runs it (code that cannot be rewritten at run time).
# e2e/api/container-runtime.test.ts reproduces the runtime stage from its COPY --from=build lines.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Your SPA: put its build output (index.html, assets/) in public/ before this step, e.g.
#   COPY --from=spa /spa/dist ./public
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
ENV NEXT_TELEMETRY_DISABLED=1
ENV PORT=3000
COPY --from=build /app/.next/standalone ./
COPY --from=build /app/.next/static ./.next/static
COPY --from=build /app/public ./public
COPY --from=build /app/dist ./dist
COPY --from=build /app/server/standalone-entry.mjs ./dist/standalone-entry.mjs
USER node
EXPOSE 3000
# Liveness only: /readyz (identity server reachable) is for the load balancer, not for restarts.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/standalone-entry.mjs"]
