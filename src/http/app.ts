import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { batchesRouter } from './batches-router.js';
import { errorWriter, notFoundHandler } from './error-writer.js';
import { jobsRouter } from './jobs-router.js';

export interface AppDependencies {
  scheduler: Scheduler;
  logger: Logger;
  /** The OpenAPI document (parsed), against which every request is validated. */
  apiDocument: object;
  /** Largest JSON body accepted, in bytes. */
  maxRequestBytes: number;
  /** Also validate responses against the document (tests turn this on). */
  validateResponses?: boolean;
}

/** Builds the HTTP app. It never listens: main.ts (or a test) does. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = deps.scheduler.isReady;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'starting' });
  });
  app.use('/api', express.json({ limit: deps.maxRequestBytes, strict: false }));
  app.use(
    '/api',
    OpenApiValidator.middleware({
      apiSpec: structuredClone(deps.apiDocument) as never,
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses: deps.validateResponses ?? false,
      validateApiSpec: true,
      ignoreUndocumented: false,
    }),
  );
  app.use('/api/v1/jobs', jobsRouter(deps.scheduler));
  app.use('/api/v1/batches', batchesRouter(deps.scheduler));
  app.use(notFoundHandler);
  app.use(errorWriter(deps.logger));
  return app;
}
