import { Router } from 'express';
import { ApiError, summarizeProblems } from '../core/errors.js';
import { checkTrackedJobs, EMPTY_EXEC_SIZE, execProblems, overlayExecSize } from '../core/limits.js';
import type { JobDescription } from '../core/model.js';
import { overrideProblems } from '../core/trust.js';
import type { BatchCopy, CopyChecks } from '../scheduler/job-actions.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { AdmissionOptions } from './admission.js';

/**
 * Restart, rerun-failed and copy: `/api/v1/jobs/{jobName}/restart|copy`, `/api/v1/batches/{batchName}/restart|
 * rerun-failed|copy` and `/api/v1/batches/{batchName}/jobs/{jobName}/restart`. A copy's overrides are checked as a
 * submission's are (the trust model, the per-job bounds, the tracked-jobs bound).
 */
export function jobActionsRouter(scheduler: Scheduler, admission: AdmissionOptions): Router {
  const router = Router();
  const inherited = overlayExecSize(EMPTY_EXEC_SIZE, admission.component);
  const checks: CopyChecks = {
    beforeAccept: (jobs) => checkTrackedJobs(admission.trackedJobs(), jobs, admission.limits, admission.retryAfterSeconds),
    // A copy runs what its original ran beyond the component's settings: that must still be a client's to set.
    inherited: (description, prefix) => {
      const trust = overrideProblems(description, admission.policy, prefix)
        .map((problem) => ({ ...problem, message: `the copy would keep this from the original job, and it ${problem.message}; submit a new job instead` }));
      if (trust.length > 0) throw ApiError.invalid(summarizeProblems(trust), trust);
    },
  };
  const checkOverride = (layer: JobDescription | undefined, prefix: string) => {
    if (!layer) return;
    const trust = overrideProblems(layer, admission.policy, prefix);
    if (trust.length > 0) throw ApiError.invalid(summarizeProblems(trust), trust);
    const size = execProblems(layer, overlayExecSize(inherited, layer), admission.limits, prefix);
    if (size.length > 0) throw ApiError.payloadTooLarge(summarizeProblems(size), size);
  };
  router.post('/jobs/:jobName/restart', async (req, res) => {
    res.json(await scheduler.restartJob(req.params.jobName));
  });
  router.post('/jobs/:jobName/copy', async (req, res) => {
    const override = (req.body ?? {}) as JobDescription;
    checkOverride(override, '');
    res.json(await scheduler.copyJob(req.params.jobName, override, checks));
  });
  router.post('/batches/:batchName/restart', async (req, res) => {
    res.json(await scheduler.restartBatch(req.params.batchName));
  });
  router.post('/batches/:batchName/rerun-failed', async (req, res) => {
    res.json(await scheduler.rerunFailedJobs(req.params.batchName));
  });
  router.post('/batches/:batchName/copy', async (req, res) => {
    const copy = (req.body ?? {}) as BatchCopy;
    checkOverride(copy.defaultRadixJobComponentConfig, 'defaultRadixJobComponentConfig.');
    res.json(await scheduler.copyBatch(req.params.batchName, copy, checks));
  });
  router.post('/batches/:batchName/jobs/:jobName/restart', async (req, res) => {
    res.json(await scheduler.restartBatchJob(req.params.batchName, req.params.jobName));
  });
  return router;
}
