# aicost-operator image: built and run on Node.js 24 LTS, production dependencies only, non-root.
# Build: docker build -t aicost-operator .   (or: buildah bud -t aicost-operator .)
# BASE_IMAGE must be Node 24 with npm on Debian; the e2e tests build the same file on a local stand-in made
# from Debian packages (test/image/build-base.sh), since their machines reach no container registry.
ARG BASE_IMAGE=node:24-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# A build behind a TLS-inspecting proxy passes its CA file's path (and mounts it); empty is ignored by Node.
ARG NODE_EXTRA_CA_CERTS=
# --ignore-scripts: the `node` dev dependency would download a second Node binary; the image has Node 24.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build stamps dist/build-info.json (version, and the commit: .git is not in the build context).
COPY scripts/write-build-info.ts ./scripts/
ARG GIT_COMMIT=unknown
RUN GIT_COMMIT=${GIT_COMMIT} npm run build

FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
ARG NODE_EXTRA_CA_CERTS=
# --omit=optional leaves DuckDB (about 70 MB of native code) out: only `aicost report` uses it, and it streams
# the ledger in JavaScript without it (docs/benchmarks.md has both figures).
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts

FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    # Heap sized for a 256 MiB memory limit; see docs/benchmarks.md.
    NODE_OPTIONS="--max-old-space-size=160 --max-semi-space-size=4"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The two names package.json's bins give the program, as npm would link them: `aicost`, and `kubectl-aicost`
# for kubectl, which runs any kubectl-<name> on PATH as `kubectl <name>` (the help then says `kubectl aicost`).
RUN chmod 0755 dist/main.js \
 && ln -s /app/dist/main.js /usr/local/bin/aicost \
 && ln -s /app/dist/main.js /usr/local/bin/kubectl-aicost
USER 65532:65532
EXPOSE 8080 8081 9443
# The command is the first argument: the chart's args start with `run`, and `docker run IMAGE version` works.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["run"]
