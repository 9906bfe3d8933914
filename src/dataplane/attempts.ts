// One request's hold on upstream endpoints across its attempts: which endpoint it uses, whether that
// endpoint counts it in flight, and the affinity cookie to set. Shared by the HTTP/1.1 and HTTP/2
// exchanges so that selection, retries and passive-health accounting cannot drift apart (issue 6).

import { settle, type BackendGroup, type Endpoint, type EndpointEvent } from './backends.ts';
import type { ForwardContext } from './forward-headers.ts';
import type { RequestHead } from './http1/request-head.ts';
import { selectEndpoint, type RuntimePolicy } from './route-policy.ts';

export class Attempts {
  /** The endpoint of the current (or last) attempt. */
  endpoint: Endpoint | null = null;
  /** Attempts made for this request. */
  count = 0;
  /** Set-Cookie line for affinity ('' for none). */
  setCookie = '';
  #inflight = false;

  /** A new request. The previous one must have been released. */
  reset(): void {
    this.endpoint = null;
    this.count = 0;
    this.setCookie = '';
    this.#inflight = false;
  }

  /** Picks an endpoint (never the one that failed last) and counts this request in flight on it; null when none is left. */
  next(group: BackendGroup | undefined, policy: RuntimePolicy, req: RequestHead, ctx: ForwardContext, now: number): Endpoint | null {
    const sel = group === undefined ? null : selectEndpoint(group, policy, req, ctx, now, this.endpoint);
    if (sel === null) return null;
    // The cookie of the attempt that answers wins (a retry re-pins affinity to the new endpoint).
    if (sel.setCookie !== '' || this.count === 0) this.setCookie = sel.setCookie;
    this.#claim(sel.endpoint);
    return sel.endpoint;
  }

  /** The same endpoint once more: a stale pooled connection is no fault of the endpoint. */
  again(ep: Endpoint): void {
    this.#claim(ep);
  }

  #claim(ep: Endpoint): void {
    this.endpoint = ep;
    ep.inflight++;
    this.#inflight = true;
    this.count++;
  }

  /** Ends the current claim (at most once), recording the outcome for passive health and EWMA. */
  release(group: string, outcome: 'ok' | 'failed' | 'aborted', rttMs: number, now: number, reason: string): EndpointEvent | null {
    const ep = this.endpoint;
    if (ep === null || !this.#inflight) return null;
    this.#inflight = false;
    return settle(ep, group, outcome, rttMs, now, reason);
  }
}
