// Runtime backend groups built from the routing table's plain `backends`: ready endpoints, their
// live state (in-flight requests, latency, passive health) and the load-balancing policies
// (issue 6 items 1, 2, 3 and 5). Every pick is O(1) or O(log n).

import { createHash } from 'node:crypto';
import type { RecordDelta } from '../snapshot/delta.ts';
import type { BackendTable, LoadBalancePolicy } from '../snapshot/table.ts';
import { hash32 } from './hash.ts';

export interface Endpoint {
  host: string;
  port: number;
  /** `host:port` (IPv6 in brackets): the upstream pool key. */
  key: string;
  /** Deterministic affinity cookie value: every replica maps it to this endpoint (issue 6 item 3). */
  cookie: string;
  inflight: number;
  /** Peak-EWMA response time in ms (0 until measured). */
  ewma: number;
  ewmaAt: number;
  /** Consecutive failures (connect refused/timeout, no response). */
  failures: number;
  /** Passive health: not picked before this time (ms). */
  ejectedUntil: number;
  /** Current ejection back-off (ms), doubled on each ejection, reset on success. */
  backoff: number;
}

/** Passive health: ejected after this many consecutive failures (nginx max_fails=1 is too jumpy for retries). */
export const MAX_FAILS = 2;
export const MIN_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 60_000;
/** EWMA decay time constant (ingress-nginx peak EWMA uses 10 s). */
const EWMA_TAU_MS = 10_000;
/** Virtual nodes per endpoint on the consistent-hash ring. */
const RING_POINTS = 160;

export type EndpointEvent = { kind: 'ejected' | 'returned'; group: string; endpoint: string; backoffMs: number; reason: string };

export class BackendGroup {
  readonly id: string;
  readonly endpoints: Endpoint[];
  readonly problem: string | null;
  #next = 0;
  #ring: Uint32Array | null = null;
  #ringOwner: Uint16Array | null = null;
  #byCookie: Map<string, Endpoint> | null = null;

  /** `registry` shares one live-state object per endpoint across groups and table swaps. */
  constructor(id: string, table: BackendTable, registry: Map<string, Endpoint>) {
    this.id = id;
    this.problem = table.problem;
    this.endpoints = table.endpoints.map((e) => {
      const key = e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
      let ep = registry.get(key);
      if (ep === undefined) {
        ep = {
          host: e.address, port: e.port, key,
          cookie: createHash('sha1').update(key).digest('hex').slice(0, 16),
          inflight: 0, ewma: 0, ewmaAt: 0, failures: 0, ejectedUntil: 0, backoff: 0,
        };
        registry.set(key, ep);
      }
      return ep;
    });
  }

  sameAs(t: BackendTable): boolean {
    if (t.problem !== this.problem || t.endpoints.length !== this.endpoints.length) return false;
    for (let i = 0; i < t.endpoints.length; i++) {
      if (t.endpoints[i].address !== this.endpoints[i].host || t.endpoints[i].port !== this.endpoints[i].port) return false;
    }
    return true;
  }

  /** An endpoint by policy, skipping ejected ones (unless all are), or null when there is none (503). */
  pick(policy: LoadBalancePolicy, now: number, exclude: Endpoint | null = null): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    // A retry never goes back to the endpoint that just failed (nginx's proxy_next_upstream neither).
    if (n === 1) return eps[0] === exclude ? null : eps[0];
    switch (policy) {
      case 'round_robin':
        for (let tries = 0; tries < n; tries++) {
          const e = eps[this.#next];
          this.#next = this.#next + 1 >= n ? 0 : this.#next + 1;
          if (e !== exclude && e.ejectedUntil <= now) return e;
        }
        return this.#anyBut(exclude);
      case 'random':
        return this.#random(now, exclude);
      case 'least_request':
      case 'ewma': {
        // Power of two choices: two random candidates, the less loaded wins (O(1), no herding).
        const a = this.#random(now, exclude);
        if (a === null) return null;
        // The second candidate is drawn from the others, so two distinct endpoints are compared.
        const b = this.#randomOther(now, exclude, a);
        if (b === null) return a;
        return policy === 'least_request' ? (b.inflight < a.inflight ? b : a) : (score(b, now) < score(a, now) ? b : a);
      }
    }
  }

