import http from 'node:http';
import https from 'node:https';
import { type KubeConfig, PatchStrategy, type RequestContext, type SecurityAuthentication, ServerConfiguration, createConfiguration, setHeaderOptions } from '@kubernetes/client-node';
import type { TokenBucket } from './rate-limit.js';

type AgentOptions = Record<string, unknown>;

const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  return false;
};

/** Whether two agents would open the same kind of connection (same CA, client certificate, server name…). */
function sameOptions(a: AgentOptions, b: AgentOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((key) => key !== 'keepAlive' && key !== 'path'));
  return [...keys].every((key) => sameValue(a[key], b[key]));
}

/**
 * The kubeconfig's authentication, with connections kept open between requests.
 *
 * client-node 1.x builds a new agent for every request, so every request opens a new connection (and, to
 * a real API server, does a new TLS handshake). This applies the kubeconfig's credentials exactly as
 * `makeApiClient` would (headers, token refresh, TLS options), then swaps the fresh agent for one
 * keep-alive agent with the same options; a new one replaces it only when those options change (a
 * rotated client certificate, say). Proxy agents are left as they come.
 *
 * Every request of the API clients (and of `DirectCreate`) is authenticated here just before it is sent, so
 * this is also where it waits for the client-side rate limit, when there is one.
 */
export class PooledAuthentication implements SecurityAuthentication {
  private pooled: { options: AgentOptions; agent: http.Agent } | undefined;
  /** The headers the kubeconfig last added, reused until `until` (see `reuseMs`). */
  private recent: { headers: Record<string, string>; until: number } | undefined;
  private readonly reuseMs: number;
  private readonly now: () => number;

  /**
   * `reuseMs`: how long one reading of the kubeconfig's credentials serves further requests (default 1 s). Reading
   * them builds a throwaway agent per request, which a CPU profile of a 10,000-job batch showed; credentials
   * (a refreshed token file, an exec plugin's, a rotated client certificate) change on a scale of minutes.
   */
  constructor(private readonly kubeConfig: KubeConfig, private readonly rateLimit?: TokenBucket, options: { reuseMs?: number; now?: () => number } = {}) {
    this.reuseMs = options.reuseMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  getName(): string {
    return 'kubeconfig authentication, pooled connections';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.rateLimit?.take();
    const now = this.now();
    if (this.pooled && this.recent && now < this.recent.until) {
      for (const [name, value] of Object.entries(this.recent.headers)) context.setHeaderParam(name, value);
      context.setAgent(this.pooled.agent);
      return;
    }
    const before = { ...context.getHeaders() };
    await this.kubeConfig.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    this.recent = undefined;
    if (!fresh || (fresh.constructor !== https.Agent && fresh.constructor !== http.Agent)) return;
    const options = (fresh as http.Agent & { options: AgentOptions }).options;
    if (!this.pooled || this.pooled.agent.constructor !== fresh.constructor || !sameOptions(this.pooled.options, options)) {
      this.pooled?.agent.destroy();
      const Agent = fresh.constructor as typeof http.Agent;
      this.pooled = { options, agent: new Agent({ ...options, keepAlive: true }) };
    }
    fresh.destroy();
    context.setAgent(this.pooled.agent);
    const headers = Object.fromEntries(Object.entries(context.getHeaders()).filter(([name, value]) => before[name] !== value));
    this.recent = { headers, until: now + this.reuseMs };
  }

  /** Closes the kept connections. */
  close(): void {
    this.pooled?.agent.destroy();
    this.pooled = undefined;
    this.recent = undefined;
  }
}

/** An API client of the kubeconfig's current cluster, like `kubeConfig.makeApiClient`, over pooled connections. */
export function makePooledApiClient<T>(kubeConfig: KubeConfig, authentication: PooledAuthentication, ApiClient: new (configuration: ReturnType<typeof createConfiguration>) => T): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new ApiClient(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: authentication } }));
}

/** Request options that send a patch as a JSON merge patch (RFC 7386): maps merge key by key, so other writers' keys stay. */
export const MERGE_PATCH_OPTIONS = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
