FROM node:20-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev=false --no-audit --no-fund
COPY . .
# Compiled runtime (dist/): `newsletter worker` runs it, using less memory than under tsx.
RUN npm run build
ENV NODE_ENV=production
# HOST defaults to loopback outside containers; inside one the published port needs every interface.
ENV HOST=0.0.0.0
EXPOSE 3000
ENTRYPOINT ["node", "bin/newsletter.js"]
CMD ["serve"]
