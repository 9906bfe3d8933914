// Runtime backend groups built from the routing table's plain `backends`: ready endpoints and the
// balancer state. Round-robin for now (issue 2); the policy slots in here (issue 6).

import type { BackendTable } from '../snapshot/table.ts';

export interface Endpoint {
  host: string;
  port: number;
  /** `host:port` (IPv6 in brackets): the upstream pool key. */
  key: string;
}

export class BackendGroup {
  readonly id: string;
  readonly endpoints: Endpoint[];
  readonly problem: string | null;
  #next = 0;

  constructor(id: string, table: BackendTable) {
    this.id = id;
    this.problem = table.problem;
    this.endpoints = table.endpoints.map((e) => ({
      host: e.address,
      port: e.port,
      key: e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`,
    }));
  }

  sameAs(t: BackendTable): boolean {
    if (t.problem !== this.problem || t.endpoints.length !== this.endpoints.length) return false;
    for (let i = 0; i < t.endpoints.length; i++) {
      if (t.endpoints[i].address !== this.endpoints[i].host || t.endpoints[i].port !== this.endpoints[i].port) return false;
    }
    return true;
  }

  /** The next endpoint in round-robin order, or null when there is none (503). */
  pick(): Endpoint | null {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return null;
    const i = this.#next;
    this.#next = i + 1 >= n ? 0 : i + 1;
    return eps[i];
  }

  /** Another endpoint than `not`, for a retry; null when there is no other. */
  pickOther(not: Endpoint): Endpoint | null {
    if (this.endpoints.length < 2) return null;
    let e = this.pick();
    if (e === not) e = this.pick();
    return e;
  }
}

/** Runtime groups for a table's backends; a group whose endpoints did not change is kept (balancer state too). */
export function buildGroups(backends: Record<string, BackendTable>, previous?: Map<string, BackendGroup>): Map<string, BackendGroup> {
  const m = new Map<string, BackendGroup>();
  for (const [id, b] of Object.entries(backends)) {
    const prev = previous?.get(id);
    m.set(id, prev !== undefined && prev.sameAs(b) ? prev : new BackendGroup(id, b));
  }
  return m;
}
