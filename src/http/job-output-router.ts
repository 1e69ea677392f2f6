import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Scheduler } from '../scheduler/scheduler.js';

/** A query value the validator has checked against the document; it may arrive as a string. */
function integer(value: unknown): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** `/api/v1/jobs/{jobName}/...`: what a job (single or in a batch) printed, was given, and runs with. */
export function jobOutputRouter(scheduler: Scheduler): Router {
  const router = Router();
  router.get('/:jobName/logs', async (req, res) => {
    const reader = new AbortController();
    res.once('close', () => reader.abort());
    const follow = String(req.query.follow) === 'true';
    const log = await scheduler.output.log(req.params.jobName, { attempt: integer(req.query.attempt), tail: integer(req.query.tail), follow, signal: reader.signal });
    res.type('text/plain; charset=utf-8');
    // A followed log is sent as it comes: no proxy buffering, no caching.
    if (follow) res.set({ 'cache-control': 'no-store', 'x-accel-buffering': 'no' }).flushHeaders();
    // Once the first byte is sent the status is 200: a failure after it can only cut the response short.
    await pipeline(log, res).catch(() => res.destroy());
  });
  router.get('/:jobName/settings', (req, res) => {
    res.json(scheduler.output.settings(req.params.jobName));
  });
  router.get('/:jobName/payload', async (req, res) => {
    const payload = await scheduler.output.payload(req.params.jobName);
    res.type('text/plain; charset=utf-8').send(payload);
  });
  return router;
}
