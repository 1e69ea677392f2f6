# syntax=docker/dockerfile:1
# Build: compile TypeScript and the native SQLite addon (python3, make and g++ are in the full image),
# then drop dev dependencies so that only run-time ones are copied on.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The client and the CLI are workspaces of the lock file; the image builds and runs the service only.
COPY packages/client/package.json ./packages/client/
COPY packages/cli/package.json ./packages/cli/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.ops.json ./
COPY src ./src
COPY ops ./ops
COPY api ./api
RUN npm run build:service && npm prune --omit=dev

# Run: only what the service needs, owned by root and run as a non-root user (read-only to it).
FROM node:24-bookworm-slim
# No JOB_SCHEDULER_PORT: the service listens on the component's schedulerPort, else on 8080.
# GLIBC_TUNABLES as `npm start` sets it: malloc gives back what it freed (blocks of 128 KiB and more are mapped
# apart, and a free top of the heap past 128 KiB is trimmed) instead of keeping ~15 MiB that grew with the jobs
# held (issue 14, bench/README.md's memory notes). Local jobs do not inherit it: they get an environment of their own.
ENV NODE_ENV=production \
    JOB_SCHEDULER_HOST=0.0.0.0 \
    JOB_SCHEDULER_DATA_DIR=/tmp/job-scheduler \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# main.js reads ../api/openapi.yaml at run time.
COPY --from=build /app/api ./api
# tini as PID 1: a process whose parent ended goes to PID 1, and node waits only for the processes it started,
# so what a local job leaves behind would stay a zombie for the container's life. tini reaps them and passes
# SIGTERM on to node, which drains before it exits (tini exits with node's code).
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
USER 10001:10001
# The port of a component without schedulerPort; one with schedulerPort listens there instead.
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]