  #random(now: number, exclude: Endpoint | null): Endpoint | null {
    const eps = this.endpoints;
    for (let tries = 0; tries < 4; tries++) {
      const e = eps[(Math.random() * eps.length) | 0];
      if (e !== exclude && e.ejectedUntil <= now) return e;
    }
    // Few healthy endpoints left: scan from a random start.
    const start = (Math.random() * eps.length) | 0;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[(start + i) % eps.length];
      if (e !== exclude && e.ejectedUntil <= now) return e;
    }
    return this.#anyBut(exclude);
  }

  /** A random healthy endpoint other than `a` (and `exclude`), or null. */
  #randomOther(now: number, exclude: Endpoint | null, a: Endpoint): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    const start = (Math.random() * n) | 0;
    for (let i = 0; i < n; i++) {
      const e = eps[(start + i) % n];
      if (e !== a && e !== exclude && e.ejectedUntil <= now) return e;
    }
    return null;
  }

  /** Everything is ejected (or excluded): still try one rather than fail the request outright. */
  #anyBut(exclude: Endpoint | null): Endpoint | null {
    const eps = this.endpoints;
    let best: Endpoint | null = null;
    // (the scan below prefers the endpoint whose ejection ends first)
    for (const e of eps) if (e !== exclude && (best === null || e.ejectedUntil < best.ejectedUntil)) best = e;
    return best;
  }

  /** Consistent hashing (upstream-hash-by, balanced affinity): removing one of N endpoints moves ~1/N of keys. */
  pickByHash(key: string, now: number): Endpoint | null {
    const eps = this.endpoints;
    if (eps.length === 0) return null;
    if (this.#ring === null) this.#buildRing();
    const ring = this.#ring!;
    const owner = this.#ringOwner!;
    const h = hash32(key);
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    // Walk clockwise past ejected endpoints.
    for (let i = 0; i < ring.length; i += 1) {
      const e = eps[owner[(lo + i) % ring.length]];
      if (e.ejectedUntil <= now) return e;
      if (i > RING_POINTS * 4) break;
    }
    return eps[owner[lo % ring.length]];
  }

  #buildRing(): void {
    const eps = this.endpoints;
    const points: Array<[number, number]> = [];
    eps.forEach((e, i) => {
      for (let v = 0; v < RING_POINTS; v++) points.push([hash32(`${e.key}-${v}`), i]);
    });
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.#ring = Uint32Array.from(points, (p) => p[0]);
    this.#ringOwner = Uint16Array.from(points, (p) => p[1]);
  }

  /** The endpoint a persistent affinity cookie names, if it still exists. */
  byCookie(value: string): Endpoint | undefined {
    if (this.#byCookie === null) this.#byCookie = new Map(this.endpoints.map((e) => [e.cookie, e]));
    return this.#byCookie.get(value);
  }
}

/** Peak EWMA score: latency estimate times load, as ingress-nginx's ewma balancer does. */
function score(e: Endpoint, now: number): number {
  const decayed = e.ewma === 0 ? 0 : e.ewma * Math.exp(-(now - e.ewmaAt) / EWMA_TAU_MS);
  return (decayed + 1) * (e.inflight + 1);
}

/**
 * Ends an exchange's claim on its endpoint: the in-flight count drops and the outcome feeds passive
 * health (and EWMA when `rttMs` >= 0). Returns an event when the endpoint was ejected or returned.
 */
export function settle(e: Endpoint, group: string, outcome: 'ok' | 'failed' | 'aborted', rttMs: number, now: number, reason: string): EndpointEvent | null {
  e.inflight--;
  const event = outcome === 'ok' ? recordSuccess(e, rttMs, now) : outcome === 'failed' ? recordFailure(e, now, reason) : null;
  if (event !== null) event.group = group;
  return event;
}

