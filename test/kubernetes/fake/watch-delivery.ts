/**
 * Watch events delivered late, per resource, as a loaded API server (or a slow network) delivers them: a
 * write is visible to GET and LIST at once while the watch tells it after a delay. Order is kept per watch.
 */
export class WatchDelivery {
  private readonly delays = new Map<string, number>();
  private readonly queues = new Set<DeliveryQueue>();

  /** From now on, events of `resource` reach watchers `ms` later; `Infinity` holds them until `release`. */
  setDelay(resource: string, ms: number): void {
    this.delays.set(resource, ms);
  }

  /** Delivers every held or delayed event of `resource` now, and the later ones at once. */
  release(resource: string): void {
    this.delays.delete(resource);
    for (const queue of this.queues) if (queue.resource === resource) queue.dueNow();
  }

  /** A writer for one watch of `resource`: lines go out in order, each when its delay has passed. */
  open(resource: string, write: (line: string) => void): { push(line: string): void; close(): void } {
    const queue = new DeliveryQueue(resource, write, () => this.delays.get(resource) ?? 0);
    this.queues.add(queue);
    return {
      push: (line) => queue.push(line),
      close: () => {
        queue.close();
        this.queues.delete(queue);
      },
    };
  }
}

class DeliveryQueue {
  private readonly items: Array<{ line: string; due: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly resource: string, private readonly write: (line: string) => void, private readonly delay: () => number) {}

  push(line: string): void {
    if (this.closed) return;
    const delay = this.delay();
    if (delay === 0 && this.items.length === 0) return this.write(line);
    this.items.push({ line, due: Date.now() + delay });
    this.pump();
  }

  dueNow(): void {
    for (const item of this.items) item.due = 0;
    this.pump();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.items.length = 0;
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    while (!this.closed && this.items.length > 0 && this.items[0]!.due <= now) this.write(this.items.shift()!.line);
    const next = this.items[0];
    if (!this.closed && next && Number.isFinite(next.due)) this.timer = setTimeout(() => this.pump(), next.due - now);
  }
}
