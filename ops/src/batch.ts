import { post } from './api.js';
import { badge, h, link, replace, table, when } from './dom.js';
import { read } from './overview.js';
import { bar, JOB_STATUSES, type JobCounts, summary } from './progress.js';
import { actionButton, Pager, type View } from './view.js';

interface BatchJob {
  name: string;
  jobId?: string;
  status: string;
  started: string | null;
  ended: string | null;
  message?: string;
  podStatuses: unknown[];
}

interface Batch {
  name: string;
  batchId?: string;
  status: string;
  created: string;
  ended: string | null;
  labels?: Record<string, string>;
  jobCounts?: JobCounts;
  jobStatuses?: BatchJob[];
}

/** One batch: its progress, stop / restart / rerun-failed, and its jobs with filters and pages. */
export function batchView(name: string): View {
  const base = `/api/v1/batches/${encodeURIComponent(name)}`;
  const state = h('p', {});
  const barHolder = h('div', { class: 'progress' });
  // One element for the life of the view: a live region announces changes only if it stays in the document.
  const progress = h('p', { class: 'progress-text', role: 'status', 'aria-live': 'polite', id: 'batch-progress' });
  const outcome = h('p', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const jobs = h('div', { class: 'list' });
  const pager = new Pager(() => void refresh());

  const status = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'any'), ...JOB_STATUSES.map((s) => h('option', { value: s }, s)));
  const jobId = h('input', { id: 'filter-job-id', name: 'jobId', type: 'search', autocomplete: 'off' });
  const labels = h('input', { id: 'filter-labels', name: 'labelSelector', type: 'search', autocomplete: 'off', placeholder: 'team=vision,stage in (train,eval)' });
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter the jobs' },
    h('label', { for: 'filter-status' }, 'Status'),
    status,
    h('label', { for: 'filter-job-id' }, 'Job id'),
    jobId,
    h('label', { for: 'filter-labels' }, 'Label selector'),
    labels,
    h('button', { type: 'submit' }, 'Apply filters'),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    pager.reset();
    void refresh();
  });

  const act = (label: string, path: string, done: (batch: Batch) => string) =>
    actionButton(label, outcome, async () => done(await post<Batch>(`${base}/${path}`)), refresh);
  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('p', {}, link('', '← All batches')),
    h('h2', { id: 'view-title', tabindex: '-1' }, `Batch ${name}`),
    state,
    barHolder,
    progress,
    h(
      'div',
      { class: 'actions' },
      act('Stop batch', 'stop', () => 'Stop asked: every job that has not ended is being stopped.'),
      act('Restart batch', 'restart', (b) => `Restart asked: ${waiting(b, 'the jobs that had ended')} to run again.`),
      act('Rerun failed jobs', 'rerun-failed', (b) => `Rerun asked: ${waiting(b, 'the failed and stopped jobs')} to run again.`),
    ),
    outcome,
    h('h3', {}, 'Jobs'),
    filters,
    jobs,
    pager.element,
  );

  async function refresh(): Promise<void> {
    const params = { status: status.value, jobId: jobId.value.trim(), labelSelector: labels.value.trim() };
    const { body, next } = await read<Batch>(base, pager, params);
    pager.update(next);
    const labelText = Object.entries(body.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    replace(state, badge(body.status), ` created ${when(body.created)}, ended ${when(body.ended)}`, body.batchId ? `, batch id ${body.batchId}` : '', labelText ? `, labels ${labelText}` : '');
    const counts = body.jobCounts ?? {};
    replace(barHolder, bar(counts));
    const text = summary(counts);
    if (progress.textContent !== text) progress.textContent = text;
    const rows = (body.jobStatuses ?? []).map((j) => [link(`jobs/${j.name}`, j.name), j.jobId ?? '', badge(j.status), j.podStatuses.length, when(j.started), when(j.ended), j.message ?? '']);
    replace(jobs, rows.length === 0 ? h('p', {}, 'No jobs match.') : table('Jobs of the batch', ['Job', 'Job id', 'Status', 'Attempts', 'Started', 'Ended', 'Message'], rows));
  }

  return { element, refresh, concerns: (batchName) => batchName === name, close: () => undefined };
}

/** How many jobs now wait, when the answer says; otherwise which ones, without claiming a number. */
function waiting(batch: Batch, which: string): string {
  const count = batch.jobCounts?.Waiting ?? batch.jobStatuses?.filter((j) => j.status === 'Waiting').length;
  return count === undefined ? `${which} wait` : `${count} ${count === 1 ? 'job waits' : 'jobs wait'}`;
}
