import { ApiFailure, getJson, query } from './api.js';
import { badge, h, link, replace, table, when } from './dom.js';
import { type JobCounts, progressBar } from './progress.js';
import { Pager, type View } from './view.js';

const PAGE = 25;

interface Batch {
  name: string;
  batchId?: string;
  status: string;
  created: string;
  ended: string | null;
  jobCounts?: JobCounts;
}

interface Job {
  name: string;
  jobId?: string;
  status: string;
  created: string;
  ended: string | null;
}

/** The first screen: batches with their progress, and single jobs. Lists are oldest first, as the API answers. */
export function overview(): View {
  const batches = h('div', { class: 'list' });
  const jobs = h('div', { class: 'list' });
  const batchPager = new Pager(() => void refreshBatches());
  const jobPager = new Pager(() => void refreshJobs());
  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h2', { id: 'view-title', tabindex: '-1' }, 'Batches and jobs'),
    h('h3', {}, 'Batches'),
    batches,
    batchPager.element,
    h('h3', {}, 'Single jobs'),
    jobs,
    jobPager.element,
  );

  async function refreshBatches(): Promise<void> {
    const page = await read<Batch[]>('/api/v1/batches', batchPager);
    batchPager.update(page.next);
    replace(
      batches,
      page.body.length === 0
        ? h('p', {}, 'No batches.')
        : table(
            'Batches, oldest first',
            ['Batch', 'Batch id', 'Status', 'Progress', 'Created'],
            page.body.map((b) => [link(`batches/${b.name}`, b.name), b.batchId ?? '', badge(b.status), b.jobCounts ? progressBar(b.jobCounts) : '', when(b.created)]),
          ),
    );
  }

  async function refreshJobs(): Promise<void> {
    const page = await read<Job[]>('/api/v1/jobs', jobPager);
    jobPager.update(page.next);
    replace(
      jobs,
      page.body.length === 0
        ? h('p', {}, 'No single jobs.')
        : table(
            'Single jobs, oldest first',
            ['Job', 'Job id', 'Status', 'Created', 'Ended'],
            page.body.map((j) => [link(`jobs/${j.name}`, j.name), j.jobId ?? '', badge(j.status), when(j.created), when(j.ended)]),
          ),
    );
  }

  return {
    element,
    refresh: async () => {
      await Promise.all([refreshBatches(), refreshJobs()]);
    },
    concerns: () => true,
    close: () => undefined,
  };
}

/** A page of a list; a `continue` token that has expired (410) starts again from the first page. */
export async function read<T>(path: string, pager: Pager, params: Record<string, string> = {}): Promise<{ body: T; next: string | null }> {
  try {
    return await getJson<T>(path + query({ ...params, limit: PAGE, continue: pager.current }));
  } catch (error) {
    if (!(error instanceof ApiFailure) || error.code !== 410 || pager.current === undefined) throw error;
    pager.reset();
    return getJson<T>(path + query({ ...params, limit: PAGE }));
  }
}
