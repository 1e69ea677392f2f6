import { type RequestHandler, Router } from 'express';
import type { Scheduler } from '../scheduler/scheduler.js';
import { listParams, setNext } from './list-params.js';
import { submitHandler } from './submit.js';

/** `/api/v1/jobs`: single jobs. */
export function jobsRouter(scheduler: Scheduler): Router {
  const router = Router();
  router.post('/', submitHandler(scheduler, 'job'));
  router.get('/', (req, res) => {
    const page = scheduler.listJobsPage(listParams(req));
    setNext(res, page.next);
    res.json(page.items);
  });
  router.post('/stop', async (_req, res) => {
    res.json(await scheduler.stopAllJobs());
  });
  router.get('/:jobName', jobHandler(scheduler));
  router.delete('/:jobName', async (req, res) => {
    res.json(await scheduler.deleteJob(req.params.jobName));
  });
  router.post('/:jobName/stop', async (req, res) => {
    res.json(await scheduler.stopJob(req.params.jobName));
  });
  return router;
}

/** `GET /api/v1/jobs/{jobName}`. */
export function jobHandler(scheduler: Scheduler): RequestHandler {
  return (req, res) => {
    res.json(scheduler.getJob(req.params.jobName as string));
  };
}
