# The Tessera worker image used by docker-compose.yml: every workflow and activity of the catalog, configured by
# config/production.yaml from the container's environment. The CLI runs TypeScript through tsx (a dependency),
# so there is no build step.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    TESSERA_ENV=production

# Dependencies first, so code changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY config ./config
COPY src ./src

# stateDir of config/production.yaml.
RUN mkdir -p /var/lib/tessera && chown node:node /var/lib/tessera
USER node

CMD ["node", "bin/tessera.js", "worker", "--config", "config/production.yaml"]
