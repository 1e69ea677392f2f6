# syntax=docker/dockerfile:1
# Build: compile TypeScript and the native SQLite addon, then drop dev dependencies.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY api ./api
RUN npm run build && npm prune --omit=dev

# Run: only what the service needs, as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    JOB_SCHEDULER_HOST=0.0.0.0 \
    JOB_SCHEDULER_PORT=8080 \
    JOB_SCHEDULER_DATA_DIR=/tmp/job-scheduler
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/api ./api
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "dist/main.js"]
