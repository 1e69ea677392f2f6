import { h } from './dom.js';

/** How many of a batch's jobs are in each status (`jobCounts`). */
export type JobCounts = Record<string, number>;

/** In the order a job goes through them; ended ones last, so the bar fills from the right as work ends. */
export const JOB_STATUSES = ['Waiting', 'Active', 'Running', 'Stopping', 'Succeeded', 'Failed', 'Stopped'];
const ENDED = new Set(['Succeeded', 'Failed', 'Stopped']);

/** "3 of 4 jobs ended: 2 Succeeded, 1 Failed; 1 Running". */
export function summary(counts: JobCounts): string {
  const total = JOB_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
  const ended = [...ENDED].reduce((sum, status) => sum + (counts[status] ?? 0), 0);
  const part = (statuses: string[]) => statuses.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`).join(', ');
  const done = part(JOB_STATUSES.filter((s) => ENDED.has(s)));
  const open = part(JOB_STATUSES.filter((s) => !ENDED.has(s)));
  return `${ended} of ${total} ${total === 1 ? 'job' : 'jobs'} ended${done ? `: ${done}` : ''}${open ? `; ${open}` : ''}`;
}

/**
 * A bar by status. The segments' widths are set through the CSS object model, which the page's
 * Content-Security-Policy allows (style attributes in markup it does not). Hidden from screen readers: the summary
 * beside it says the same.
 */
export function bar(counts: JobCounts): HTMLElement {
  const total = JOB_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
  const element = h('div', { class: 'bar', 'aria-hidden': 'true' });
  for (const status of JOB_STATUSES) {
    const count = counts[status] ?? 0;
    if (count === 0) continue;
    const segment = h('span', { class: `segment status-${status}`, title: `${count} ${status}` });
    segment.style.flexGrow = String(count / Math.max(1, total));
    element.appendChild(segment);
  }
  return element;
}

/** The bar with its summary as text. */
export function progressBar(counts: JobCounts): HTMLElement {
  return h('div', { class: 'progress' }, bar(counts), h('p', { class: 'progress-text' }, summary(counts)));
}
