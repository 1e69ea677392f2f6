import express, { type Express, type RequestHandler } from 'express';
import type { LiveEvents } from '../events/live-events.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { admitSubmissions, type AdmissionOptions, screenBody } from './admission.js';
import { bearerAuth } from './auth.js';
import { chain } from './chain.js';
import { directRoutes } from './direct-routes.js';
import { jsonBody } from './body.js';
import { batchesRouter } from './batches-router.js';
import { serveApiDocument, swaggerUiRouter } from './docs.js';
import { errorWriter, notFoundHandler } from './error-writer.js';
import { jobActionsRouter } from './job-actions.js';
import { jobOutputRouter } from './job-output-router.js';
import { eventsRouter } from './events-router.js';
import { jobHandler, jobsRouter } from './jobs-router.js';
import { type DeadLetterSource, notificationsRouter } from './notifications-router.js';
import { ndjsonBatches } from './ndjson-batches.js';
import { opsPageRouter } from './ops-page.js';
import { requestLog } from './request-log.js';
import { type ScheduleList, schedulesRouter } from './schedules.js';
import { cacheValidatorRoutes } from './route-cache.js';
import { cacheStaticRouteLookups } from './metadata-cache.js';
import { deferValidatorStartupWork } from './validator-startup.js';
import { openApiValidation } from './direct-validator.js';
import { skipBundlingLocalDocuments } from './validator-bundle.js';
import { submitHandler } from './submit.js';

export interface AppDependencies {
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
  /** The OpenAPI document (parsed), against which every request is validated. */
  apiDocument: object;
  /** Largest JSON body accepted, in bytes. */
  maxRequestBytes: number;
  /** The trust model and the bounds submissions are checked against. */
  admission: Omit<AdmissionOptions, 'trackedJobs'>;
  /** When set, every `/api` route requires `Authorization: Bearer <apiToken>`. */
  apiToken?: string;
  /** Serve Swagger UI at `/swaggerui`. */
  swaggerUi?: boolean;
  /** Serve the ops page at `/ops/`. */
  opsPage?: boolean;
  /** Also validate responses against the document (tests turn this on). */
  validateResponses?: boolean;
  /** Why the service cannot take new work now (the local store cannot write), answered by `/readyz` with 503. */
  notReady?: () => { status: string; cause: string; since: string; message: string } | undefined;
  /** The webhook's dead letters, when a webhook is configured. */
  deadLetters?: DeadLetterSource;
  /** The live event stream (`GET /api/v1/events`). */
  events: LiveEvents;
  /** The component's cron schedules (`GET /api/v1/schedules`); none when absent. */
  schedules?: ScheduleList;
}

/** Builds the HTTP app. It never listens: main.ts (or a test) does. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('validate responses', deps.validateResponses ?? false);
  app.use(requestLog(deps.logger, deps.metrics.http));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const fault = deps.notReady?.();
    if (fault) {
      res.status(503).json(fault);
      return;
    }
    const ready = deps.scheduler.isReady;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'starting' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  // One rule for the document and the UI: both are open, token or not. They describe the API (the same for every
  // instance) and hold no data; a browser could not send a bearer token for the UI's page anyway.
  if (deps.swaggerUi ?? true) app.use('/swaggerui', swaggerUiRouter(deps.apiDocument));
  if (deps.opsPage ?? true) app.use('/ops', opsPageRouter());
  serveApiDocument(app, '/api/v1', deps.apiDocument);
  if (deps.apiToken) app.use('/api', bearerAuth(deps.apiToken));
  const admission = {
    ...deps.admission,
    trackedJobs: () => deps.scheduler.trackedJobs,
    answersKnownKey: (key: string | undefined, batchId?: string) => deps.scheduler.answersKnownKey(key, batchId),
  };
  app.post('/api/v1/batches', ndjsonBatches({ scheduler: deps.scheduler, apiDocument: deps.apiDocument, maxBytes: deps.maxRequestBytes, admission }));
  cacheValidatorRoutes();
  cacheStaticRouteLookups();
  deferValidatorStartupWork();
  skipBundlingLocalDocuments();
  // The checks every API request goes through, in this order, as one layer of the app's router (chain.ts).
  app.use(
    '/api',
    chain(
      jsonBody({ maxBytes: deps.maxRequestBytes }),
      onlyPost(screenBody(deps.admission.limits)),
      openApiValidation({
        apiSpec: structuredClone(deps.apiDocument) as never,
        // allErrors: every bad item of a batch is reported; screenBody has already bounded the batch's size.
        validateRequests: { allowUnknownQueryParameters: false, allErrors: true },
        validateResponses: deps.validateResponses ?? false,
        // The document ships with the code and is checked by `npm run lint:api` and by every test app (which
        // validates responses); checking it against the OpenAPI schema again costs each start about a third of its CPU.
        validateApiSpec: deps.validateResponses ?? false,
        validateSecurity: false,
        ignoreUndocumented: false,
      }),
      onlyPost(admitSubmissions(admission)),
      // The answers asked most, straight to the handlers their routers below would call.
      directRoutes({
        'POST /api/v1/jobs': submitHandler(deps.scheduler, 'job'),
        'POST /api/v1/batches': submitHandler(deps.scheduler, 'batch'),
        'GET /api/v1/jobs/{jobName}': jobHandler(deps.scheduler),
      }),
    ),
  );
  app.use('/api/v1/jobs', jobsRouter(deps.scheduler));
  app.use('/api/v1/jobs', jobOutputRouter(deps.scheduler));
  app.use('/api/v1/batches', batchesRouter(deps.scheduler));
  app.use('/api/v1/notifications', notificationsRouter(deps.deadLetters));
  app.use('/api/v1/schedules', schedulesRouter(deps.schedules));
  app.use('/api/v1', eventsRouter(deps.scheduler, deps.events));
  // Last of the API's routers: their paths are theirs alone, and reads and submissions need not be matched against them first.
  app.use('/api/v1', jobActionsRouter(deps.scheduler, admission));
  app.use(notFoundHandler);
  app.use(errorWriter(deps.logger, deps.apiDocument));
  return app;
}

/** Reads carry no body to screen: they skip the submission checks without a promise or a route match. */
function onlyPost(handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST') return handler(req, res, next);
    next();
  };
}
