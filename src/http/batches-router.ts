import { Router } from 'express';
import type { Scheduler } from '../scheduler/scheduler.js';
import { listParams, setNext } from './list-params.js';
import { submitHandler } from './submit.js';

/** `/api/v1/batches`: batches and the jobs in them. */
export function batchesRouter(scheduler: Scheduler): Router {
  const router = Router();
  router.post('/', submitHandler(scheduler, 'batch'));
  router.get('/', (req, res) => {
    const page = scheduler.listBatchesPage(listParams(req));
    setNext(res, page.next);
    res.json(page.items);
  });
  router.post('/stop', async (_req, res) => {
    res.json(await scheduler.stopAllBatches());
  });
  router.get('/:batchName', (req, res) => {
    const { items: text, next } = scheduler.getBatchPage(req.params.batchName, listParams(req));
    setNext(res, next);
    // With response validation on (tests), the validator must see the object it checks.
    if (req.app.get('validate responses')) res.json(JSON.parse(text));
    else res.type('application/json').send(text);
  });
  router.delete('/:batchName', async (req, res) => {
    res.json(await scheduler.deleteBatch(req.params.batchName));
  });
  router.post('/:batchName/stop', async (req, res) => {
    res.json(await scheduler.stopBatch(req.params.batchName));
  });
  router.get('/:batchName/jobs/:jobName', (req, res) => {
    res.json(scheduler.getBatchJob(req.params.batchName, req.params.jobName));
  });
  router.post('/:batchName/jobs/:jobName/stop', async (req, res) => {
    res.json(await scheduler.stopBatchJob(req.params.batchName, req.params.jobName));
  });
  return router;
}
