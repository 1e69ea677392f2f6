import { batchView } from './batch.js';
import { replace } from './dom.js';
import { followEvents, type LiveEvent } from './events.js';
import { jobView } from './job.js';
import { overview } from './overview.js';
import { describe, type View } from './view.js';

// Names the service gives (DNS-1123); anything else in the address is not looked up.
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
// Live events come in bursts (a batch of thousands of jobs): the view reads again at most this often.
const REFRESH_GAP_MS = 500;

const main = document.getElementById('view')!;
const alert = document.getElementById('alert')!;
const live = document.getElementById('live-state')!;
let view: View | undefined;
let refreshing: Promise<void> | undefined;
let again = false;

function viewFor(hash: string): View | string {
  const [, kind, name] = /^#\/(batches|jobs)\/(.+)$/.exec(hash) ?? [];
  if (!kind || !name) return overview();
  const decoded = decodeURIComponent(name);
  if (!NAME.test(decoded)) return `“${decoded.slice(0, 80)}” is not a batch or job name.`;
  return kind === 'batches' ? batchView(decoded) : jobView(decoded);
}

function show(): void {
  view?.close();
  const next = viewFor(location.hash);
  if (typeof next === 'string') {
    view = undefined;
    replace(main);
    alert.textContent = next;
    return;
  }
  view = next;
  replace(main, next.element);
  alert.textContent = '';
  void refresh().then(() => next.element.querySelector<HTMLElement>('h2')?.focus());
}

/** Reads the view again; calls while a read runs make one more read after it, never a pile of them. */
function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  const current = view;
  refreshing = (async () => {
    try {
      await current?.refresh();
      if (current === view) alert.textContent = '';
    } catch (error) {
      if (current === view) alert.textContent = `Could not read from the service: ${describe(error)}`;
    }
    await new Promise((resolve) => setTimeout(resolve, REFRESH_GAP_MS));
  })().finally(() => {
    refreshing = undefined;
    if (again) {
      again = false;
      void refresh();
    }
  });
  return refreshing;
}

function onEvent(event: LiveEvent): void {
  if (event.type === 'Reset' || event.type === 'Resume') {
    void refresh();
    return;
  }
  try {
    const data = JSON.parse(event.data) as { name?: string; jobStatuses?: Array<{ name: string }> };
    const jobName = event.type === 'Update' ? data.jobStatuses?.[0]?.name : undefined;
    if (view?.concerns(data.name ?? '', jobName)) void refresh();
  } catch {
    // Not an event this page knows: nothing to update.
  }
}

const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
// Without a token nothing can be read; closing the question with Escape would leave the page waiting forever.
dialog.addEventListener('cancel', (event) => event.preventDefault());
window.addEventListener('hashchange', show);
show();
void followEvents({
  onEvent,
  onConnection: (connected) => {
    live.textContent = connected ? 'Live updates on' : 'Live updates reconnecting…';
    if (connected) void refresh();
  },
  signal: new AbortController().signal,
});
