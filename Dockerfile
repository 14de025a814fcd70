FROM node:24-bookworm-slim
WORKDIR /app
# No compiler toolchain: better-sqlite3 13 ships prebuilt Node-API binaries in its package.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev=false --no-audit --no-fund
COPY . .
# Compiled runtime (dist/): `newsletter worker` runs it, using less memory than under tsx.
RUN npm run build
ENV NODE_ENV=production
EXPOSE 3000
ENTRYPOINT ["node", "bin/newsletter.js"]
CMD ["serve"]