/** Records a finished exchange: latency for EWMA; success ends an ejection back-off. */
export function recordSuccess(e: Endpoint, rttMs: number, now: number): EndpointEvent | null {
  if (rttMs >= 0) {
    if (e.ewma === 0 || rttMs > e.ewma) e.ewma = rttMs; // peak: jump up at once
    else {
      const w = Math.exp(-(now - e.ewmaAt) / EWMA_TAU_MS);
      e.ewma = e.ewma * w + rttMs * (1 - w);
    }
    e.ewmaAt = now;
  }
  const wasEjected = e.backoff > 0;
  e.failures = 0;
  if (!wasEjected) return null;
  e.backoff = 0;
  e.ejectedUntil = 0;
  return { kind: 'returned', group: '', endpoint: e.key, backoffMs: 0, reason: 'answered again' };
}

/** Records a failure; returns an ejection event when the endpoint is taken out for a back-off. */
export function recordFailure(e: Endpoint, now: number, reason: string): EndpointEvent | null {
  // Requests already in flight when the endpoint was ejected fail too: that is not new evidence.
  if (now < e.ejectedUntil) return null;
  e.failures++;
  if (e.failures < MAX_FAILS && e.backoff === 0) return null;
  e.backoff = e.backoff === 0 ? MIN_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, e.backoff * 2);
  e.ejectedUntil = now + e.backoff;
  e.failures = 0;
  return { kind: 'ejected', group: '', endpoint: e.key, backoffMs: e.backoff, reason };
}

/** How many groups use each endpoint (key): what patchGroups keeps current. */
export function countEndpointUses(groups: ReadonlyMap<string, BackendGroup>): Map<string, number> {
  const uses = new Map<string, number>();
  for (const g of groups.values()) for (const e of g.endpoints) uses.set(e.key, (uses.get(e.key) ?? 0) + 1);
  return uses;
}

/**
 * Applies a delta of backend tables to `groups` in place, as buildGroups would build them from the whole
 * table (unchanged groups kept, so their balancing state is too): a change costs its backends, not all
 * 10,000 (issue 4 item 10). `uses` (from countEndpointUses) and the registry stay current; returns
 * whether an endpoint left the configuration (its idle connections should go).
 */
export function patchGroups(groups: Map<string, BackendGroup>, d: RecordDelta<BackendTable>, registry: Map<string, Endpoint>, uses: Map<string, number>): boolean {
  const replaced: BackendGroup[] = [];
  for (const id in d.set) {
    const b = d.set[id];
    const prev = groups.get(id);
    if (prev !== undefined && prev.sameAs(b)) continue;
    const g = new BackendGroup(id, b, registry);
    for (const e of g.endpoints) uses.set(e.key, (uses.get(e.key) ?? 0) + 1);
    if (prev !== undefined) replaced.push(prev);
    groups.set(id, g);
  }
  for (const id of d.del) {
    const prev = groups.get(id);
    if (prev === undefined) continue;
    replaced.push(prev);
    groups.delete(id);
  }
  // Released after the new groups took theirs, so an endpoint that moved between groups stays.
  let left = false;
  for (const g of replaced) {
    for (const e of g.endpoints) {
      const n = (uses.get(e.key) ?? 1) - 1;
      if (n > 0) uses.set(e.key, n);
      else {
        uses.delete(e.key);
        registry.delete(e.key);
        left = true;
      }
    }
  }
  return left;
}

/**
 * Runtime groups for a table's backends. Unchanged groups are kept (balancer position too); endpoint
 * state lives in `registry`, so an endpoint keeps its load and health across swaps; unused entries
 * are dropped from the registry (exchanges still running keep their own reference).
 */
export function buildGroups(backends: Record<string, BackendTable>, previous: Map<string, BackendGroup> | undefined, registry: Map<string, Endpoint>): Map<string, BackendGroup> {
  const m = new Map<string, BackendGroup>();
  for (const [id, b] of Object.entries(backends)) {
    const prev = previous?.get(id);
    m.set(id, prev !== undefined && prev.sameAs(b) ? prev : new BackendGroup(id, b, registry));
  }
  const used = new Set<string>();
  for (const g of m.values()) for (const e of g.endpoints) used.add(e.key);
  for (const k of registry.keys()) if (!used.has(k)) registry.delete(k);
  return m;
}
