// Elements are built with text nodes only (never innerHTML): names, ids, labels and logs come from clients.

type Child = Node | string | number | null | undefined | false;

/** Attributes of {@link h}: plain attributes, plus `on<event>` listeners. */
export type Props = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A time for people: local, to the second; `—` when not reached yet. */
export function when(time: string | null | undefined): string {
  if (!time) return '—';
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** A status as a badge (its colour comes from the style sheet, its meaning from the text). */
export function badge(status: string): HTMLSpanElement {
  return h('span', { class: `badge status-${status}` }, status);
}

/** A table with a caption, column headers and rows. */
export function table(caption: string, headers: string[], rows: Child[][]): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
  );
}

/** A link to a view of the page. */
export function link(view: string, text: string): HTMLAnchorElement {
  return h('a', { href: `#/${view}` }, text);
}
