/** Requests in flight at once, and requests made slow on purpose, so tests can see what a client sends in parallel. */

export interface SlowRule {
  verb?: string;
  resource?: string;
  /** The client (bearer token; '' is the runtime). */
  user?: string;
  delayMs: number;
}

export class Traffic {
  private readonly inFlight = new Map<string, number>();
  private readonly highest = new Map<string, number>();
  private readonly slowRules: SlowRule[] = [];

  /** Counts a request as started; the returned function counts it as ended. */
  begin(user: string, verb: string, resource: string): () => void {
    const key = `${user} ${verb} ${resource}`;
    const now = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, now);
    this.highest.set(key, Math.max(now, this.highest.get(key) ?? 0));
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight.set(key, this.inFlight.get(key)! - 1);
    };
  }

  /** The most requests of one client, verb and resource that were in flight at the same time so far. */
  maxInFlight(options: { verb: string; resource: string; user?: string }): number {
    return this.highest.get(`${options.user ?? ''} ${options.verb} ${options.resource}`) ?? 0;
  }

  slow(rule: SlowRule | undefined): void {
    if (rule) this.slowRules.push(rule);
    else this.slowRules.length = 0;
  }

  delayFor(user: string, verb: string, resource: string): number {
    const rule = this.slowRules.find((r) => (r.verb === undefined || r.verb === verb) && (r.resource === undefined || r.resource === resource) && (r.user === undefined || r.user === user));
    return rule?.delayMs ?? 0;
  }
}
