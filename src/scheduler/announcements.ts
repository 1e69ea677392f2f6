/**
 * What the listeners (webhook, live events) are told of a batch whose `Create` is not told yet is held until it
 * is. A large batch is indexed and its view built over several turns of the event loop; a stop or a delete that
 * reaches it meanwhile (a client that listed it, a stop of every batch) would otherwise be told before the batch
 * exists for them.
 */
export class Announcements {
  private readonly held = new Map<string, Array<() => void>>();

  /** The batch enters the index now; its `Create` is told later. */
  begin(batchName: string): void {
    this.held.set(batchName, []);
  }

  /** Tells at once, or after the batch's `Create` when that is not told yet. */
  tell(batchName: string, tell: () => void): void {
    const held = this.held.get(batchName);
    if (held) held.push(tell);
    else tell();
  }

  /** The batch's `Create` was told (or never will be): what was held is told, in order. */
  end(batchName: string): void {
    const held = this.held.get(batchName);
    this.held.delete(batchName);
    for (const tell of held ?? []) tell();
  }
}
