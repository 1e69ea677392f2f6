import { ApiFailure } from './api.js';
import { h } from './dom.js';

/** One screen of the page. */
export interface View {
  /** The view's element, put in `<main>` once. */
  element: HTMLElement;
  /** Reads again what it shows (on load, after an action, and when a live event concerns it). */
  refresh(): Promise<void>;
  /** Whether a live event about this batch (and job) concerns the view. */
  concerns(batchName: string, jobName: string | undefined): boolean;
  /** Stops what it streams. */
  close(): void;
}

/** A message for people from anything thrown. */
export function describe(error: unknown): string {
  if (error instanceof ApiFailure) return `${error.message} (${error.code} ${error.reason})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A button that runs an action, says what came of it in `outcome` (a live region), then refreshes the view.
 * It is disabled while the action runs, so a double click does not send it twice.
 */
export function actionButton(label: string, outcome: HTMLElement, run: () => Promise<string>, after: () => Promise<void>): HTMLButtonElement {
  const button = h('button', { type: 'button' }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    outcome.textContent = `${label}…`;
    try {
      outcome.textContent = await run();
    } catch (error) {
      outcome.textContent = `${label} failed: ${describe(error)}`;
    } finally {
      button.disabled = false;
    }
    await after().catch(() => undefined);
  });
  return button;
}

/**
 * Paging with `limit` and `X-Continue`: the token of each page read so far, so "Previous" goes back without the
 * service keeping anything.
 */
export class Pager {
  private readonly tokens: Array<string | undefined> = [undefined];
  private next: string | null = null;
  // Made once and updated in place, so keyboard focus stays on a button while pages change.
  private readonly previous = h('button', { type: 'button', disabled: true }, 'Previous page');
  private readonly following = h('button', { type: 'button', disabled: true }, 'Next page');
  private readonly label = h('span', {}, 'Page 1');
  readonly element = h('nav', { class: 'pager', 'aria-label': 'Pages' }, this.previous, this.label, this.following);

  constructor(onChange: () => void) {
    this.previous.addEventListener('click', () => {
      if (this.tokens.length > 1) this.tokens.pop();
      onChange();
    });
    this.following.addEventListener('click', () => {
      if (this.next === null) return;
      this.tokens.push(this.next);
      onChange();
    });
  }

  /** The `continue` token of the page shown. */
  get current(): string | undefined {
    return this.tokens.at(-1);
  }

  /** Back to the first page (after a filter changes, or when a token has expired). */
  reset(): void {
    this.tokens.length = 1;
  }

  /** Updates the buttons for the page just read, given its `X-Continue`. */
  update(next: string | null): void {
    this.next = next;
    this.previous.disabled = this.tokens.length === 1;
    this.following.disabled = next === null;
    this.label.textContent = `Page ${this.tokens.length}`;
  }
}
