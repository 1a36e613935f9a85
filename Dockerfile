# aicost-operator image: built and run on Node.js 24 LTS, production dependencies only, non-root.
# Build: docker build -t aicost-operator .   (no Docker engine runs on the project's CI machines; the chart's
# e2e runs the operator from source instead.)

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The `node` dev dependency would download a second Node binary: the image already has Node 24.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build stamps dist/build-info.json (version and commit) with this script.
COPY scripts/write-build-info.ts ./scripts/
RUN npm run build

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-slim
ENV NODE_ENV=production \
    # Heap sized for a 256 MiB memory limit; see docs/benchmarks.md.
    NODE_OPTIONS="--max-old-space-size=160 --max-semi-space-size=4"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/main.js", "run"]
