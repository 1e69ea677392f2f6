import { api, failure, getJson, post } from './api.js';
import { badge, h, link, replace, table, when } from './dom.js';
import { actionButton, describe, type View } from './view.js';

interface Job {
  name: string;
  jobId?: string;
  batchName?: string;
  status: string;
  created: string;
  started: string | null;
  ended: string | null;
  message?: string;
  failed: number;
  podStatuses: unknown[];
}

interface Timeline {
  dropped: number;
  complete: boolean;
  timeline: Array<{ time: string; status: string; reason: string; message: string | null; attempt: number | null }>;
}

/** One job: its state, stop and restart, its timeline, its effective settings and its live log. */
export function jobView(name: string): View {
  const base = `/api/v1/jobs/${encodeURIComponent(name)}`;
  const back = h('p', {});
  const state = h('p', {});
  const outcome = h('p', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const timeline = h('div', { class: 'list' });
  const settings = h('pre', { class: 'settings', tabindex: '0', 'aria-label': 'Effective settings (JSON)' });
  const logState = h('p', { id: 'log-state', role: 'status' });
  const log = h('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-labelledby': 'log-title', 'aria-describedby': 'log-state' });
  let job: Job | undefined;
  // The attempt whose log is streamed (or was read to its end), so a refresh starts a stream only for a new attempt.
  let following: { attempt: number; ended: boolean } | undefined;
  let streaming: AbortController | undefined;

  // A job of a batch is stopped and restarted through its batch; a single job through its own routes.
  const target = () => (job?.batchName ? `/api/v1/batches/${encodeURIComponent(job.batchName)}/jobs/${encodeURIComponent(name)}` : base);
  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    back,
    h('h2', { id: 'view-title', tabindex: '-1' }, `Job ${name}`),
    state,
    h(
      'div',
      { class: 'actions' },
      actionButton('Stop job', outcome, async () => (await post(`${target()}/stop`), 'Stop asked.'), refresh),
      actionButton('Restart job', outcome, async () => (await post(`${target()}/restart`), 'Restarted: the job is waiting to run again.'), refresh),
    ),
    outcome,
    h('h3', {}, 'Timeline'),
    timeline,
    h('h3', {}, 'Effective settings'),
    settings,
    h('h3', { id: 'log-title' }, 'Log'),
    logState,
    log,
  );

  async function refresh(): Promise<void> {
    const [read, times, effective] = await Promise.all([
      getJson<Job>(base),
      getJson<Timeline>(`${base}/timeline`),
      settings.textContent ? undefined : getJson<unknown>(`${base}/settings`),
    ]);
    job = read.body;
    replace(back, job.batchName ? link(`batches/${job.batchName}`, `← Batch ${job.batchName}`) : link('', '← All batches'));
    replace(state, badge(job.status), ` created ${when(job.created)}, started ${when(job.started)}, ended ${when(job.ended)}, failed attempts ${job.failed}`, job.message ? `. ${job.message}` : '');
    const rows = times.body.timeline.map((t) => [when(t.time), badge(t.status), t.reason, t.message ?? '', t.attempt ?? '']);
    const note = times.body.dropped > 0 ? ` (${times.body.dropped} transitions left out)` : '';
    replace(timeline, table(`Transitions, oldest first${note}`, ['Time', 'Status', 'Reason', 'Message', 'Attempt'], rows));
    if (effective) settings.textContent = JSON.stringify(effective.body, null, 2);
    const attempt = job.podStatuses.length - 1;
    if (attempt >= 0 && (following?.attempt !== attempt || (!following.ended && !streaming))) void followLog(attempt);
    if (attempt < 0) logState.textContent = 'No log yet: the job has not started.';
  }

  async function followLog(attempt: number): Promise<void> {
    streaming?.abort();
    const controller = new AbortController();
    streaming = controller;
    following = { attempt, ended: false };
    log.textContent = '';
    logState.textContent = `Following the log of attempt ${attempt}…`;
    try {
      const response = await api(`${base}/logs?follow=true&attempt=${attempt}`, { signal: controller.signal });
      if (!response.ok) throw await failure(response);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        log.append(decoder.decode(value, { stream: true }));
      }
      following.ended = true;
      logState.textContent = `End of the log of attempt ${attempt}.`;
    } catch (error) {
      if (!controller.signal.aborted) logState.textContent = `The log of attempt ${attempt} cannot be read: ${describe(error)}`;
    } finally {
      if (streaming === controller) streaming = undefined;
    }
  }

  return {
    element,
    refresh,
    concerns: (batchName, jobName) => jobName === name || (jobName === undefined && batchName === job?.batchName),
    close: () => streaming?.abort(),
  };
}
