import { Router } from 'express';
import type { ScheduleView } from '../scheduler/schedules.js';

/** What the schedules route reads: the schedule runner. */
export interface ScheduleList {
  list(): ScheduleView[];
}

/** `/api/v1/schedules`: the component's cron schedules, with their last and next tick. */
export function schedulesRouter(schedules: ScheduleList | undefined): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.json(schedules?.list() ?? []);
  });
  return router;
}
