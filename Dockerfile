# syntax=docker/dockerfile:1
# route-engine as a container: docs/operations.md, "Container".
#   docker build -t route-engine .
#   docker run -p 8787:8787 -e ROUTE_ENGINE_KEYS=… -e OPENAI_API_KEY=… route-engine
# Own rules: mount a folder over the shipped ones, -v "$PWD/my-rules:/app/rules:ro" (hot-reloaded).

# Build: every dependency, then TypeScript → dist/. npm's cache is a build cache mount: kept between
# builds, never in the image.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY engine engine
RUN npm run build

# Run: the production dependencies (their `prepare` skips the build: no TypeScript here) and the built dist/.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY scripts/build.mjs scripts/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
COPY bin bin
COPY schemas schemas
COPY rules rules
COPY scripts/readyz.mjs scripts/
COPY --from=build /src/dist dist
# The image's unprivileged user; it only reads /app (a --capture folder must be a writable mount).
USER node
# Listening beyond loopback needs inbound keys: set ROUTE_ENGINE_KEYS, or pass --insecure-no-auth
# when only a private network reaches the port. Without either the container exits 2 and says so.
ENV HOST=0.0.0.0 PORT=8787
EXPOSE 8787
# GET /readyz on PORT (HTTPS when ROUTE_ENGINE_TLS_CERT is set): set those by variable, not by flag.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "scripts/readyz.mjs"]
# node itself is PID 1, no shell or npm in between: SIGTERM (docker stop) reaches serve's handler and
# drains. A PID 1 gets no default signal action, so the handler is what makes SIGTERM work, and serve
# installs one; the only child processes are --workers, which node:cluster reaps: no init needed.
# docker stop kills 10 s after SIGTERM: the drain ends at 8 s, cutting what still runs cleanly (an
# error frame, then [DONE]). A longer drain needs a longer stop: ROUTE_ENGINE_DRAIN_TIMEOUT=60000 with
# docker stop -t 65 (compose: stop_grace_period; Kubernetes: terminationGracePeriodSeconds).
ENV ROUTE_ENGINE_DRAIN_TIMEOUT=8000
CMD ["node", "bin/route-engine.js", "serve", "--rules", "/app/rules"]
