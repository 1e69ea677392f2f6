import { Router } from 'express';
import { ApiError } from '../core/errors.js';
import { SUFFIX_LENGTH } from '../core/naming.js';
import type { LiveEvents } from '../events/live-events.js';
import type { EventFilter } from '../events/sse-reader.js';
import { timelineView } from '../events/timeline-view.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/** `/api/v1`: a job's status timeline, and the live event stream (Server-Sent Events). */
export function eventsRouter(scheduler: Scheduler, events: LiveEvents): Router {
  const router = Router();
  router.get('/jobs/:jobName/timeline', (req, res) => {
    res.json(timelineView(req.params.jobName, scheduler.jobTimeline(req.params.jobName)));
  });
  router.get('/events', (req, res) => {
    const query = req.query as { batch?: string; job?: string; lastEventId?: string };
    const filter: EventFilter = {};
    if (query.batch !== undefined) {
      if (!scheduler.hasBatch(query.batch)) throw ApiError.notFound('batch', query.batch);
      filter.batch = query.batch;
    }
    if (query.job !== undefined) {
      scheduler.getJob(query.job);
      // A job is named `<batchName>-<suffix>`.
      const batch = query.job.slice(0, -(SUFFIX_LENGTH + 1));
      if (filter.batch !== undefined && batch !== filter.batch) throw ApiError.notFound('job', `${query.job} in the batch ${filter.batch}`);
      filter.job = { name: query.job, batch };
    }
    const lastEventId = req.get('last-event-id') || query.lastEventId || undefined;
    events.follow(res, filter, lastEventId);
  });
  return router;
}
